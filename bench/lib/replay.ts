import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { log, ms } from './env';
import { IMPLS, PROGRESS, UNTIL_HANDLING, send, type Impl, type Starter } from './paths';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

export interface ReplayRow {
  target: number;
  events: Record<Impl, number>;
  ms: Record<Impl, number>;
  perRound: Record<Impl, number>[];
  ratio: number;
}

/**
 * Measurement 4: histories of about 100, 1,000 and 5,000 events. Each instance goes to `handling`
 * and then loops there with PROGRESS (a self-transition that appends to the context) until its
 * history has the events wanted; both implementations get the same events. The histories are
 * fetched from Temporal and replayed with Worker.runReplayHistories (the bench bundle, the payload
 * codec), `copies` at a time so the replay worker's start-up is shared; rounds alternate.
 */
export async function replayCost(client: Client, start: Starter, opts: { sizes: number[]; rounds: number; copies: number; prefix: string; bundles: Record<Impl, { code: string }>; codec: PayloadCodec }): Promise<ReplayRow[]> {
  const histories = new Map<string, History>();
  const lengths: Record<string, number> = {};
  await Promise.all(
    opts.sizes.flatMap((size) =>
      IMPLS.map(async (impl) => {
        const id = `${opts.prefix}/${impl}/${size}`;
        const h = await start(impl, id);
        for (const ev of UNTIL_HANDLING) await send(h, ev);
        let len = Number((await h.describe()).historyLength);
        // About 8 or 9 history events per PROGRESS; start high so the first batch undershoots, then refine.
        let perEvent = 16;
        while (len < size) {
          const batch = Math.max(1, Math.floor((size - len) / perEvent));
          for (let k = 0; k < batch; k++) await send(h, PROGRESS);
          const now = Number((await h.describe()).historyLength);
          perEvent = Math.max(1, (now - len) / batch);
          len = now;
        }
        const history = await h.fetchHistory();
        histories.set(`${impl}/${size}`, history);
        lengths[`${impl}/${size}`] = history.events?.length ?? 0;
        log(`replay: ${impl} history of ${lengths[`${impl}/${size}`]} events built`);
      }),
    ),
  );

  const replay = async (impl: Impl, size: number): Promise<number> => {
    const history = histories.get(`${impl}/${size}`) as History;
    const copies = Array.from({ length: opts.copies }, (_, k) => ({ workflowId: `${impl}-${size}-${k}`, history }));
    const t0 = process.hrtime.bigint();
    for await (const r of Worker.runReplayHistories({ workflowBundle: { code: opts.bundles[impl].code }, dataConverter: { payloadCodecs: [opts.codec] } }, copies)) {
      if (r.error) throw new Error(`replay of the ${impl} history (${size}) failed: ${r.error.message}`);
    }
    return ms(t0) / opts.copies;
  };

  const rows: ReplayRow[] = [];
  for (const size of opts.sizes) {
    for (const impl of IMPLS) await replay(impl, size); // warm-up
    const perRound: Record<Impl, number>[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 === 0 ? IMPLS : [...IMPLS].reverse();
      const round = {} as Record<Impl, number>;
      for (const impl of order) round[impl] = Math.round((await replay(impl, size)) * 10) / 10;
      perRound.push(round);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const m = { interpreter: median(perRound.map((x) => x.interpreter)), 'hand-written': median(perRound.map((x) => x['hand-written'])) };
    rows.push({
      target: size,
      events: { interpreter: lengths[`interpreter/${size}`], 'hand-written': lengths[`hand-written/${size}`] },
      ms: m,
      perRound,
      ratio: Math.round((m.interpreter / m['hand-written']) * 100) / 100,
    });
    log(`replay ${size}: interpreter ${m.interpreter} ms, hand-written ${m['hand-written']} ms`);
  }
  return rows;
}

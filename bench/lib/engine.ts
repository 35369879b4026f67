import { cpuSeconds, dist, ms, pool, log, type Dist } from './env';
import { IMPLS, ISSUE_PATH, send, type Impl, type Starter } from './paths';

export interface EngineRound {
  round: number;
  impl: Impl;
  processes: number;
  seconds: number;
  perSecond: number;
  /** CPU milliseconds per process in the implementation's worker process and in the Temporal server. */
  workerCpuMs: number;
  serverCpuMs: number;
}

export interface EngineResult {
  n: number;
  concurrency: number;
  rounds: EngineRound[];
  byImpl: Record<Impl, { processes: number; seconds: number; perSecond: number; workerCpuMs: number; serverCpuMs: number; start: Dist; event: Dist; process: Dist }>;
  ratio: { throughput: number; eventP50: number; eventP99: number; startP50: number; startP99: number };
}

/**
 * Measurement 1: the issue path (start, six events by Update, completion) N times per
 * implementation at a fixed concurrency, in rounds that alternate which implementation goes first.
 */
export async function engineOverhead(start: Starter, opts: { n: number; concurrency: number; rounds: number; prefix: string; pids: { workers: Record<Impl, number | undefined>; server?: number } }): Promise<EngineResult> {
  const per = Math.ceil(opts.n / opts.rounds);
  const lat: Record<Impl, { start: number[]; event: number[]; process: number[] }> = { interpreter: { start: [], event: [], process: [] }, 'hand-written': { start: [], event: [], process: [] } };
  const rounds: EngineRound[] = [];
  // Warm-up: a few of each, not counted (JIT, connections, the worker's first bundle load).
  for (const impl of IMPLS) await pool(opts.concurrency, opts.concurrency, (i) => one(impl, `${opts.prefix}/warm/${impl}/${i}`).then(() => undefined));
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const impl of order) {
      const t0 = process.hrtime.bigint();
      const cpu0 = { worker: cpuSeconds(opts.pids.workers[impl]), server: cpuSeconds(opts.pids.server) };
      await pool(per, opts.concurrency, async (i) => {
        const l = await one(impl, `${opts.prefix}/${impl}/${r}/${i}`);
        lat[impl].start.push(l.start);
        lat[impl].event.push(...l.events);
        lat[impl].process.push(l.process);
      });
      const seconds = ms(t0) / 1000;
      const workerCpuMs = Math.round(((cpuSeconds(opts.pids.workers[impl]) - cpu0.worker) * 1000) / per);
      const serverCpuMs = Math.round(((cpuSeconds(opts.pids.server) - cpu0.server) * 1000) / per);
      rounds.push({ round: r + 1, impl, processes: per, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round((per / seconds) * 100) / 100, workerCpuMs, serverCpuMs });
      log(`engine round ${r + 1}/${opts.rounds} ${impl}: ${per} processes in ${seconds.toFixed(1)} s = ${(per / seconds).toFixed(1)}/s; CPU per process: worker ${workerCpuMs} ms, Temporal ${serverCpuMs} ms`);
    }
  }

  async function one(impl: Impl, id: string): Promise<{ start: number; events: number[]; process: number }> {
    const t0 = process.hrtime.bigint();
    const h = await start(impl, id);
    const startMs = ms(t0);
    const events: number[] = [];
    for (const ev of ISSUE_PATH) {
      const t = process.hrtime.bigint();
      await send(h, ev);
      events.push(ms(t));
    }
    await h.result();
    return { start: startMs, events, process: ms(t0) };
  }

  const byImpl = {} as EngineResult['byImpl'];
  for (const impl of IMPLS) {
    const mine = rounds.filter((x) => x.impl === impl);
    const processes = mine.reduce((s, x) => s + x.processes, 0);
    const seconds = mine.reduce((s, x) => s + x.seconds, 0);
    const avg = (k: 'workerCpuMs' | 'serverCpuMs') => Math.round(mine.reduce((s, x) => s + x[k] * x.processes, 0) / processes);
    byImpl[impl] = { processes, seconds: Math.round(seconds * 10) / 10, perSecond: Math.round((processes / seconds) * 100) / 100, workerCpuMs: avg('workerCpuMs'), serverCpuMs: avg('serverCpuMs'), start: dist(lat[impl].start), event: dist(lat[impl].event), process: dist(lat[impl].process) };
  }
  const i = byImpl.interpreter;
  const h = byImpl['hand-written'];
  const q = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    n: per * opts.rounds,
    concurrency: opts.concurrency,
    rounds,
    byImpl,
    ratio: { throughput: q(i.perSecond, h.perSecond), eventP50: q(i.event.p50, h.event.p50), eventP99: q(i.event.p99, h.event.p99), startP50: q(i.start.p50, h.start.p50), startP99: q(i.start.p99, h.start.p99) },
  };
}

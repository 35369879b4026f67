import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { CompiledDefinition } from '../../engine/compile';
import { applyEvent, startInstance, type Instance } from '../../engine/engine';
import { formatLocal } from '../../engine/time';
import { log } from './env';
import { ISSUE_INPUT, ISSUE_PATH } from './paths';

export interface TransitionResult {
  transitionsPerRound: number;
  rounds: number;
  interpreterUs: number;
  xstateUs: number;
  ratio: number;
  perRound: { interpreterUs: number; xstateUs: number }[];
}

/**
 * Measurement 3: the issue definition compiled once; one transition through the interpreter's
 * engine (engine/engine.ts applyEvent: acceptance and data checks, the XState transition,
 * entry times, deadlines, effects) against XState's own `transition` on the same machine and the
 * same events. Only the transition calls are timed.
 */
export function transitionCost(def: CompiledDefinition, opts: { paths: number; rounds: number }): TransitionResult {
  const at0 = Date.parse('2026-11-25T09:00:00+08:00');
  const engineRound = () => {
    let total = 0n;
    for (let p = 0; p < opts.paths; p++) {
      let inst: Instance = startInstance(def, { input: ISSUE_INPUT, grid: 'grid-03', businessKey: `issue/2026-${p}`, at: at0 }).instance;
      ISSUE_PATH.forEach((ev, k) => {
        const e = { type: ev.type, data: ev.data, at: at0 + (k + 1) * 60_000, actor: 'bench' };
        const t = process.hrtime.bigint();
        inst = applyEvent(def, inst, e).instance;
        total += process.hrtime.bigint() - t;
      });
    }
    return Number(total) / 1000 / (opts.paths * ISSUE_PATH.length);
  };
  const xstateRound = () => {
    let total = 0n;
    for (let p = 0; p < opts.paths; p++) {
      let [snap] = initialTransition(def.machine, { input: ISSUE_INPUT, grid: 'grid-03', day: '2026-11-25', businessKey: `issue/2026-${p}` }) as [AnyMachineSnapshot, unknown];
      ISSUE_PATH.forEach((ev, k) => {
        const e = { type: ev.type, data: ev.data ?? {}, at: formatLocal(at0 + (k + 1) * 60_000, def.zone), actor: 'bench' };
        const t = process.hrtime.bigint();
        [snap] = transition(def.machine, snap, e as never) as [AnyMachineSnapshot, unknown];
        total += process.hrtime.bigint() - t;
      });
      if (snap.status !== 'done') throw new Error(`the XState path ended in ${JSON.stringify(snap.value)}`);
    }
    return Number(total) / 1000 / (opts.paths * ISSUE_PATH.length);
  };
  engineRound();
  xstateRound();
  const perRound: { interpreterUs: number; xstateUs: number }[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const pair = r % 2 === 0 ? { interpreterUs: engineRound(), xstateUs: xstateRound() } : (() => {
      const xstateUs = xstateRound();
      return { interpreterUs: engineRound(), xstateUs };
    })();
    perRound.push({ interpreterUs: Math.round(pair.interpreterUs * 10) / 10, xstateUs: Math.round(pair.xstateUs * 10) / 10 });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const interpreterUs = median(perRound.map((x) => x.interpreterUs));
  const xstateUs = median(perRound.map((x) => x.xstateUs));
  log(`transition: interpreter ${interpreterUs} us, XState ${xstateUs} us`);
  return { transitionsPerRound: opts.paths * ISSUE_PATH.length, rounds: opts.rounds, interpreterUs, xstateUs, ratio: Math.round((interpreterUs / xstateUs) * 10) / 10, perRound };
}

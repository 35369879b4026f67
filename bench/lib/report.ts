import type { ApiPathResult, ReadApiResult } from './api';
import type { EngineResult } from './engine';
import type { LoadResult } from './load';
import type { MemoryResult } from './memory';
import type { ReplayRow } from './replay';
import type { TransitionResult } from './transition';

/** What one engine bench run measured, as bench/results/*.json keeps it. */
export interface EngineBenchResults {
  at: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; os: string; postgres: string; temporalCli: string; /** One-minute load average when the run began, and when it ended. */ load?: { began: number; ended?: number } };
  /** The run's sizes (BENCH_* variables or their defaults). */
  config: Record<string, number | number[]>;
  minutes?: number;
  transition?: TransitionResult;
  engine?: EngineResult;
  api?: ApiPathResult;
  /** The same path one process at a time: latency without queueing. */
  apiIdle?: ApiPathResult;
  /** One at a time with a pause before each event, as people use it. */
  apiPaced?: ApiPathResult;
  replay?: ReplayRow[];
  memory?: MemoryResult;
  read?: ReadApiResult;
  load?: LoadResult;
}

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d }));
const ok = (met: boolean) => (met ? 'yes' : '**no**');

/** The Markdown table of an engine bench run: each figure, its same-run baseline, the ratio, the target. */
export function renderTable(r: EngineBenchResults): string {
  const m = r.machine;
  const lines = [
    `Engine bench, ${r.at.slice(0, 10)}${r.quick ? ' (quick run)' : ''}: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; Node ${m.node}; ${m.postgres}; ${m.temporalCli} (dev server, ${process.env.BENCH_TEMPORAL_FILE === '1' ? 'SQLite file' : 'in-memory SQLite'}). ` +
      `${m.load ? `Load average (1 min) ${f(m.load.began, 2)} when the run began${m.load.ended !== undefined ? `, ${f(m.load.ended, 2)} when it ended` : ''} (the bench itself keeps the machine busy). ` : ''}Each figure's baseline ran in the same run, interleaved. Run time ${r.minutes ?? '?'} min. Details: [bench/README.md](bench/README.md).`,
    '',
    '| # | measurement | gridflow | baseline | ratio | target | met |',
    '| --- | --- | ---: | ---: | ---: | --- | :---: |',
  ];
  const row = (n: string, what: string, g: string, b: string, ratio: string, target = '', met = '') => lines.push(`| ${n} | ${what} | ${g} | ${b} | ${ratio} | ${target} | ${met} |`);
  const e = r.engine;
  if (e) {
    const i = e.byImpl.interpreter;
    const h = e.byImpl['hand-written'];
    row('1', `issue path, ${e.n.toLocaleString('en')} processes each, concurrency ${e.concurrency}: completed / s`, f(i.perSecond), f(h.perSecond), f(e.ratio.throughput, 2), '>= 0.9 x hand-written', ok(e.ratio.throughput >= 0.9));
    row('1', 'start latency p50 / p99 (ms)', `${f(i.start.p50)} / ${f(i.start.p99)}`, `${f(h.start.p50)} / ${f(h.start.p99)}`, `${f(e.ratio.startP50, 2)} / ${f(e.ratio.startP99, 2)}`);
    row('1', 'event (Update) latency p50 / p99 (ms)', `${f(i.event.p50)} / ${f(i.event.p99)}`, `${f(h.event.p50)} / ${f(h.event.p99)}`, `${f(e.ratio.eventP50, 2)} / ${f(e.ratio.eventP99, 2)}`);
    row('1', 'CPU per process: worker / Temporal server (ms)', `${i.workerCpuMs} / ${i.serverCpuMs}`, `${h.workerCpuMs} / ${h.serverCpuMs}`, `${f(i.workerCpuMs / h.workerCpuMs, 2)} / ${f(i.serverCpuMs / h.serverCpuMs, 2)}`);
    row('1', 'whole process p50 / p99 (ms)', `${f(i.process.p50, 0)} / ${f(i.process.p99, 0)}`, `${f(h.process.p50, 0)} / ${f(h.process.p99, 0)}`, f(i.process.p50 / h.process.p50, 2));
  }
  for (const a of [r.apiPaced, r.apiIdle, r.api]) {
    if (!a) continue;
    const load =
      a.concurrency === 1
        ? `one process at a time, ${a.processes} processes${a.pauseMs ? `, ${a.pauseMs} ms before each event` : ', events back to back'}`
        : `${a.processes} processes, concurrency ${a.concurrency}`;
    row('2', `via the API (${load}): event to state from the workflow p50 / p99 (ms)`, `${f(a.api.eventToWorkflowState.p50)} / ${f(a.api.eventToWorkflowState.p99)}`, `${f(a.baseline.event.p50)} / ${f(a.baseline.event.p99)}`, `${f(a.ratio.workflowP50, 2)} / ${f(a.ratio.workflowP99, 2)}`, 'p99 <= 100 ms', ok(a.api.eventToWorkflowState.p99 <= 100));
    row('2', `via the API (${load}): event to state in the read model p50 / p99 (ms)`, `${f(a.api.eventToReadModel.p50)} / ${f(a.api.eventToReadModel.p99)}`, `${f(a.baseline.event.p50)} / ${f(a.baseline.event.p99)}`, f(a.ratio.readModelP99, 2), 'p99 <= 1 s', ok(a.api.eventToReadModel.p99 <= 1000));
  }
  const t = r.transition;
  if (t) row('3', 'one transition of the issue machine (µs)', f(t.interpreterUs), f(t.xstateUs), f(t.ratio, 1), 'baseline: XState `transition`');
  for (const x of r.replay ?? []) {
    row('4', `replay a history of ${x.events.interpreter.toLocaleString('en')} / ${x.events['hand-written'].toLocaleString('en')} events (ms)`, f(x.ms.interpreter), f(x.ms['hand-written']), f(x.ratio, 2), '<= 1.5 x hand-written', ok(x.ratio <= 1.5));
  }
  const mem = r.memory;
  if (mem) {
    const i = mem.byImpl.interpreter;
    const h = mem.byImpl['hand-written'];
    i.perInstanceKb.forEach((p, k) => {
      const hp = h.perInstanceKb[k];
      const ip = i.points[k];
      row('5', `worker memory per parked instance at ${p.parked.toLocaleString('en')} (KB RSS; worker RSS MB)`, `${p.rssKb} (${f(ip.rssMb, 0)})`, hp ? `${hp.rssKb} (${f(h.points[k].rssMb, 0)})` : 'n/a', hp ? f(p.rssKb / hp.rssKb, 2) : 'n/a', '<= 1 MB each', ok(p.rssKb <= 1024 && !i.crashed));
    });
    row('5', `worker survived (sticky cache ${mem.maxCachedWorkflows.toLocaleString('en')})`, i.crashed ? 'crashed' : 'yes', h.crashed ? 'crashed' : 'yes', '', 'no crash', ok(!i.crashed));
  }
  const rd = r.read;
  if (rd) {
    const hz = rd.summary.healthz;
    for (const [k, label] of [['list', 'GET /api/processes'], ['detail', 'GET /api/processes/:id']] as const) {
      const s = rd.summary[k];
      row('6', `${label}, ${rd.instances.toLocaleString('en')} instances, ${rd.connections} connections: requests / s; p99 (ms)`, `${f(s.perSecond, 0)}; ${f(s.p99)}`, `${f(hz.perSecond, 0)}; ${f(hz.p99)}`, `${f(s.perSecond / hz.perSecond, 2)}; ${f(s.p99 / hz.p99, 1)}`, 'p99 <= 50 ms (baseline: /healthz)', ok(s.p99 <= 50 && s.errors === 0));
    }
  }
  if (r.load) lines.push('', ...renderLoad(r.load));
  return lines.join('\n');
}

const IMPL_LABEL: Record<string, string> = { interpreter: 'gridflow', 'hand-written': 'hand-written' };

/** Measurement 7: one row per store, implementation and design, the physical floor, and the targets of issue 14. */
function renderLoad(l: LoadResult): string[] {
  const lines = [
    `Closed loop through the API (measurement 7): ${l.issuesPerCell} issues per row, each started and taken through ${l.eventsPerIssue} events, ${l.lanes} lanes with their members' tokens, ` +
      `on the stack \`npm start\` builds (the dev server on a SQLite file; worker and API in their own processes); rows of a store interleaved in ${l.rounds} rounds, in an order where no row follows itself and each follows every other once; a row's CPU includes what the server finished after its turn. ` +
      `"Before" is the interpreter at ${l.beforeRev}; a request is a start or an event.`,
    '',
    '| store | implementation | design | processes / s | requests / s | event p50 / p99 (ms) | start p50 / p99 (ms) | Temporal CPU per request (ms) | worker / API / PostgreSQL / load generator CPU per request (ms) | Temporal writes per request (KB) | per event: workflow tasks / activity tasks / history events |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const storeLabel = (name: string) => {
    const pragmas = l.stores.find((s) => s.name === name)?.pragmas ?? [];
    return pragmas.length ? pragmas.join(' ') : "SQLite's defaults";
  };
  for (const c of l.cells) {
    const s = c.shape.perEvent;
    lines.push(
      `| ${storeLabel(c.store)} | ${IMPL_LABEL[c.impl]} | ${c.design === 'before' ? 'before issue 14' : 'now'} | ${f(c.processesPerSecond, 2)} | ${f(c.requestsPerSecond)} | ` +
        `${f(c.event.p50, 0)} / ${f(c.event.p99, 0)} | ${f(c.start.p50, 0)} / ${f(c.start.p99, 0)} | ${f(c.temporalCpuMs)} | ${f(c.workerCpuMs)} / ${f(c.apiCpuMs)} / ${f(c.postgresCpuMs)} / ${f(c.driverCpuMs)} | ${f(c.temporalWrittenKb, 0)} | ${s.workflowTasks} / ${s.activityTasks} / ${s.events} |`,
    );
  }
  lines.push(`| | | physical floor: one workflow task per event | | | | | | | | ${l.floor.workflowTasks} / ${l.floor.activityTasks} / ${l.floor.events} |`);
  const cell = (store: string, impl: string, design: string) => l.cells.find((c) => c.store === store && c.impl === impl && c.design === design);
  const today = cell('default', 'interpreter', 'before');
  const now = cell('tuned', 'interpreter', 'now');
  const hand = cell('tuned', 'hand-written', 'now');
  if (!today || !now) return lines;
  const x = (a: number, b: number) => f(a / b, 2);
  lines.push(
    '',
    `Targets of issue 14: gridflow now, on the store \`npm start\` now runs, against gridflow before issue 14 on SQLite's defaults (today), in the same run.`,
    '',
    '| target | today | now | ratio | met |',
    '| --- | ---: | ---: | ---: | :---: |',
    `| processes / s >= 2 x today's (issue 14 measured 2.44) | ${f(today.processesPerSecond, 2)} | ${f(now.processesPerSecond, 2)} | ${x(now.processesPerSecond, today.processesPerSecond)} | ${ok(now.processesPerSecond >= 2 * today.processesPerSecond)} |`,
    `| event p50 <= 200 ms | ${f(today.event.p50, 0)} | ${f(now.event.p50, 0)} | | ${ok(now.event.p50 <= 200)} |`,
    `| event p99 <= 600 ms | ${f(today.event.p99, 0)} | ${f(now.event.p99, 0)} | | ${ok(now.event.p99 <= 600)} |`,
    `| Temporal CPU per request <= 1/2 today's (ms) | ${f(today.temporalCpuMs)} | ${f(now.temporalCpuMs)} | ${x(now.temporalCpuMs, today.temporalCpuMs)} | ${ok(now.temporalCpuMs <= today.temporalCpuMs / 2)} |`,
    `| Temporal writes per request <= 1/4 today's (KB) | ${f(today.temporalWrittenKb, 0)} | ${f(now.temporalWrittenKb, 0)} | ${x(now.temporalWrittenKb, today.temporalWrittenKb)} | ${ok(now.temporalWrittenKb <= today.temporalWrittenKb / 4)} |`,
  );
  if (hand) lines.push(`| processes / s >= 0.95 x hand-written, both now | ${f(hand.processesPerSecond, 2)} (hand-written) | ${f(now.processesPerSecond, 2)} | ${x(now.processesPerSecond, hand.processesPerSecond)} | ${ok(now.processesPerSecond >= 0.95 * hand.processesPerSecond)} |`);
  return lines;
}

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { DefinitionService } from '../../services/definitions.service';
import { DEV_SERVER_SQLITE_PRAGMAS, ensureTemporalCli, startTemporalDevServer } from '../../infra/temporal';
import { childEnv, cpuSeconds, dist, forkChild, log, ms, postgresCpuSeconds, writtenBytes, type BenchEnv, type Child, type Dist } from './env';
import { httpClient, memberTokens, type HttpClient } from './http';
import { FIVE_EVENTS, ISSUE_INPUT, IMPLS, type Impl, type Who } from './paths';

/**
 * The design before issue 14 (each step projected by an ordinary activity, the state search
 * attribute upserted) or the one it built (a local activity in the step's workflow task, no upsert).
 */
export type Design = 'before' | 'now';
export const DESIGNS: Design[] = ['before', 'now'];

/** A Temporal dev-server store: its SQLite file with the pragmas it runs with. */
export interface Store {
  name: 'default' | 'tuned';
  pragmas: string[];
}
export const STORES: Store[] = [
  // What `npm start` ran before issue 14: SQLite's own rollback journal, synced on every commit.
  { name: 'default', pragmas: [] },
  // What `npm start` runs now; BENCH_TUNED_PRAGMAS (space-separated) tries others.
  { name: 'tuned', pragmas: process.env.BENCH_TUNED_PRAGMAS?.split(/\s+/).filter(Boolean) ?? DEV_SERVER_SQLITE_PRAGMAS },
];

/** A history's cost: workflow tasks, activity tasks and history events. */
export interface Shape {
  workflowTasks: number;
  activityTasks: number;
  events: number;
}
/** One workflow task that takes the event and answers it: scheduled, started, completed, update accepted, update completed. */
export const PHYSICAL_FLOOR: Shape = { workflowTasks: 1, activityTasks: 0, events: 5 };

export interface LoadCell {
  store: Store['name'];
  impl: Impl;
  design: Design;
  issues: number;
  requests: number;
  seconds: number;
  processesPerSecond: number;
  requestsPerSecond: number;
  start: Dist;
  event: Dist;
  /** Per request (a start or an event): CPU of the Temporal server, the worker and the API, and what the Temporal server wrote to disk. */
  temporalCpuMs: number;
  temporalWrittenKb: number;
  workerCpuMs: number;
  apiCpuMs: number;
  /** PostgreSQL (the read model, tokens, the registry) and the bench's own load generator, which shares the machine. */
  postgresCpuMs: number;
  driverCpuMs: number;
  /** Latency by event type (the first event often waits for the start's workflow task). */
  byEvent: Record<string, Dist>;
  shape: HistoryShape;
}

/** The history of one finished issue: the whole of it, and the mean of its events after the first. */
export interface HistoryShape {
  perIssue: Shape;
  perEvent: Shape;
}

export interface LoadResult {
  issuesPerCell: number;
  lanes: number;
  rounds: number;
  eventsPerIssue: number;
  beforeRev: string;
  stores: Store[];
  cells: LoadCell[];
  floor: Shape;
}

const { EventType } = temporal.api.enums.v1;

/**
 * Splits a history by event: each event's part begins with the workflow task that accepted its
 * Update (a lane sends an issue's events one at a time). The first event's part is left out of the
 * per-event mean: under load it often shares a workflow task with the start.
 */
export function historyShape(events: temporal.api.history.v1.IHistoryEvent[]): HistoryShape {
  const bounds: number[] = [];
  let lastScheduled = 0;
  events.forEach((e, i) => {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) lastScheduled = i;
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED && bounds.at(-1) !== lastScheduled) bounds.push(lastScheduled);
  });
  const shapeOf = (part: temporal.api.history.v1.IHistoryEvent[]): Shape => {
    const count = (t: number) => part.filter((e) => e.eventType === t).length;
    return { workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED), activityTasks: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), events: part.length };
  };
  const later = bounds.slice(1).map((from, k) => shapeOf(events.slice(from, bounds[k + 2] ?? events.length)));
  const mean = (k: keyof Shape) => Math.round((later.reduce((s, x) => s + x[k], 0) / Math.max(1, later.length)) * 10) / 10;
  return { perIssue: shapeOf(events), perEvent: { workflowTasks: mean('workflowTasks'), activityTasks: mean('activityTasks'), events: mean('events') } };
}

/**
 * The interpreter as it was before issue 14: workflows/ and definitions/ from the commit before the
 * one that introduced local bookkeeping (BENCH_BEFORE_REV overrides), bundled like the production one.
 */
async function bundleBefore(dir: string): Promise<{ path: string; rev: string; definitions: string }> {
  const root = path.resolve(__dirname, '..', '..');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, maxBuffer: 1 << 26 });
  const rev =
    process.env.BENCH_BEFORE_REV ??
    `${git('log', '--reverse', '--format=%H', '-S', "'local-bookkeeping'", '--', 'workflows/run-process.workflow.ts').toString().split('\n')[0]}^`;
  const resolved = git('rev-parse', '--short', rev).toString().trim();
  const src = path.join(dir, 'before');
  fs.mkdirSync(src, { recursive: true });
  execFileSync('tar', ['-x', '-C', src], { input: git('archive', resolved, 'workflows', 'definitions') });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'));
  const quiet = { info: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, trace: () => undefined, log: () => undefined };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(src, 'workflows', 'index.ts'), logger: quiet as never });
  const file = path.join(dir, 'before-bundle.js');
  fs.writeFileSync(file, code);
  return { path: file, rev: resolved, definitions: path.join(src, 'definitions') };
}

/**
 * The issue definition each design runs: "before" its own document of that commit (published as a
 * version of its own), "now" today's, published again so it stays the latest. Starts name the version.
 */
async function pinIssueVersions(env: BenchEnv, beforeDefinitions: string): Promise<Record<Design, number>> {
  const defs = new DefinitionService(env.orm);
  const current = await defs.get('issue');
  let before = current.version;
  try {
    const old = DefinitionService.readBuiltIns(beforeDefinitions).find((d) => d.document.key === 'issue');
    if (old) before = (await defs.publish(old.document, 'bench', 'the issue as it was before issue 14')).version;
  } catch (e) {
    log(`closed loop: the earlier issue definition does not validate today (${(e as Error).message}); "before" runs today's`);
  }
  const now = (await defs.publish(current.document, 'bench', 'the issue today')).version;
  return { before, now };
}

/**
 * BENCH_CPU_PROF=<dir>: each worker and API child writes V8 CPU profiles to <dir>/<child> when it
 * exits (`--cpu-prof`), one file per thread: the worker's workflow threads have files of their own.
 */
function cpuProfArgs(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  if (dir) fs.mkdirSync(path.resolve(dir, name), { recursive: true });
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir, name)}`] : [];
}

/**
 * Measurement 7, the closed loop: the stack `npm start` builds (the dev server on a SQLite file,
 * the worker and the API in processes of their own) loaded as people would, through HTTP only.
 * `lanes` lanes, each with its own grid and its members' tokens, take issues one after another:
 * POST /api/processes as the grid's worker, then five events, each as the member whose it is. No
 * think time: a lane sends its next request when the last is answered.
 *
 * Per store, each variant (gridflow or the hand-written service, each before and after issue 14)
 * runs `issues` issues in `rounds` rounds in a balanced order (balancedOrder), after a warm-up of
 * one issue per lane; after each row's turn the loop waits for the server to go idle (settle). The
 * default store runs gridflow only (today's reference and the workflow change alone); the tuned
 * store runs all four.
 */
export async function closedLoop(env: BenchEnv, opts: { issues: number; lanes: number; rounds: number }): Promise<LoadResult> {
  const cli = ensureTemporalCli(loadConfig().cacheDir, log);
  const before = await bundleBefore(env.dir);
  const versions = await pinIssueVersions(env, before.definitions);
  log(`closed loop: "before" is the interpreter at ${before.rev} (issue version ${versions.before}; now ${versions.now})`);
  const bundles: Record<Impl | 'interpreter-before', string> = { interpreter: env.bundles.interpreter.path, 'interpreter-before': before.path, 'hand-written': env.bundles['hand-written'].path };
  const cells: LoadCell[] = [];
  let tokens: Record<Who, string>[] | undefined;
  const grids = Array.from({ length: opts.lanes }, (_, i) => `grid-${String((i % 12) + 1).padStart(2, '0')}`);

  // BENCH_LOAD_STORES=tuned runs one store only (trying pragmas with BENCH_TUNED_PRAGMAS).
  const stores = STORES.filter((s) => (process.env.BENCH_LOAD_STORES ?? 'default,tuned').split(',').includes(s.name));
  for (const store of stores) {
    // BENCH_LOAD_DESIGNS=now runs one design only (profiling today's code).
    const designs = DESIGNS.filter((d) => (process.env.BENCH_LOAD_DESIGNS ?? 'before,now').split(',').includes(d));
    const variants = IMPLS.flatMap((impl) => designs.map((design) => ({ impl, design }))).filter((v) => store.name === 'tuned' || v.impl === 'interpreter');
    const server = await startTemporalDevServer({ cli, headless: true, dbFile: path.join(env.dir, `load-${store.name}.db`), logFile: path.join(env.dir, `load-${store.name}.log`), sqlitePragmas: store.pragmas });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const children: Child[] = [];
    try {
      log(`closed loop, ${store.name} store (${store.pragmas.join(' ') || "SQLite's defaults"}): ${variants.map((v) => `${v.impl} ${v.design}`).join(', ')}`);
      const queue = (b: string) => `load-${store.name}-${b}`;
      const base = { TEMPORAL_ADDRESS: server.address };
      const bundleOf = (v: { impl: Impl; design: Design }): keyof typeof bundles => (v.impl === 'hand-written' ? 'hand-written' : v.design === 'before' ? 'interpreter-before' : 'interpreter');
      // One worker process per row, also where two rows share a bundle (the hand-written "before" and
      // "now"): a worker that served both rows' issues ran warmer than one that served a single row.
      const keyOf = (v: { impl: Impl; design: Design }) => `${v.impl}-${v.design}`;
      const workerOf = async (v: { impl: Impl; design: Design }) =>
        forkChild('worker-child.ts', childEnv(env, { ...base, BENCH_TASK_QUEUE: queue(keyOf(v)), BENCH_BUNDLE: bundles[bundleOf(v)] }), cpuProfArgs(`worker-${keyOf(v)}`));
      const apiOf = async (v: { impl: Impl; design: Design }) => {
        const prof = cpuProfArgs(`api-${v.impl}-${v.design}`);
        if (v.impl === 'interpreter') return forkChild('api-child.ts', childEnv(env, { ...base, GRIDFLOW_TASK_QUEUE: queue(keyOf(v)) }), prof);
        return forkChild('baseline-api-child.ts', childEnv(env, { ...base, GRIDFLOW_TASK_QUEUE: queue(keyOf(v)), BENCH_DESIGN: v.design }), prof);
      };
      const workers = Object.fromEntries(await Promise.all(variants.map(async (v) => [keyOf(v), await workerOf(v)] as const)));
      children.push(...Object.values(workers));
      const apis = await Promise.all(variants.map(apiOf));
      children.push(...apis);
      const runs = variants.map((v, k) => {
        const api = apis[k];
        const http = httpClient(`http://127.0.0.1:${api.ready.port as number}`, env.adminToken, opts.lanes * 2);
        const worker = workers[keyOf(v)];
        return { ...v, api, http, worker, lat: { start: [] as number[], event: [] as number[], byEvent: {} as Record<string, number[]> }, issues: 0, seconds: 0, cpu: { temporal: 0, worker: 0, api: 0, postgres: 0, driver: 0 }, written: 0, last: '' };
      });
      // Made by the admin through gridflow's API (every store runs it); the baseline's service accepts them too.
      const admin = runs.find((r) => r.impl === 'interpreter') ?? runs[0];
      tokens ??= await Promise.all(grids.map((g, i) => memberTokens(admin.http, `bench-lane-${i + 1}`, g)));
      const laneTokens = tokens;

      const drive = async (run: (typeof runs)[number], issues: number, measured: boolean) => {
        let next = 0;
        await Promise.all(
          grids.map(async (grid, lane) => {
            while (next < issues) {
              next++;
              const id = await oneIssue(run.http, { grid, version: run.impl === 'interpreter' ? versions[run.design] : undefined }, laneTokens[lane], measured ? run.lat : undefined);
              run.last = id;
            }
          }),
        );
      };

      for (const run of runs) await drive(run, opts.lanes, false);
      const per = Math.ceil(opts.issues / opts.rounds);
      for (let r = 0; r < opts.rounds; r++) {
        for (const run of balancedOrder(runs.length, r).map((k) => runs[k])) {
          const pids = { temporal: server.process.pid, worker: run.worker.process.pid, api: run.api.process.pid };
          const c0 = { temporal: cpuSeconds(pids.temporal), worker: cpuSeconds(pids.worker), api: cpuSeconds(pids.api), postgres: postgresCpuSeconds(env.postgresDataDir), driver: process.cpuUsage() };
          const w0 = writtenBytes(pids.temporal);
          const t0 = process.hrtime.bigint();
          await drive(run, per, true);
          const took = ms(t0) / 1000;
          run.seconds += took;
          // What the round left the server and PostgreSQL to do (visibility, checkpoints) is its own
          // cost, not the next row's: its CPU counts here, its time does not (a user had the answers).
          const settled = await settle([pids.temporal, pids.worker, pids.api], env.postgresDataDir);
          run.issues += per;
          run.cpu.temporal += cpuSeconds(pids.temporal) - c0.temporal;
          run.cpu.worker += cpuSeconds(pids.worker) - c0.worker;
          run.cpu.api += cpuSeconds(pids.api) - c0.api;
          run.cpu.postgres += postgresCpuSeconds(env.postgresDataDir) - c0.postgres;
          const driver = process.cpuUsage(c0.driver);
          run.cpu.driver += (driver.user + driver.system) / 1e6;
          run.written += writtenBytes(pids.temporal) - w0;
          // The round's span on the monotonic clock V8's profiles use, to cut the measured part out of them.
          if (process.env.BENCH_CPU_PROF) fs.appendFileSync(path.resolve(process.env.BENCH_CPU_PROF, 'rounds.jsonl'), `${JSON.stringify({ impl: run.impl, design: run.design, fromUs: Number(t0 / 1000n), toUs: Number(process.hrtime.bigint() / 1000n), issues: per, requests: per * (1 + FIVE_EVENTS.length) })}\n`);
          log(`closed loop ${store.name} ${run.impl} ${run.design}, round ${r + 1}/${opts.rounds}: ${per} issues in ${took.toFixed(1)} s, then ${settled} ms until idle`);
        }
      }

      for (const run of runs) {
        const requests = run.issues * (1 + FIVE_EVENTS.length);
        const history = await client.workflow.getHandle(run.last).fetchHistory();
        const per1 = (x: number) => Math.round((x * 1000 * 10) / requests) / 10;
        cells.push({
          store: store.name,
          impl: run.impl,
          design: run.design,
          issues: run.issues,
          requests,
          seconds: Math.round(run.seconds * 10) / 10,
          processesPerSecond: Math.round((run.issues / run.seconds) * 100) / 100,
          requestsPerSecond: Math.round((requests / run.seconds) * 10) / 10,
          start: dist(run.lat.start),
          event: dist(run.lat.event),
          temporalCpuMs: per1(run.cpu.temporal),
          temporalWrittenKb: Math.round(run.written / 1024 / requests),
          workerCpuMs: per1(run.cpu.worker),
          apiCpuMs: per1(run.cpu.api),
          postgresCpuMs: per1(run.cpu.postgres),
          driverCpuMs: per1(run.cpu.driver),
          byEvent: Object.fromEntries(Object.entries(run.lat.byEvent).map(([type, xs]) => [type, dist(xs)])),
          shape: historyShape(history.events ?? []),
        });
        run.http.agent.destroy();
      }
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      await connection.close().catch(() => undefined);
      await server.stop();
    }
  }
  return { issuesPerCell: Math.ceil(opts.issues / opts.rounds) * opts.rounds, lanes: opts.lanes, rounds: opts.rounds, eventsPerIssue: FIVE_EVENTS.length, beforeRev: before.rev, stores, cells, floor: PHYSICAL_FLOOR };
}

/**
 * Round `round`'s order of `n` rows, from a Williams design: over n rounds (n even) every row runs
 * first once and follows every other row once, and none follows itself, within a round or across
 * two. Alternating one order with its reverse let the first and last rows follow themselves, with
 * caches still warm, while the middle ones never did: with four rows that favoured the
 * hand-written row over gridflow's by 3 to 4% (issue 14).
 */
export function balancedOrder(n: number, round: number): number[] {
  // 0, 1, n-1, 2, n-2, ...; each later round adds one to every row (mod n).
  const seq = Array.from({ length: n }, (_, j) => (j === 0 ? 0 : j % 2 === 1 ? (j + 1) / 2 : n - j / 2));
  return seq.map((k) => (k + round) % n);
}

/**
 * Waits until the processes `pids` and PostgreSQL are idle (under one clock tick, 10 ms, of CPU in a
 * 250 ms window) or 15 s have passed; the ms it waited.
 */
async function settle(pids: (number | undefined)[], postgresDataDir: string): Promise<number> {
  const t0 = Date.now();
  const used = () => pids.reduce<number>((s, pid) => s + cpuSeconds(pid), 0) + postgresCpuSeconds(postgresDataDir);
  for (;;) {
    const before = used();
    await new Promise((r) => setTimeout(r, 250));
    if (used() - before <= 0.01 || Date.now() - t0 > 15_000) return Date.now() - t0;
  }
}

/** One issue through the API: started by the grid's worker, then five events, each by its member; latencies into `lat`. */
async function oneIssue(http: HttpClient, start: { grid: string; version?: number }, tokens: Record<Who, string>, lat?: { start: number[]; event: number[]; byEvent: Record<string, number[]> }): Promise<string> {
  let t = process.hrtime.bigint();
  const started = await http.request('POST', '/api/processes', { definition: 'issue', ...start, input: ISSUE_INPUT }, tokens.worker);
  if (started.status !== 201) throw new Error(`POST /api/processes answered ${started.status}: ${started.body}`);
  lat?.start.push(ms(t));
  const id = (JSON.parse(started.body) as { workflowId: string }).workflowId;
  let state = '';
  for (const ev of FIVE_EVENTS) {
    t = process.hrtime.bigint();
    const r = await http.request('POST', `/api/processes/${encodeURIComponent(id)}/events`, { type: ev.type, data: ev.data }, tokens[ev.who]);
    if (r.status !== 200) throw new Error(`POST ${id} ${ev.type} as ${ev.who} answered ${r.status}: ${r.body}`);
    const took = ms(t);
    lat?.event.push(took);
    if (lat) (lat.byEvent[ev.type] ??= []).push(took);
    state = (JSON.parse(r.body) as { state: string }).state;
  }
  if (state !== 'closed') throw new Error(`${id} ended in "${state}", not "closed"`);
  return id;
}

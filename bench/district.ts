/**
 * A district's morning, measured (issue 18, item 4). For each Temporal server, the dev server on
 * its SQLite file as `npm start` runs it and Temporal's own server 1.29.1 on the embedded
 * PostgreSQL (GRIDFLOW_TEMPORAL=cluster), in a fresh temp dir each:
 *
 *   1. generates DISTRICT_COMMUNITIES communities of DISTRICT_GRIDS grids (streets of 10), next to
 *      the default community (Shengshi, 12 grids) that seeding always gives: it is included, so the
 *      fan-out and the burst cover communities x grids + 12 grids;
 *   2. times the 08:30 fan-out, ScheduleService.launch('daily-patrol') as the launcher activity
 *      calls it, until every start has returned and until every patrol has its process_instance row;
 *   3. sends a burst through the HTTP API: each grid's worker, with a token of its own, sends START
 *      then CHECK_IN, DISTRICT_CONCURRENCY (100) requests in flight;
 *   4. meters CPU and bytes written of the Temporal server, PostgreSQL (by database), the worker(s),
 *      the API and the launcher, per phase, and what PostgreSQL and the SQLite store grew by;
 *   5. writes bench/results/district.json (district-<C>x<G>.json for other sizes), prints a
 *      Markdown table and a paper estimate for a city.
 *
 * Run: npx ts-node --transpile-only bench/district.ts
 * Environment: DISTRICT_COMMUNITIES (100), DISTRICT_GRIDS (12), DISTRICT_SERVERS (dev,cluster),
 * DISTRICT_CONCURRENCY (100), DISTRICT_WORKERS (as npm start: 1 on dev, 2 on cluster),
 * DISTRICT_CITY_GRIDS (10000), DISTRICT_DAY_EVENTS (8: START, 6 CHECK_IN, SUBMIT), DISTRICT_KEEP=1.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { seedCommunity, seedGeneratedCommunity } from '../db/community.seed';
import { migrate, openOrm } from '../db/orm';
import { addDays, atLocal, localDate } from '../engine/time';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../infra/postgres';
import { ensureTemporalCli, startTemporalDevServer, type DevServer } from '../infra/temporal';
import { clusterDatabase, ensureTemporalServer, startTemporalCluster, TEMPORAL_SERVER_VERSION } from '../infra/temporal-cluster';
import { createServices, type Services } from '../services/container';
import { DefinitionService } from '../services/definitions.service';
import { WORKFLOW_BUNDLER_OPTIONS } from '../worker/create-worker';
import { childEnv, forkChild, log, ms, percentile, pool, type BenchEnv, type Child } from './lib/env';
import { httpClient } from './lib/http';
import { Meter, postmasterPid, type PhaseUsage } from './lib/district-meter';

type ServerKind = 'dev' | 'cluster';
const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const cfg = {
  communities: num('DISTRICT_COMMUNITIES', 100),
  grids: num('DISTRICT_GRIDS', 12),
  perStreet: 10,
  servers: (process.env.DISTRICT_SERVERS ?? 'dev,cluster').split(',').filter(Boolean) as ServerKind[],
  concurrency: num('DISTRICT_CONCURRENCY', 100),
  workers: process.env.DISTRICT_WORKERS ? Number(process.env.DISTRICT_WORKERS) : undefined,
  cityGrids: num('DISTRICT_CITY_GRIDS', 10_000),
  dayEvents: num('DISTRICT_DAY_EVENTS', 8),
  historyShards: loadConfig().temporalShards,
  includesDefaultCommunity: true,
};
const DEFINITION = 'daily-patrol';

interface Latency {
  n: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}
function latency(xs: number[], errors = 0): Latency {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, errors, p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

export interface ServerResult {
  server: ServerKind;
  label: string;
  workers: number;
  /** The workers' sticky cache (the SDK's default for the worker's heap): more than the patrols, so no event replays a history. */
  maxCachedWorkflows: number;
  historyShards?: number;
  grids: number;
  communities: number;
  seedSeconds: number;
  idle: { seconds: number; cores: Record<string, number> };
  fanOut: {
    startedSeconds: number;
    visibleSeconds: number;
    started: number;
    existing: number;
    startsPerSecond: number;
    usage: PhaseUsage;
  };
  burst: {
    concurrency: number;
    seconds: number;
    visibleSeconds: number;
    requestsPerSecond: number;
    all: Latency;
    start: Latency;
    checkIn: Latency;
    usage: PhaseUsage;
  };
  history: { workflowId: string; events: number; bytes: number };
  /** After the burst: the largest relations of each database (with their indexes and TOAST), MB, and their dead rows (updates not yet vacuumed). */
  relations: Record<string, { relation: string; mb: number; rows: number; deadRows: number }[]>;
  perPatrol: {
    fanOut: Record<string, { cpuMs: number; writtenKb: number }>;
    burstPerEvent: Record<string, { cpuMs: number; writtenKb: number }>;
    storage: { fanOut: Record<string, number>; burstPerEvent: Record<string, number> };
  };
}

/** What a patrol costs, per group: CPU ms and KB written per patrol (fan-out) or per event (burst). */
function perUnit(u: PhaseUsage, units: number): Record<string, { cpuMs: number; writtenKb: number }> {
  return Object.fromEntries(Object.entries(u.groups).map(([g, x]) => [g, { cpuMs: Math.round((x.cpuSeconds * 1000 * 10) / units) / 10, writtenKb: Math.round((x.writtenBytes / 1024 / units) * 10) / 10 }]));
}
function storagePer(u: PhaseUsage, units: number): Record<string, number> {
  const kb = (b: number) => Math.round((b / 1024 / units) * 100) / 100;
  return { ...Object.fromEntries(Object.entries(u.databaseGrowth).map(([k, v]) => [`db:${k}`, kb(v)])), wal: kb(u.walBytes), ...Object.fromEntries(Object.entries(u.fileGrowth).map(([k, v]) => [`file:${k}`, kb(v)])) };
}

/** Resolves once the Temporal server and the workers have had a quiet second (< 0.15 core together), at most `maxMs`. */
async function settle(pids: number[], maxMs = 20_000): Promise<void> {
  const cpu = () => pids.reduce((s, p) => {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      return s + (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return s;
    }
  }, 0);
  const until = Date.now() + maxMs;
  let last = cpu();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpu();
    if (now - last < 0.15) return;
    last = now;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, maxMs: number, everyMs = 100): Promise<void> {
  const until = Date.now() + maxMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${maxMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function runServer(kind: ServerKind, bundlePath: string, cleanups: (() => Promise<void>)[]): Promise<ServerResult> {
  const config = loadConfig();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gridflow-district-${kind}-`));
  // PostgreSQL runs as the "postgres" OS user when we are root; it must reach its data dir.
  fs.chmodSync(dir, 0o755);
  const own: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const f of own.reverse()) await f().catch((e) => log(`cleanup: ${(e as Error).message}`));
    own.length = 0;
  };
  cleanups.push(cleanup);
  log(`${kind}: state in ${dir}`);
  try {
    const pg: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres') });
    own.push(async () => {
      await pg.stop();
      if (process.env.DISTRICT_KEEP !== '1') {
        fs.rmSync(dir, { recursive: true, force: true });
        // When the data dir had to move out of reach of the temp dir (root), it goes too.
        if (!pg.dataDir.startsWith(dir)) fs.rmSync(pg.dataDir, { recursive: true, force: true });
      }
    });
    log(`${kind}: PostgreSQL at ${pg.url}`);
    let server: DevServer;
    const dbFile = path.join(dir, 'temporal.db');
    if (kind === 'dev') {
      server = await startTemporalDevServer({ cli: ensureTemporalCli(config.cacheDir, log), dbFile, headless: true, logFile: path.join(dir, 'temporal.log') });
    } else {
      server = await startTemporalCluster({ tools: ensureTemporalServer(config.cacheDir, log), db: clusterDatabase(pg.url), dir: path.join(dir, 'temporal-cluster'), historyShards: cfg.historyShards, log });
    }
    own.push(() => server.stop());
    log(`${kind}: Temporal at ${server.address}`);

    const seedT0 = process.hrtime.bigint();
    const orm = await openOrm(pg.url);
    own.push(() => orm.close());
    await migrate(orm);
    await new DefinitionService(orm).seedBuiltIns();
    await seedCommunity(orm);
    for (let c = 1; c <= cfg.communities; c++) {
      const id = `c${String(c).padStart(3, '0')}`;
      const s = Math.ceil(c / cfg.perStreet);
      await seedGeneratedCommunity(orm, { id, name: `第${c}社区`, street: { id: `s${String(s).padStart(2, '0')}`, name: `第${s}街道` }, grids: cfg.grids });
    }
    const dataKey = crypto.randomBytes(32).toString('base64');
    const adminToken = crypto.randomBytes(24).toString('base64url');
    const services: Services = await createServices({ ...config, databaseUrl: pg.url, temporalAddress: server.address, dataKey });
    own.push(() => services.close());
    await services.community.protectPhones();
    const grids = await services.community.gridIds('all');
    const communities = (await services.community.communities()).length;
    log(`${kind}: ${communities} communities, ${grids.length} grids seeded`);

    // Each grid's worker, a token of its own (the default community's grids have several workers: the first).
    const workers = await orm.em.fork().getConnection().execute<{ id: string; grid_id: string }[]>("select distinct on (grid_id) id, grid_id from member where role = 'grid-worker' and active order by grid_id, id");
    const workerOf = new Map(workers.map((w) => [w.grid_id, w.id]));
    const missing = grids.filter((g) => !workerOf.has(g));
    if (missing.length) throw new Error(`grids without a grid worker: ${missing.slice(0, 5).join(', ')}`);
    const tokens = new Map<string, string>();
    await pool(grids.length, 8, async (i) => {
      const g = grids[i];
      tokens.set(g, (await services.tokens.create({ role: 'grid-worker', name: `district-${g}`, memberId: workerOf.get(g) as string, grids: [g] })).token);
    });
    const seedSeconds = Math.round(ms(seedT0) / 100) / 10;

    // The worker(s) and the API as `npm start` runs them: processes of their own.
    const env = childEnv({ temporalAddress: server.address, databaseUrl: pg.url, dataKey, adminToken } as BenchEnv, { GRIDFLOW_TASK_QUEUE: config.taskQueue });
    const nWorkers = cfg.workers ?? (kind === 'cluster' ? 2 : 1);
    const children: Child[] = [];
    own.push(async () => {
      await Promise.all(children.map((c) => c.stop()));
    });
    // DISTRICT_CPU_PROF=<dir>: V8 CPU profiles of the worker(s) and the API, one per thread, written when they stop.
    const prof = (name: string) => (process.env.DISTRICT_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.DISTRICT_CPU_PROF, kind, name)}`] : []);
    for (let i = 0; i < nWorkers; i++) children.push(await forkChild('worker-child.ts', { ...env, BENCH_TASK_QUEUE: config.taskQueue, BENCH_BUNDLE: bundlePath }, prof(`worker-${i + 1}`)));
    const api = await forkChild('api-child.ts', env, prof('api'));
    children.push(api);
    const workerPids = children.slice(0, nWorkers).map((c) => c.process.pid as number);
    const pids = { temporal: [server.process.pid as number], worker: workerPids, api: [api.process.pid as number] };
    const meter = new Meter({ orm, postmaster: postmasterPid(pg.dataDir), pids, files: kind === 'dev' ? { 'temporal.db': [dbFile], 'temporal.db-wal': [`${dbFile}-wal`] } : {} });
    log(`${kind}: ${nWorkers} worker process(es) and the API (port ${api.ready.port as number}) running`);

    // Idle: what the stack burns doing nothing (pollers, the cluster's own housekeeping).
    await settle([...pids.temporal, ...pids.worker]);
    const i0 = await meter.sample();
    await new Promise((r) => setTimeout(r, 5000));
    const idleUsage = await meter.between(i0, await meter.sample());
    const idle = { seconds: idleUsage.seconds, cores: Object.fromEntries(Object.entries(idleUsage.groups).map(([g, u]) => [g, Math.round((u.cpuSeconds / idleUsage.seconds) * 1000) / 1000])) };

    // 2. The 08:30 fan-out, for tomorrow (Asia/Shanghai): no timer of the day fires during the run.
    // With DISTRICT_CPU_PROF, each phase's span on the profiles' monotonic clock (for bench/cpu-profile.ts <profile> <dir>/rounds.jsonl:fanout-<server>).
    const span = (phase: string, from: bigint, requests: number) => {
      if (process.env.DISTRICT_CPU_PROF) fs.appendFileSync(path.resolve(process.env.DISTRICT_CPU_PROF, 'rounds.jsonl'), `${JSON.stringify({ impl: phase, design: kind, fromUs: Number(from / 1000n), toUs: Number(process.hrtime.bigint() / 1000n), issues: requests, requests })}\n`);
    };
    const day = addDays(localDate(Date.now()), 1);
    const at = atLocal(day, '08:30');
    const conn = () => orm.em.fork().getConnection();
    const visible = async (extra = '') => Number((await conn().execute<{ n: string }[]>(`select count(*) as n from process_instance where definition_key = ? and workflow_id like ?${extra}`, [DEFINITION, `%/${day}`]))[0].n);
    log(`${kind}: fan-out of ${DEFINITION} for ${day} over ${grids.length} grids`);
    const f0 = await meter.sample();
    const t0 = process.hrtime.bigint();
    const launched = await services.schedules.launch(DEFINITION, at, day);
    const startedSeconds = ms(t0) / 1000;
    await waitFor('the fan-out in the read model', async () => (await visible()) >= grids.length, 600_000);
    const visibleSeconds = ms(t0) / 1000;
    await settle([...pids.temporal, ...pids.worker]);
    const fanUsage = await meter.between(f0, await meter.sample());
    span('fanout', t0, grids.length);
    log(`${kind}: fan-out started ${launched.started.length} (${launched.existing.length} existing) in ${startedSeconds.toFixed(1)} s, all in the read model after ${visibleSeconds.toFixed(1)} s`);
    if (launched.started.length !== grids.length) throw new Error(`the fan-out started ${launched.started.length} patrols, not ${grids.length}`);

    // 3. The burst: every grid's worker sends START then CHECK_IN.
    // daily-patrol/grid-03/<day> in the default community, daily-patrol/<community>/grid-03/<day> elsewhere.
    const byGrid = new Map<string, string>();
    for (const id of launched.started) {
      const parts = id.split('/');
      byGrid.set(parts.length === 4 ? `${parts[1]}.${parts[2]}` : parts[1], id);
    }
    const unmatched = grids.filter((g) => !byGrid.get(g));
    if (unmatched.length) throw new Error(`no patrol id found for ${unmatched.slice(0, 3).join(', ')} among e.g. ${launched.started.slice(0, 3).join(', ')}`);
    const http = httpClient(`http://127.0.0.1:${api.ready.port as number}`, adminToken, cfg.concurrency);
    const lat = { START: [] as number[], CHECK_IN: [] as number[] };
    const errors: string[] = [];
    const send = async (grid: string, type: 'START' | 'CHECK_IN', data: Record<string, unknown>) => {
      const id = byGrid.get(grid) as string;
      const t = process.hrtime.bigint();
      const r = await http.request('POST', `/api/processes/${encodeURIComponent(id)}/events`, { type, data }, tokens.get(grid));
      lat[type].push(ms(t));
      if (r.status !== 200) errors.push(`${type} ${id}: ${r.status} ${r.body.slice(0, 300)}`);
      return r.status === 200;
    };
    log(`${kind}: burst of START + CHECK_IN from ${grids.length} grids, ${cfg.concurrency} in flight`);
    const b0 = await meter.sample();
    const tb = process.hrtime.bigint();
    await pool(grids.length, cfg.concurrency, async (i) => {
      const g = grids[i];
      if (await send(g, 'START', { note: 'district bench' })) await send(g, 'CHECK_IN', { site: `${g} 小区`, households: 12, note: 'district bench' });
    });
    const burstSeconds = ms(tb) / 1000;
    if (errors.length) log(`${kind}: ${errors.length} failed requests, e.g. ${errors[0]}`);
    await waitFor('the check-ins in the read model', async () => (await visible(" and (context->>'checkIns')::int >= 1")) >= grids.length - errors.length, 600_000, 200);
    const burstVisible = ms(tb) / 1000;
    await settle([...pids.temporal, ...pids.worker]);
    const burstUsage = await meter.between(b0, await meter.sample());
    span('burst', tb, 2 * grids.length);
    http.agent.destroy();
    log(`${kind}: burst took ${burstSeconds.toFixed(1)} s, read model caught up after ${burstVisible.toFixed(1)} s`);

    const relations: ServerResult['relations'] = {};
    for (const db of kind === 'cluster' ? ['gridflow', 'temporal', 'temporal_visibility'] : ['gridflow']) {
      const url = pg.url.replace(/\/[^/]+$/, `/${db}`);
      const other = db === 'gridflow' ? orm : await openOrm(url);
      try {
        const rows = await other.em.fork().getConnection().execute<{ relation: string; bytes: string; rows: string; dead: string }[]>(
          'select relname as relation, pg_total_relation_size(relid) as bytes, n_live_tup as rows, n_dead_tup as dead from pg_stat_user_tables order by pg_total_relation_size(relid) desc limit 8',
        );
        relations[db] = rows.map((r) => ({ relation: r.relation, mb: round(Number(r.bytes) / 1024 / 1024, 2), rows: Number(r.rows), deadRows: Number(r.dead) }));
      } finally {
        if (other !== orm) await other.close();
      }
    }
    const sampleId = byGrid.get(grids[grids.length - 1]) as string;
    const desc = await services.client.workflow.getHandle(sampleId).describe();
    const info = desc.raw.workflowExecutionInfo;
    const n = grids.length;
    const all = [...lat.START, ...lat.CHECK_IN];
    return {
      server: kind,
      label: kind === 'dev' ? 'Temporal dev server (CLI, SQLite file)' : `Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL, ${cfg.historyShards} shards`,
      workers: nWorkers,
      maxCachedWorkflows: children[0].ready.maxCached as number,
      ...(kind === 'cluster' ? { historyShards: cfg.historyShards } : {}),
      grids: n,
      communities,
      seedSeconds,
      idle,
      fanOut: { startedSeconds: Math.round(startedSeconds * 100) / 100, visibleSeconds: Math.round(visibleSeconds * 100) / 100, started: launched.started.length, existing: launched.existing.length, startsPerSecond: Math.round(n / startedSeconds), usage: fanUsage },
      burst: {
        concurrency: cfg.concurrency,
        seconds: Math.round(burstSeconds * 100) / 100,
        visibleSeconds: Math.round(burstVisible * 100) / 100,
        requestsPerSecond: Math.round(all.length / burstSeconds),
        all: latency(all, errors.length),
        start: latency(lat.START),
        checkIn: latency(lat.CHECK_IN),
        usage: burstUsage,
      },
      relations,
      history: { workflowId: sampleId, events: Number(info?.historyLength ?? 0), bytes: Number(info?.historySizeBytes ?? 0) },
      perPatrol: {
        fanOut: perUnit(fanUsage, n),
        burstPerEvent: perUnit(burstUsage, all.length),
        storage: { fanOut: storagePer(fanUsage, n), burstPerEvent: storagePer(burstUsage, all.length) },
      },
    };
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// The paper estimate

interface CityEstimate {
  grids: number;
  eventsPerPatrolDay: number;
  basis: string;
  cpuSecondsPerDay: Record<string, number>;
  fanOut: { measuredMinutes: number; coresFor5Minutes: Record<string, number> };
  peakHour: { events: number; cores: Record<string, number> };
  workers: number;
  historyShards: { openWorkflows: number; byCache: number; byThroughput: number; recommended: number; measuredEventsPerShardSecond: number };
  storage: { temporalPerDayMb: number; temporalSteadyMb: number; readModelPerDayMb: number; readModelPerYearGb: number; walPerDayMb: number; devStorePerDayMb?: number };
}

const pow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function estimate(results: ServerResult[]): CityEstimate | undefined {
  const r = results.find((x) => x.server === 'cluster') ?? results[0];
  if (!r) return undefined;
  const G = cfg.cityGrids;
  const E = cfg.dayEvents;
  const groups = ['temporal', 'postgres', 'worker', 'api', 'launcher'];
  const dayCpu = (g: string) => ((r.perPatrol.fanOut[g]?.cpuMs ?? 0) + E * (r.perPatrol.burstPerEvent[g]?.cpuMs ?? 0)) / 1000;
  const cpuSecondsPerDay = Object.fromEntries(groups.map((g) => [g, Math.round(dayCpu(g) * G)]));
  const coresFor5Minutes = Object.fromEntries(groups.map((g) => [g, round(((r.perPatrol.fanOut[g]?.cpuMs ?? 0) / 1000) * G / 300)]));
  // The peak hour: a quarter of the day's events (the morning's STARTs and first check-ins).
  const peakEvents = Math.round((G * E) / 4);
  const peakCores = Object.fromEntries(groups.filter((g) => g !== 'launcher').map((g) => [g, round(((r.perPatrol.burstPerEvent[g]?.cpuMs ?? 0) / 1000) * peakEvents / 3600, 2)]));
  const workerCores = Math.max(coresFor5Minutes.worker, peakCores.worker);
  // History shards: the open patrols (and as many other processes) should fit the shards' mutable-state
  // caches (history.cacheMaxSize, 512 executions per shard by default) twice over; and the peak's history
  // events per second should stay under what this run's shards sustained each.
  const open = 2 * G;
  const byCache = pow2((2 * open) / 512);
  const shards = r.historyShards ?? 4;
  const measuredEventsPerShardSecond = round(((r.history.events / (1 + 2)) * r.grids * 3) / (r.fanOut.visibleSeconds + r.burst.visibleSeconds) / shards, 0);
  const eventsPerPatrolEvent = r.history.events / 3;
  const peakHistoryEventsPerSecond = ((G * E) / 4 / 3600) * eventsPerPatrolEvent;
  const fanOutHistoryEventsPerSecond = (G * eventsPerPatrolEvent) / 300;
  const byThroughput = pow2(Math.max(peakHistoryEventsPerSecond, fanOutHistoryEventsPerSecond) / Math.max(1, measuredEventsPerShardSecond));
  const sum = (rec: Record<string, number>, pred: (k: string) => boolean) => Object.entries(rec).filter(([k]) => pred(k)).reduce((s, [, v]) => s + v, 0);
  const perDayKb = (pred: (k: string) => boolean, res = r) => sum(res.perPatrol.storage.fanOut, pred) + E * sum(res.perPatrol.storage.burstPerEvent, pred);
  const temporalKb = perDayKb((k) => k.startsWith('db:temporal'));
  const readKb = perDayKb((k) => k.startsWith('db:') && !k.startsWith('db:temporal'));
  const walKb = perDayKb((k) => k === 'wal');
  const dev = results.find((x) => x.server === 'dev');
  const devKb = dev ? perDayKb((k) => k === 'file:temporal.db', dev) : undefined;
  return {
    grids: G,
    eventsPerPatrolDay: E,
    basis: `${r.label}: per patrol-day = the fan-out's cost per patrol + ${E} x the burst's cost per event; measured on ${os.cpus().length} cores`,
    cpuSecondsPerDay,
    fanOut: { measuredMinutes: round((r.fanOut.visibleSeconds * (G / r.grids)) / 60), coresFor5Minutes },
    peakHour: { events: peakEvents, cores: peakCores },
    workers: Math.max(2, Math.ceil(workerCores / 0.7)),
    historyShards: { openWorkflows: open, byCache, byThroughput, recommended: Math.max(byCache, byThroughput, 64), measuredEventsPerShardSecond },
    storage: {
      temporalPerDayMb: round((temporalKb * G) / 1024),
      // Closed executions stay for the namespace's retention (7 days) and the day they ran.
      temporalSteadyMb: round((temporalKb * G * 8) / 1024),
      readModelPerDayMb: round((readKb * G) / 1024),
      readModelPerYearGb: round((readKb * G * 365) / 1024 / 1024, 2),
      walPerDayMb: round((walKb * G) / 1024),
      ...(devKb !== undefined ? { devStorePerDayMb: round((devKb * G) / 1024) } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The table

function table(results: ServerResult[], city?: CityEstimate): string {
  const rows: string[] = [];
  const cols = results.map((r) => `${r.server} (${r.workers} worker${r.workers > 1 ? 's' : ''})`);
  rows.push(`| ${results[0]?.grids ?? 0} grids, ${results[0]?.communities ?? 0} communities | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`);
  const row = (name: string, f: (r: ServerResult) => string | number) => rows.push(`| ${name} | ${results.map((r) => String(f(r))).join(' | ')} |`);
  const g = (r: ServerResult, phase: 'fanOut' | 'burstPerEvent', group: string, k: 'cpuMs' | 'writtenKb') => r.perPatrol[phase][group]?.[k] ?? '-';
  row('fan-out: all started (s)', (r) => r.fanOut.startedSeconds);
  row('fan-out: all in the read model (s)', (r) => r.fanOut.visibleSeconds);
  row('fan-out: starts/s', (r) => r.fanOut.startsPerSecond);
  row(`burst (START + CHECK_IN per grid): wall (s)`, (r) => r.burst.seconds);
  row('burst: read model caught up (s)', (r) => r.burst.visibleSeconds);
  row('burst: requests/s', (r) => r.burst.requestsPerSecond);
  row('burst: p50 / p99 / max (ms), all', (r) => `${r.burst.all.p50} / ${r.burst.all.p99} / ${r.burst.all.max}`);
  row('burst: p50 / p99 / max (ms), START', (r) => `${r.burst.start.p50} / ${r.burst.start.p99} / ${r.burst.start.max}`);
  row('burst: p50 / p99 / max (ms), CHECK_IN', (r) => `${r.burst.checkIn.p50} / ${r.burst.checkIn.p99} / ${r.burst.checkIn.max}`);
  row('burst: failed requests', (r) => r.burst.all.errors);
  for (const [phase, unit] of [
    ['fanOut', 'per patrol started'],
    ['burstPerEvent', 'per event'],
  ] as const) {
    for (const group of ['temporal', 'postgres', 'postgres:temporal', 'postgres:temporal_visibility', 'postgres:gridflow', 'postgres:background', 'worker', 'api', 'launcher']) {
      if (results.every((r) => r.perPatrol[phase][group] === undefined)) continue;
      const label = group === 'launcher' ? (phase === 'fanOut' ? 'launcher (ScheduleService.launch, in the bench process)' : 'bench HTTP client') : group;
      row(`${phase === 'fanOut' ? 'fan-out' : 'burst'}: ${label} CPU ms ${unit}`, (r) => g(r, phase, group, 'cpuMs'));
      if (group === 'temporal' || group === 'postgres') row(`${phase === 'fanOut' ? 'fan-out' : 'burst'}: ${group} KB written ${unit}`, (r) => g(r, phase, group, 'writtenKb'));
    }
    row(`${phase === 'fanOut' ? 'fan-out' : 'burst'}: stored KB ${unit}`, (r) => Object.entries(r.perPatrol.storage[phase]).filter(([, v]) => v !== 0).map(([k, v]) => `${k.replace(/^(db|file):/, '')} ${v}`).join(', '));
  }
  row('idle cores (temporal / postgres / workers)', (r) => `${r.idle.cores.temporal ?? 0} / ${r.idle.cores.postgres ?? 0} / ${r.idle.cores.worker ?? 0}`);
  row('history of one patrol after START + CHECK_IN', (r) => `${r.history.events} events, ${round(r.history.bytes / 1024)} KB`);
  const out = [rows.join('\n')];
  if (city) {
    out.push(
      '',
      `Paper estimate for ${city.grids.toLocaleString('en')} grids (${city.basis}):`,
      '',
      `| | |`,
      `|---|---|`,
      `| CPU seconds a day | ${Object.entries(city.cpuSecondsPerDay).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')} |`,
      `| fan-out at this run's speed | ${city.fanOut.measuredMinutes} min; cores to do it in 5 min: ${Object.entries(city.fanOut.coresFor5Minutes).map(([k, v]) => `${k} ${v}`).join(', ')} |`,
      `| peak hour (${city.peakHour.events.toLocaleString('en')} events) | cores: ${Object.entries(city.peakHour.cores).map(([k, v]) => `${k} ${v}`).join(', ')} |`,
      `| worker processes | ${city.workers} |`,
      `| history shards | ${city.historyShards.recommended} (caches: ${city.historyShards.byCache}, throughput: ${city.historyShards.byThroughput} at ${city.historyShards.measuredEventsPerShardSecond} history events/s per shard measured) |`,
      `| Temporal's PostgreSQL | ${city.storage.temporalPerDayMb} MB a day, about ${city.storage.temporalSteadyMb} MB held at 7 days' retention |`,
      `| gridflow's read model | ${city.storage.readModelPerDayMb} MB a day, ${city.storage.readModelPerYearGb} GB a year |`,
      `| WAL | ${city.storage.walPerDayMb} MB a day |`,
      ...(city.storage.devStorePerDayMb !== undefined ? [`| dev server's SQLite store | ${city.storage.devStorePerDayMb} MB a day |`] : []),
    );
  }
  return out.join('\n');
}

async function main() {
  const began = Date.now();
  const loadBefore = os.loadavg()[0];
  const cleanups: (() => Promise<void>)[] = [];
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping everything`);
      void Promise.all(cleanups.map((c) => c())).finally(() => process.exit(130));
    });
  }
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-district-bundle-'));
  cleanups.push(async () => fs.rmSync(bundleDir, { recursive: true, force: true }));
  const results: ServerResult[] = [];
  const full = cfg.communities === 100 && cfg.grids === 12;
  const out = path.join(__dirname, 'results', full ? 'district.json' : `district-${cfg.communities}x${cfg.grids}.json`);
  const doc: Record<string, unknown> = {
    at: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 1024 ** 3), node: process.version, load: { began: loadBefore } },
    config: cfg,
  };
  const save = () => {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  };
  try {
    log('bundling the workflows (workflows/, as the worker does)');
    const quiet = { info: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, trace: () => undefined, log: () => undefined };
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quiet as never, ...WORKFLOW_BUNDLER_OPTIONS });
    const bundlePath = path.join(bundleDir, 'bundle.js');
    fs.writeFileSync(bundlePath, code);
    for (const kind of cfg.servers) {
      results.push(await runServer(kind, bundlePath, cleanups));
      doc.results = results;
      save();
    }
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
  const city = estimate(results);
  doc.city = city;
  doc.minutes = round((Date.now() - began) / 60000);
  (doc.machine as { load: Record<string, number> }).load.ended = os.loadavg()[0];
  save();
  process.stdout.write(`${table(results, city)}\n`);
  log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

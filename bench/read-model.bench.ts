/**
 * Read-model benchmark: every list query of the contract (each filter, cursor pages, free text,
 * counts per state) against 200,000 process instances in an embedded PostgreSQL, with and without
 * the indexes of Migration20261125400000_read_indexes.
 *
 *   npx ts-node --transpile-only bench/read-model.bench.ts
 *
 * Environment: BENCH_INSTANCES (200000), BENCH_RUNS (200), BENCH_KEEP=1 keeps the data directory.
 * Prints a Markdown table and writes bench/results/read-model.json with the EXPLAIN ANALYZE plans.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { seedCommunity } from '../db/community.seed';
import { Migration20261125400000_read_indexes } from '../db/migrations/Migration20261125400000_read_indexes';
import { migrations } from '../db/migrations';
import { migrate, openOrm } from '../db/orm';
import { addDays, atLocal, isoWeek, localDate } from '../engine/time';
import { startEmbeddedPostgres } from '../infra/postgres';
import { ProcessService, type ListFilters } from '../services/processes.service';
import { ProviderService } from '../services/providers.service';
import { StatsService, type ProcessFilters } from '../services/stats.service';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const WARMUP = 10;
const TARGET_P99_MS = 50;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Data: a community that has run gridflow for ten years, and then some.

/** Deterministic PRNG (mulberry32) so every run loads the same rows. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(20261125);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
const weighted = <T>(xs: readonly [T, number][]) => {
  let r = rnd() * xs.reduce((s, [, w]) => s + w, 0);
  for (const [x, w] of xs) if ((r -= w) < 0) return x;
  return xs[xs.length - 1][0];
};
const grid = (n: number) => `grid-${String(n).padStart(2, '0')}`;
const GRIDS = Array.from({ length: 12 }, (_, i) => grid(i + 1));

interface Row {
  workflow_id: string;
  definition_key: string;
  business_key: string;
  title: string;
  grid: string | null;
  status: string;
  state: string;
  context: Record<string, unknown>;
  tasks: unknown[];
  assignee: string | null;
  due_at: number | null;
  last_seq: number;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
}

const TITLES: Record<string, string> = { 'daily-patrol': '每日巡查', 'weekly-report': '网格周报', 'monthly-review': '月度例会与网格评比', issue: '五事工作法·问题办理' };
const SITES = ['信达家园', '盛世华庭南区', '盛世华庭北区', '祥渊', '粮食局', '光源', '人行楼', '工行楼', '长线楼', '石油公司单体楼', '新西南平房'];
const CATEGORIES = ['环境卫生', '设施维修', '安全隐患', '邻里纠纷', '物业服务', '绿化', '停车', '噪音'];
const ISSUE_STATES: [string, number][] = [['reported', 15], ['triage', 10], ['deliberation', 10], ['handling', 40], ['verification', 10], ['awaiting-evaluation', 15]];
const ROLE_OF: Record<string, string> = {
  reported: 'grid-worker',
  triage: 'grid-worker',
  deliberation: 'grid-leader',
  handling: 'grid-worker',
  verification: 'grid-worker',
  'awaiting-evaluation': 'community-manager',
  assigned: 'grid-worker',
  patrolling: 'grid-worker',
  drafting: 'grid-worker',
  review: 'grid-leader',
  evaluating: 'community-manager',
};

function task(state: string, due: number | null) {
  return [{ id: `${state}:task`, role: ROLE_OF[state], title: state, dueAt: due ? new Date(due).toISOString() : null, events: [] }];
}

function* generate(total: number, now: number): Generator<Row> {
  const today = localDate(now);
  const days = 3650;
  // Ten years of patrols (one per grid per day), weekly reports and monthly reviews; issues fill the rest.
  for (let d = days - 1; d >= 0; d--) {
    const day = addDays(today, -d);
    const start = atLocal(day, '08:30');
    const due = atLocal(day, '18:00');
    for (const g of GRIDS) {
      const households = 8 + Math.floor(rnd() * 40);
      const base = { workflow_id: `daily-patrol/${g}/${day}`, definition_key: 'daily-patrol', business_key: `daily-patrol/${g}/${day}`, title: TITLES['daily-patrol'], grid: g, started_at: start };
      if (d === 0) {
        const state = rnd() < 0.5 ? 'assigned' : 'patrolling';
        yield { ...base, status: 'running', state, context: { day, checkIns: 0, householdsVisited: 0, sites: [], late: false }, tasks: task(state, due), assignee: 'grid-worker', due_at: due, last_seq: 2, updated_at: Math.min(now, start + HOUR), ended_at: null };
      } else if (rnd() < 0.07) {
        const end = atLocal(day, '23:59');
        yield { ...base, status: 'completed', state: 'missed', context: { day, checkIns: 0, householdsVisited: 0, sites: [], late: true }, tasks: [], assignee: null, due_at: null, last_seq: 5, updated_at: end, ended_at: end };
      } else {
        const end = start + HOUR + rnd() * 11 * HOUR;
        yield { ...base, status: 'completed', state: 'completed', context: { day, checkIns: 2, householdsVisited: households, sites: [pick(SITES), pick(SITES)], late: end > due }, tasks: [], assignee: null, due_at: null, last_seq: 7, updated_at: end, ended_at: end };
      }
    }
    const weekday = new Date(Date.parse(`${day}T00:00:00Z`)).getUTCDay();
    if (weekday === 5) {
      for (const g of GRIDS) {
        const week = isoWeek(day);
        const s = atLocal(day, '09:00');
        const base = { workflow_id: `weekly-report/${g}/${week}`, definition_key: 'weekly-report', business_key: `weekly-report/${g}/${week}`, title: TITLES['weekly-report'], grid: g, started_at: s };
        if (d < 7) {
          const state = rnd() < 0.6 ? 'drafting' : 'review';
          yield { ...base, status: 'running', state, context: { day, week }, tasks: task(state, atLocal(day, '17:00')), assignee: ROLE_OF[state], due_at: atLocal(day, '17:00'), last_seq: 2, updated_at: Math.min(now, s + 2 * HOUR), ended_at: null };
        } else {
          const end = s + 6 * HOUR + rnd() * 30 * HOUR;
          yield { ...base, status: 'completed', state: 'approved', context: { day, week }, tasks: [], assignee: null, due_at: null, last_seq: 4, updated_at: end, ended_at: end };
        }
      }
    }
    if (day.endsWith('-25')) {
      const month = day.slice(0, 7);
      const s = atLocal(day, '09:00');
      const base = { workflow_id: `monthly-review/${month}`, definition_key: 'monthly-review', business_key: `monthly-review/${month}`, title: TITLES['monthly-review'], grid: null, started_at: s };
      if (d < 30) yield { ...base, status: 'running', state: 'evaluating', context: { month }, tasks: task('evaluating', s + 5 * DAY), assignee: 'community-manager', due_at: s + 5 * DAY, last_seq: 5, updated_at: Math.min(now, s + 3 * DAY), ended_at: null };
      else yield { ...base, status: 'completed', state: 'closed', context: { month }, tasks: [], assignee: null, due_at: null, last_seq: 9, updated_at: s + 5 * DAY, ended_at: s + 5 * DAY };
    }
  }
  const patrolsEtc = days * 12 + Math.floor(days / 7) * 12 + Math.floor(days / 30.4);
  const issues = Math.max(0, total - patrolsEtc);
  const first = now - days * DAY;
  const seqOfYear = new Map<string, number>();
  for (let i = 0; i < issues; i++) {
    const started = first + Math.floor(((i + rnd()) / issues) * (now - first - HOUR));
    const year = localDate(started).slice(0, 4);
    const seq = (seqOfYear.get(year) ?? 0) + 1;
    seqOfYear.set(year, seq);
    const id = `issue/${year}-${String(seq).padStart(6, '0')}`;
    const g = pick(GRIDS);
    const urgent = rnd() < 0.1;
    const context = {
      source: weighted([['resident', 40], ['patrol', 30], ['hotline', 20], ['party-member', 5], ['meeting', 5]] as [string, number][]),
      category: pick(CATEGORIES),
      urgency: urgent ? 'urgent' : 'normal',
      level: 'grid',
      location: `${pick(SITES)} ${1 + Math.floor(rnd() * 12)}号楼`,
      description: '居民反映楼道堆放杂物，存在消防隐患，请尽快处理。',
    };
    const age = now - started;
    const running = (age < 60 * DAY && rnd() < 0.6) || rnd() < 0.002;
    const base = { workflow_id: id, definition_key: 'issue', business_key: id, title: TITLES.issue, grid: g, started_at: started };
    if (running) {
      const state = weighted(ISSUE_STATES);
      const due = started + (urgent ? DAY : 7 * DAY);
      yield { ...base, status: 'running', state, context, tasks: task(state, due), assignee: ROLE_OF[state], due_at: due, last_seq: 4, updated_at: Math.min(now, started + rnd() * age), ended_at: null };
    } else {
      const end = Math.min(now, started + DAY + rnd() * 20 * DAY);
      // Cancellations all date from the first years (a clean-up of stale issues): rows a filter
      // matches that are all old are what an index on (filter, updated_at) is for.
      const early = started < first + 2.5 * 365 * DAY;
      const [status, state] = weighted([[['completed', 'closed'], 88], [['completed', 'rejected'], 8], [['cancelled', 'handling'], early ? 16 : 0]] as [[string, string], number][]);
      yield { ...base, status, state, context: { ...context, satisfaction: 3 + Math.floor(rnd() * 3) }, tasks: [], assignee: null, due_at: null, last_seq: 9, updated_at: end, ended_at: end };
    }
  }
}

/** History for one instance: the path its state took, one step per change plus a few check-ins. */
function historyOf(r: Row): unknown[][] {
  const paths: Record<string, string[]> = {
    'daily-patrol': ['assigned', 'patrolling', 'patrolling', 'patrolling', r.state],
    'weekly-report': ['drafting', 'review', r.state],
    'monthly-review': ['scheduling', 'scheduled', 'in-session', 'evaluating', r.state],
    issue: r.state === 'rejected' ? ['reported', 'rejected'] : ['reported', 'triage', 'handling', 'verification', 'awaiting-evaluation', r.state],
  };
  let states = paths[r.definition_key];
  if (r.status === 'running') states = states.slice(0, Math.max(1, states.indexOf(r.state) + 1));
  const span = Math.max(1, r.updated_at - r.started_at);
  const steps: unknown[][] = [];
  let prev = '';
  states.forEach((to, i) => {
    const at = r.started_at + Math.floor((span * i) / Math.max(1, states.length - 1));
    const event = i === 0 ? '@start' : to === prev ? 'CHECK_IN' : to === 'closed' ? 'EVALUATE' : to.toUpperCase().replace(/-/g, '_');
    const data = event === 'EVALUATE' ? JSON.stringify({ satisfaction: 3 + (i % 3) }) : null;
    steps.push([r.workflow_id, i + 1, new Date(at).toISOString(), event, prev, to, i === 0 ? 'schedule' : 'bench', data, rnd() < 0.1, 1]);
    prev = to;
  });
  return steps;
}

/** Loads `total` instances (and a sample's history) into the read model; bench/run.ts reuses it. */
export async function load(orm: MikroORM, now: number, total = INSTANCES): Promise<{ instances: number; transitions: number }> {
  const conn = orm.em.fork().getConnection();
  const cols = 'workflow_id, definition_key, definition_version, business_key, title, grid, status, state, state_value, context, tasks, assignee, due_at, last_seq, started_at, updated_at, ended_at';
  let batch: unknown[][] = [];
  let history: unknown[][] = [];
  let instances = 0;
  let transitions = 0;
  const flush = async () => {
    if (batch.length) {
      await conn.execute(`insert into process_instance (${cols}) values ${batch.map(() => `(${Array(17).fill('?').join(',')})`).join(',')}`, batch.flat());
      instances += batch.length;
      batch = [];
    }
    if (history.length) {
      await conn.execute(
        `insert into transition_record (workflow_id, seq, at, event, from_state, to_state, actor, data, late, definition_version) values ${history.map(() => `(${Array(10).fill('?').join(',')})`).join(',')}`,
        history.flat(),
      );
      transitions += history.length;
      history = [];
    }
  };
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  let n = 0;
  for (const r of generate(total, now)) {
    batch.push([
      r.workflow_id, r.definition_key, 1, r.business_key, r.title, r.grid, r.status, r.state, JSON.stringify(r.state), JSON.stringify(r.context),
      JSON.stringify(r.tasks), r.assignee, iso(r.due_at), r.last_seq, iso(r.started_at), iso(r.updated_at), iso(r.ended_at),
    ]);
    // History for a sample: every tenth instance, and every running one (the timelines people open).
    if (n++ % 10 === 0 || r.status === 'running') history.push(...historyOf(r));
    if (batch.length === 1000) await flush();
    if (history.length >= 4000) await flush();
  }
  await flush();
  return { instances, transitions };
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Case {
  name: string;
  kind: 'list' | 'counts' | 'stats';
  run: () => Promise<unknown>;
}

interface Measured {
  p50: number;
  p99: number;
  max: number;
  rows: number;
  plan: string;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Records the statements the ORM's connection runs, so EXPLAIN sees exactly what the services sent. */
function captureSql(orm: MikroORM) {
  const connection = orm.em.getDriver().getConnection();
  const original = connection.execute.bind(connection);
  const seen: { sql: string; params: unknown[] }[] = [];
  connection.execute = (async (sql: string, params?: unknown[], ...rest: unknown[]) => {
    if (typeof sql === 'string' && !sql.startsWith('explain')) seen.push({ sql, params: params ?? [] });
    return (original as (...a: unknown[]) => Promise<unknown>)(sql, params, ...rest);
  }) as typeof connection.execute;
  return seen;
}

async function measure(orm: MikroORM, seen: { sql: string; params: unknown[] }[], c: Case, runs: number): Promise<Measured> {
  for (let i = 0; i < WARMUP; i++) await c.run();
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    seen.length = 0;
    const t0 = process.hrtime.bigint();
    const out = (await c.run()) as { items?: unknown[] };
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    rows = Array.isArray(out?.items) ? out.items.length : 0;
  }
  times.sort((a, b) => a - b);
  // The plan of every statement the last run sent (counts: two; the overview: four).
  const statements = [...seen];
  const plans: string[] = [];
  for (const st of statements) {
    const explained = await orm.em.fork().getConnection().execute<{ 'QUERY PLAN': string }[]>(`explain (analyze, buffers, costs off) ${st.sql}`, st.params);
    plans.push(explained.map((x) => x['QUERY PLAN']).join('\n'));
  }
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return { p50: r2(percentile(times, 50)), p99: r2(percentile(times, 99)), max: r2(times[times.length - 1]), rows, plan: plans.join('\n\n') };
}

async function applyMigration(orm: MikroORM, direction: 'up' | 'down'): Promise<void> {
  const m = new Migration20261125400000_read_indexes(orm.em.getDriver(), orm.config);
  await m[direction]();
  const conn = orm.em.fork().getConnection();
  for (const q of m.getQueries()) await conn.execute(String(q));
  await conn.execute('analyze process_instance; analyze transition_record');
}

async function main() {
  const keep = process.env.BENCH_KEEP === '1';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-bench-'));
  // PostgreSQL runs as the "postgres" OS user when we are root; it must reach its data dir.
  fs.chmodSync(dir, 0o755);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`starting embedded PostgreSQL in ${dir}`);
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres') });
  // Until db/migrations/index.ts lists the index migration, add it here so the migrator applies it as it will in production.
  if (!migrations.some((m) => m.name === 'Migration20261125400000_read_indexes')) {
    migrations.push({ name: 'Migration20261125400000_read_indexes', class: Migration20261125400000_read_indexes } as (typeof migrations)[number]);
  }
  const orm = await openOrm(pg.url);
  try {
    const conn = orm.em.fork().getConnection();
    await migrate(orm);
    await seedCommunity(orm);
    const [{ version }] = await conn.execute<{ version: string }[]>('select version()');
    const [{ lc_ctype }] = await conn.execute<{ lc_ctype: string }[]>('select datctype as lc_ctype from pg_database where datname = current_database()');
    log(`${version}; lc_ctype ${lc_ctype}`);

    const now = Date.now();
    const t0 = Date.now();
    const loaded = await load(orm, now);
    await conn.execute('vacuum analyze process_instance');
    await conn.execute('vacuum analyze transition_record');
    log(`loaded ${loaded.instances} instances and ${loaded.transitions} transitions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const [size] = await conn.execute<{ table: string; indexes: string }[]>(
      `select pg_size_pretty(pg_table_size('process_instance')) as table, pg_size_pretty(pg_indexes_size('process_instance')) as indexes`,
    );
    const [distribution] = await conn.execute<Record<string, string>[]>(
      `select count(*) filter (where status = 'running') as running, count(*) filter (where status = 'running' and due_at < now()) as overdue,
              count(distinct definition_key) as definitions, count(distinct grid) as grids from process_instance`,
    );

    const seen = captureSql(orm);
    const processes = new ProcessService({ orm } as unknown as ConstructorParameters<typeof ProcessService>[0]);
    const providers = new ProviderService(orm, async () => GRIDS);
    const stats = new StatsService(orm, providers);
    const list = (f: Omit<ListFilters, 'limit'>) => () => processes.list({ limit: 50, ...f });
    const counts = (f: ProcessFilters) => () => stats.counts(f);

    // Cursors as a client would hold them: page 1's nextCursor, and one deep in the list.
    const cursorAfter = async (f: Omit<ListFilters, 'limit'>) => (await processes.list({ limit: 50, ...f })).nextCursor ?? undefined;
    const [deep] = await conn.execute<{ updated_at: Date; workflow_id: string }[]>(
      `select updated_at, workflow_id from process_instance order by updated_at desc, workflow_id desc offset ? limit 1`,
      [Math.floor(INSTANCES / 2)],
    );
    const deepCursor = Buffer.from(JSON.stringify([new Date(deep.updated_at).toISOString(), deep.workflow_id])).toString('base64url');
    const thisYear = localDate(now).slice(0, 4);
    const month = localDate(now).slice(0, 7);

    const cases: Case[] = [
      { name: 'list: no filter', kind: 'list', run: list({}) },
      { name: 'list: page 2 (cursor)', kind: 'list', run: list({ cursor: await cursorAfter({}) }) },
      { name: 'list: deep page (cursor at row 100,000)', kind: 'list', run: list({ cursor: deepCursor }) },
      { name: 'list: definition=issue', kind: 'list', run: list({ definition: 'issue' }) },
      { name: 'list: definition=monthly-review (rare)', kind: 'list', run: list({ definition: 'monthly-review' }) },
      { name: 'list: grid=grid-03', kind: 'list', run: list({ grid: 'grid-03' }) },
      { name: 'list: grid=grid-03 page 2', kind: 'list', run: list({ grid: 'grid-03', cursor: await cursorAfter({ grid: 'grid-03' }) }) },
      { name: 'list: state=handling', kind: 'list', run: list({ state: 'handling' }) },
      { name: 'list: state=missed', kind: 'list', run: list({ state: 'missed' }) },
      { name: 'list: status=running', kind: 'list', run: list({ status: 'running' }) },
      { name: 'list: status=completed', kind: 'list', run: list({ status: 'completed' }) },
      { name: 'list: status=cancelled', kind: 'list', run: list({ status: 'cancelled' }) },
      { name: 'list: status=cancelled page 2', kind: 'list', run: list({ status: 'cancelled', cursor: await cursorAfter({ status: 'cancelled' }) }) },
      { name: 'list: grid=grid-03 & status=cancelled', kind: 'list', run: list({ grid: 'grid-03', status: 'cancelled' }) },
      { name: 'list: definition=weekly-report & grid=grid-01', kind: 'list', run: list({ definition: 'weekly-report', grid: 'grid-01' }) },
      { name: 'list: state=rejected & grid=grid-09', kind: 'list', run: list({ state: 'rejected', grid: 'grid-09' }) },
      { name: 'list: assignee=grid-leader', kind: 'list', run: list({ assignee: 'grid-leader' }) },
      { name: 'list: overdue=true', kind: 'list', run: list({ overdue: true }) },
      { name: 'list: overdue=true page 2', kind: 'list', run: list({ overdue: true, cursor: await cursorAfter({ overdue: true }) }) },
      { name: 'list: overdue=false', kind: 'list', run: list({ overdue: false }) },
      { name: 'list: grid=grid-05 & overdue=true', kind: 'list', run: list({ grid: 'grid-05', overdue: true }) },
      { name: 'list: definition=issue & grid=grid-07 & status=running', kind: 'list', run: list({ definition: 'issue', grid: 'grid-07', status: 'running' }) },
      { name: 'list: definition=issue & state=handling & assignee=grid-worker', kind: 'list', run: list({ definition: 'issue', state: 'handling', assignee: 'grid-worker' }) },
      { name: 'list: definition=daily-patrol & grid=grid-11 & status=completed', kind: 'list', run: list({ definition: 'daily-patrol', grid: 'grid-11', status: 'completed' }) },
      { name: 'list: q=issue number (rare)', kind: 'list', run: list({ q: `${thisYear}-000123` }) },
      { name: 'list: q=grid-03 (common)', kind: 'list', run: list({ q: 'grid-03' }) },
      { name: 'list: q=a day of patrols', kind: 'list', run: list({ q: `/${addDays(localDate(now), -400)}` }) },
      { name: 'list: q=巡查 (Chinese title, 2 chars)', kind: 'list', run: list({ q: '巡查' }) },
      { name: 'list: q=问题办理 (Chinese title, 4 chars)', kind: 'list', run: list({ q: '问题办理' }) },
      { name: 'list: q=no match', kind: 'list', run: list({ q: 'zz-no-such-thing' }) },
      { name: 'list: q=issue number & grid=grid-02', kind: 'list', run: list({ q: `${thisYear}-0001`, grid: 'grid-02' }) },
      { name: 'counts: no filter', kind: 'counts', run: counts({}) },
      { name: 'counts: definition=issue', kind: 'counts', run: counts({ definition: 'issue' }) },
      { name: 'counts: status=completed', kind: 'counts', run: counts({ status: 'completed' }) },
      { name: 'counts: state=closed', kind: 'counts', run: counts({ state: 'closed' }) },
      { name: 'counts: overdue=false', kind: 'counts', run: counts({ overdue: false }) },
      { name: 'counts: grid=grid-03', kind: 'counts', run: counts({ grid: 'grid-03' }) },
      { name: 'counts: status=running', kind: 'counts', run: counts({ status: 'running' }) },
      { name: 'counts: overdue=true', kind: 'counts', run: counts({ overdue: true }) },
      { name: 'counts: definition=issue & grid=grid-07', kind: 'counts', run: counts({ definition: 'issue', grid: 'grid-07' }) },
      { name: 'counts: state=handling & assignee=grid-worker', kind: 'counts', run: counts({ state: 'handling', assignee: 'grid-worker' }) },
      { name: 'counts: q=grid-03', kind: 'counts', run: counts({ q: 'grid-03' }) },
      { name: 'counts: q=issue number (rare)', kind: 'counts', run: counts({ q: `${thisYear}-000123` }) },
      { name: 'stats: overview of this month', kind: 'stats', run: () => stats.overview({}) },
      { name: 'stats: evaluation (provisional, this month)', kind: 'stats', run: () => stats.evaluation(month) },
    ];
    const runsOf = (c: Case) => (c.kind === 'stats' ? Math.min(RUNS, 20) : RUNS);

    const results: Record<string, { kind: string; indexed?: Measured; baseline?: Measured }> = {};
    const phase = async (label: 'indexed' | 'baseline') => {
      for (const c of cases) {
        const m = await measure(orm, seen, c, runsOf(c));
        (results[c.name] ??= { kind: c.kind })[label] = m;
        log(`${label.padEnd(8)} ${c.name.padEnd(64)} p50 ${m.p50.toFixed(2).padStart(8)} ms  p99 ${m.p99.toFixed(2).padStart(8)} ms`);
      }
    };
    await phase('indexed');
    await applyMigration(orm, 'down');
    await phase('baseline');
    await applyMigration(orm, 'up');

    const fmt = (n?: number) => (n === undefined ? '' : n.toFixed(2));
    const lines = [
      `Read model: ${loaded.instances.toLocaleString('en')} instances (${distribution.running} running, ${distribution.overdue} overdue, ${distribution.definitions} definitions, ${distribution.grids} grids), ${loaded.transitions.toLocaleString('en')} transitions; table ${size.table}, indexes ${size.indexes} with the new ones. ${RUNS} runs per query (stats: 20), times in ms through ProcessService.list / StatsService as the API calls them. ${os.cpus().length} CPUs; ${version.split(',')[0]}, lc_ctype ${lc_ctype}.`,
      '',
      '| query | baseline p50 | baseline p99 | indexed p50 | indexed p99 | rows (counts: states) | p99 < 50 ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | :---: |',
      ...Object.entries(results).map(([name, r]) => `| ${name} | ${fmt(r.baseline?.p50)} | ${fmt(r.baseline?.p99)} | ${fmt(r.indexed?.p50)} | ${fmt(r.indexed?.p99)} | ${r.kind === 'stats' ? '' : (r.indexed?.rows ?? '')} | ${r.kind === 'stats' ? 'n/a' : (r.indexed?.p99 ?? Infinity) < TARGET_P99_MS ? 'yes' : '**no**'} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const out = path.join(__dirname, 'results', 'read-model.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      `${JSON.stringify({ at: new Date(now).toISOString(), instances: loaded.instances, transitions: loaded.transitions, distribution, size, runs: RUNS, cpus: os.cpus().length, postgres: version, lcCtype: lc_ctype, targetP99Ms: TARGET_P99_MS, results }, null, 2)}\n`,
    );
    log(`wrote ${out}`);
  } finally {
    await orm.close();
    await pg.stop();
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

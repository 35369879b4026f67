import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { toCsv } from '../../api/csv';
import { problemHandler } from '../../api/problem';
import { statsRoutes } from '../../api/stats.routes';
import { createLogger } from '../../infra/log';
import { StatsService } from '../../services/stats.service';
import { eventually, startHarness, type Harness } from '../support/harness';

/*
 * A hand-counted read model, written straight into the tables. Other test files run in parallel
 * against the same database with grid-01..12 and the current month, so everything here lives in
 * definitions named for this run (stats-test-<run>-a / -b) or in 2019, which nobody else touches:
 * May 2019 for the overview, April 2019 for a provisional evaluation, March 2019 for a confirmed one.
 */
const run = crypto.randomUUID().slice(0, 8);
const A = `stats-test-${run}-a`;
const B = `stats-test-${run}-b`;

interface InstanceFixture {
  id: string;
  definition: string;
  grid: string | null;
  status: 'running' | 'completed' | 'cancelled' | 'failed';
  state: string;
  title?: string;
  assignee?: string | null;
  dueAt?: string | null;
  startedAt: string;
  updatedAt?: string;
  context?: Record<string, unknown>;
}
type Step = [seq: number, at: string, event: string, from: string, to: string, late?: boolean, data?: Record<string, unknown>];

const instances: InstanceFixture[] = [
  // A: an issue-like process. A2's deadline is set by the overdue test itself.
  { id: `${A}/甲-001`, definition: A, grid: 'grid-01', status: 'running', state: 'handling', title: `统计测试${run}·井盖破损`, assignee: 'grid-worker', dueAt: 'overdue', startedAt: '2019-05-01T09:00:00+08:00' },
  { id: `${A}/甲-002`, definition: A, grid: 'grid-01', status: 'running', state: 'handling', assignee: 'grid-worker', startedAt: '2019-05-06T08:00:00+08:00' },
  { id: `${A}/甲-003`, definition: A, grid: 'grid-02', status: 'running', state: 'triage', assignee: 'grid-leader', startedAt: '2019-05-02T08:00:00+08:00' },
  // Ended instances are never overdue, whatever their last deadline was.
  { id: `${A}/甲-004`, definition: A, grid: 'grid-02', status: 'completed', state: 'closed', dueAt: '2019-05-03T00:00:00+08:00', startedAt: '2019-05-02T09:00:00+08:00' },
  { id: `${A}/甲-005`, definition: A, grid: 'grid-03', status: 'cancelled', state: 'handling', startedAt: '2019-05-05T08:00:00+08:00' },
  // B: a report-like process, one of them community-level (no grid).
  { id: `${B}/乙-001`, definition: B, grid: 'grid-01', status: 'running', state: 'drafting', assignee: 'grid-worker', dueAt: 'overdue', startedAt: '2019-05-10T09:00:00+08:00' },
  { id: `${B}/乙-002`, definition: B, grid: 'grid-01', status: 'completed', state: 'approved', startedAt: '2019-05-10T09:00:00+08:00' },
  { id: `${B}/乙-003`, definition: B, grid: null, status: 'running', state: 'evaluating', assignee: 'community-manager', dueAt: 'future', startedAt: '2019-05-25T09:00:00+08:00' },
  // Patrols of May 2019 (household coverage) and April 2019 (the provisional evaluation).
  ...(
    [
      ['grid-01', '2019-05-08', 'completed', 30],
      ['grid-01', '2019-05-09', 'completed', 12],
      ['grid-02', '2019-05-08', 'completed', 25],
      ['grid-02', '2019-05-09', 'missed', 0],
      ['grid-01', '2019-04-01', 'completed', 20],
      ['grid-01', '2019-04-02', 'completed', 18],
      ['grid-01', '2019-04-03', 'missed', 0],
    ] as const
  ).map(([grid, day, state, households]) => ({
    id: `daily-patrol/${grid}/${day}`,
    definition: 'daily-patrol',
    grid,
    status: 'completed' as const,
    state,
    title: '每日巡查',
    startedAt: `${day}T08:30:00+08:00`,
    updatedAt: `${day}T${state === 'missed' ? '23:59' : '16:00'}:00+08:00`,
    context: { day, checkIns: households ? 2 : 0, householdsVisited: households, late: state === 'missed' },
  })),
  // An issue of grid-02 resolved late and rated 3 in April 2019.
  { id: `issue/2019-${run}`, definition: 'issue', grid: 'grid-02', status: 'completed', state: 'closed', title: '五事工作法·问题办理', startedAt: '2019-04-02T10:00:00+08:00', updatedAt: '2019-04-20T10:00:00+08:00' },
];

const steps: Record<string, Step[]> = {
  [`${A}/甲-001`]: [
    [1, '2019-05-01T09:00:00+08:00', '@start', '', 'reported'],
    [2, '2019-05-01T10:00:00+08:00', 'ACCEPT', 'reported', 'triage'],
    [3, '2019-05-01T12:00:00+08:00', 'HANDLE_IN_GRID', 'triage', 'handling', true],
    [4, '2019-05-01T13:00:00+08:00', '@reminder:due-soon', 'handling', 'handling'],
  ],
  [`${A}/甲-002`]: [
    [1, '2019-05-06T08:00:00+08:00', '@start', '', 'reported'],
    [2, '2019-05-06T08:30:00+08:00', 'ACCEPT', 'reported', 'triage'],
    [3, '2019-05-06T09:00:00+08:00', 'HANDLE_IN_GRID', 'triage', 'handling'],
    [4, '2019-05-06T10:00:00+08:00', 'RESOLVE', 'handling', 'verification'],
    [5, '2019-05-06T11:00:00+08:00', 'VERIFY_OK', 'verification', 'awaiting-evaluation'],
    [6, '2019-05-07T11:00:00+08:00', 'EVALUATE', 'awaiting-evaluation', 'handling', false, { satisfaction: 2 }],
    [7, '2019-05-07T12:00:00+08:00', 'PROGRESS', 'handling', 'handling'],
  ],
  [`${A}/甲-004`]: [
    [1, '2019-05-02T09:00:00+08:00', '@start', '', 'reported'],
    [2, '2019-05-02T09:30:00+08:00', 'ACCEPT', 'reported', 'triage'],
    [3, '2019-05-02T11:30:00+08:00', 'HANDLE_IN_GRID', 'triage', 'handling'],
    [4, '2019-05-03T11:30:00+08:00', 'RESOLVE', 'handling', 'verification', true],
    [5, '2019-05-03T12:30:00+08:00', 'VERIFY_OK', 'verification', 'awaiting-evaluation'],
    [6, '2019-05-04T12:30:00+08:00', 'EVALUATE', 'awaiting-evaluation', 'closed', false, { satisfaction: 4 }],
  ],
  [`${A}/甲-005`]: [
    [1, '2019-05-05T08:00:00+08:00', '@start', '', 'reported'],
    [2, '2019-05-05T09:00:00+08:00', '@cancel', 'reported', 'reported', false, { reason: '重复上报' }],
  ],
  [`${B}/乙-002`]: [
    [1, '2019-05-10T09:00:00+08:00', '@start', '', 'drafting'],
    [2, '2019-05-10T18:00:00+08:00', 'SUBMIT', 'drafting', 'review', true],
    [3, '2019-05-11T10:00:00+08:00', 'APPROVE', 'review', 'approved'],
  ],
  [`issue/2019-${run}`]: [
    [1, '2019-04-02T10:00:00+08:00', '@start', '', 'reported'],
    [2, '2019-04-10T10:00:00+08:00', 'RESOLVE', 'handling', 'verification', true],
    [3, '2019-04-11T10:00:00+08:00', 'VERIFY_OK', 'verification', 'awaiting-evaluation'],
    [4, '2019-04-20T10:00:00+08:00', 'EVALUATE', 'awaiting-evaluation', 'closed', false, { satisfaction: 3 }],
  ],
};

// The ranking the March 2019 review confirmed: scores as fetched then, and the manager's adjustments.
const indicators = (patrolRate: number) => ({
  patrols: 30, patrolsCompleted: Math.round(30 * patrolRate), weeklyReports: 4, weeklyOnTime: 4, issuesResolved: 0, issuesOnTime: 0,
  evaluations: 0, satisfactionSum: 0, patrolRate, weeklyOnTimeRate: 1, issuesOnTimeRate: 1, meanSatisfaction: 5,
});
const confirmed = {
  id: `stats-test-${run}:monthly-ranking`,
  workflowId: `monthly-review/2019-03`,
  data: {
    month: '2019-03',
    scores: {
      month: '2019-03',
      weights: { patrol: 30, weekly: 20, issues: 30, satisfaction: 20 },
      grids: [
        { grid: 'grid-01', indicators: indicators(0.8333), score: 95 },
        { grid: 'grid-02', indicators: indicators(0.6667), score: 90 },
        { grid: 'grid-03', indicators: indicators(0.6), score: 88 },
      ],
    },
    adjustments: [
      { grid: 'grid-03', points: 5, reason: '主动化解邻里纠纷', by: 'manager', at: '2019-03-28T10:00:00+08:00' },
      { grid: 'grid-01', points: -3, reason: '巡查记录不全, 需补录', by: 'manager', at: '2019-03-28T10:05:00+08:00' },
    ],
    note: '排名已公布',
  },
};

let h: Harness;
let stats: StatsService;
let server: Server;
let baseUrl: string;

const conn = () => h.services.orm.em.fork().getConnection();

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}${path}`, { headers });
  // Buffer keeps the BOM that res.text() would strip.
  const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, text, body: /json/.test(type) ? JSON.parse(text) : undefined };
}

async function removeFixture() {
  const ids = instances.map((i) => i.id);
  await conn().execute(`delete from audit_log where action = 'export' and actor = ?`, [`stats-test-${run}`]);
  await conn().execute(`delete from transition_record where workflow_id in (?)`, [ids]);
  await conn().execute(`delete from process_instance where workflow_id in (?)`, [ids]);
  await conn().execute(`delete from process_record where id = ?`, [confirmed.id]);
}

beforeAll(async () => {
  h = await startHarness({ worker: false });
  stats = new StatsService(h.services.orm, h.services.providers);
  await removeFixture();
  const c = conn();
  for (const i of instances) {
    const due = i.dueAt === 'overdue' ? `now() - interval '1 hour'` : i.dueAt === 'future' ? `now() + interval '1 day'` : '?';
    await c.execute(
      `insert into process_instance (workflow_id, definition_key, definition_version, business_key, title, grid, status, state, state_value, context, tasks,
         assignee, due_at, last_seq, started_at, updated_at, ended_at)
       values (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ${due}, ?, ?, ?, ?)`,
      [
        i.id, i.definition, i.id, i.title ?? `统计测试${run}`, i.grid, i.status, i.state, JSON.stringify(i.state), JSON.stringify(i.context ?? {}),
        i.assignee ?? null, ...(due === '?' ? [i.dueAt ?? null] : []), steps[i.id]?.length ?? 1, i.startedAt, i.updatedAt ?? i.startedAt,
        i.status === 'running' ? null : (i.updatedAt ?? i.startedAt),
      ],
    );
    for (const [seq, at, event, from, to, late, data] of steps[i.id] ?? []) {
      await c.execute(
        `insert into transition_record (workflow_id, seq, at, event, from_state, to_state, actor, data, late, definition_version) values (?, ?, ?, ?, ?, ?, 'test', ?, ?, 1)`,
        [i.id, seq, at, event, from, to, data ? JSON.stringify(data) : null, late ?? false],
      );
    }
  }
  await c.execute(`insert into process_record (id, workflow_id, kind, at, grid, data) values (?, ?, 'monthly-ranking', '2019-03-28T11:00:00+08:00', null, ?)`, [
    confirmed.id,
    confirmed.workflowId,
    JSON.stringify(confirmed.data),
  ]);

  const app = express();
  app.set('query parser', 'simple');
  // Stands in for authenticate(): a manager, or a grid role limited to the grids in x-test-grids.
  app.use((req, _res, next) => {
    const grids = req.get('x-test-grids');
    req.principal = grids ? { role: 'grid-leader', name: '网格长02', grids: grids.split(',') } : { role: 'manager', name: `stats-test-${run}`, grids: 'all' };
    next();
  });
  app.use('/api', statsRoutes(stats));
  app.use(problemHandler(createLogger('error')));
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  if (h) {
    await removeFixture();
    await h.close();
  }
});

describe('counts per state, with the filters of the process list', () => {
  test('a definition is counted per state, most frequent first, with its overdue instances', async () => {
    expect(await stats.counts({ definition: A })).toEqual({
      total: 5,
      overdue: 1,
      items: [
        { definition: A, state: 'handling', count: 3, overdue: 1 },
        { definition: A, state: 'closed', count: 1, overdue: 0 },
        { definition: A, state: 'triage', count: 1, overdue: 0 },
      ],
    });
  });

  test.each([
    ['grid', { definition: A, grid: 'grid-01' }, { handling: 2 }],
    ['state', { definition: A, state: 'handling' }, { handling: 3 }],
    ['status', { definition: A, status: 'running' }, { handling: 2, triage: 1 }],
    ['status cancelled', { definition: A, status: 'cancelled' }, { handling: 1 }],
    ['assignee', { definition: A, assignee: 'grid-leader' }, { triage: 1 }],
    ['grid without a match', { definition: A, grid: 'grid-12' }, {}],
    ['free text in the title, any case', { q: `${run}·井盖` }, { handling: 1 }],
    ['free text in the business key', { definition: B, q: '乙-00' }, { drafting: 1, approved: 1, evaluating: 1 }],
  ])('filter by %s', async (_name, filters, expected) => {
    const counts = await stats.counts(filters);
    expect(Object.fromEntries(counts.items.map((i) => [i.state, i.count]))).toEqual(expected);
    // The list answers the same question: the counts never disagree with it.
    const list = await h.services.processes.list({ ...filters, limit: 500 });
    expect(list.items).toHaveLength(counts.total);
  });

  test('free text matches business keys without regard to case', async () => {
    const counts = await stats.counts({ q: run.toUpperCase() });
    expect(counts.total).toBe(9); // 5 of A, 3 of B, the April issue
  });

  test('a grid role sees only its grids', async () => {
    expect((await stats.counts({ definition: A }, ['grid-02'])).items.map((i) => [i.state, i.count])).toEqual([
      ['closed', 1],
      ['triage', 1],
    ]);
    expect((await stats.counts({ definition: B }, [])).total).toBe(0);
  });

  test('an instance becomes overdue when its deadline passes, and only while it runs', async () => {
    const a2 = `${A}/甲-002`;
    const [{ due }] = await conn().execute<{ due: Date }[]>(`update process_instance set due_at = now() + interval '5 seconds' where workflow_id = ? returning due_at as due`, [a2]);
    const before = await stats.counts({ definition: A, overdue: true });
    const listed = await h.services.processes.list({ definition: A, limit: 50 });
    expect(Date.now()).toBeLessThan(new Date(due).getTime());
    expect(before.total).toBe(1);
    expect(listed.items.find((i) => i.workflowId === a2)).toMatchObject({ overdue: false });
    expect((await stats.counts({ definition: A, overdue: false })).total).toBe(4);

    const after = await eventually(async () => {
      const c = await stats.counts({ definition: A, overdue: true });
      return c.total === 2 && c;
    }, 10_000, 250);
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(due).getTime());
    expect(after.items).toEqual([{ definition: A, state: 'handling', count: 2, overdue: 2 }]);
    expect((await h.services.processes.list({ definition: A, limit: 50 })).items.find((i) => i.workflowId === a2)).toMatchObject({ overdue: true });
    expect((await stats.counts({ definition: A, overdue: false })).total).toBe(3);
    // 甲-004 is past its deadline too, but it has ended.
    expect((await stats.counts({ definition: A, overdue: true, status: 'completed' })).total).toBe(0);
  });

  test('GET /processes-counts answers JSON and CSV, and refuses an unknown filter', async () => {
    const json = await get(`/api/processes-counts?definition=${A}&status=running`);
    expect(json.status).toBe(200);
    expect(json.body.items.map((i: { state: string; count: number }) => `${i.state}:${i.count}`)).toEqual(['handling:2', 'triage:1']);

    const csv = await get(`/api/processes-counts?definition=${A}&format=csv`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    // This test's definition is not a published one, so there is no name to give: the column is empty.
    expect(csv.text.startsWith('\uFEFFdefinition,state,stateName,count,overdue\r\n')).toBe(true);
    expect(csv.text).toContain(`${A},triage,,1,0\r\n`);

    const own = await get(`/api/processes-counts?definition=${A}`, { 'x-test-grids': 'grid-02' });
    expect(own.body).toMatchObject({ total: 2, items: [{ state: 'closed', count: 1 }, { state: 'triage', count: 1 }] });

    const bad = await get('/api/processes-counts?limit=5');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(bad.body.errors).toEqual([{ path: 'limit', message: 'unknown field(s) "limit"; remove them' }]);
  });
});

describe('the overview of a period', () => {
  test('counts, on-time rates, time in each state and satisfaction per definition, by hand', async () => {
    const o = await stats.overview({ from: '2019-05-01', to: '2019-05-31' });
    expect(o.period).toEqual({ from: '2019-05-01T00:00:00.000+08:00', to: '2019-06-01T00:00:00.000+08:00' });
    expect(o.generatedAt).toMatch(/\+08:00$/);

    const a = o.definitions.find((d) => d.definition === A);
    // A2's overdue depends on when the deadline test ran: it is the only running one with a moving deadline.
    expect(a).toMatchObject({ started: 5, completed: 1, running: 3, cancelled: 1, failed: 0 });
    // ACCEPT, HANDLE_IN_GRID (late) of 甲-001; five moves of 甲-002; five of 甲-004 with a late RESOLVE.
    expect(a?.onTime).toEqual({ steps: 12, late: 2, rate: 0.8333 });
    expect(a?.satisfaction).toEqual({ evaluations: 2, mean: 3 });
    // In each state now, and the stays that ended: 甲-001 and 甲-002 are still handling, and the
    // stay that 甲-005's cancellation ended in `reported` is not a move.
    expect(a?.states).toEqual([
      { state: 'awaiting-evaluation', instances: 0, visits: 2, meanSeconds: 86_400 },
      { state: 'closed', instances: 1, visits: 0, meanSeconds: null },
      { state: 'handling', instances: 3, visits: 2, meanSeconds: 45_000 },
      { state: 'reported', instances: 0, visits: 3, meanSeconds: 2_400 },
      { state: 'triage', instances: 1, visits: 3, meanSeconds: 5_400 },
      { state: 'verification', instances: 0, visits: 2, meanSeconds: 3_600 },
    ]);

    const b = o.definitions.find((d) => d.definition === B);
    expect(b).toMatchObject({ started: 3, completed: 1, running: 2, overdue: 1, onTime: { steps: 2, late: 1, rate: 0.5 }, satisfaction: { evaluations: 0, mean: null } });
    expect(b?.states).toEqual([
      { state: 'approved', instances: 1, visits: 0, meanSeconds: null },
      { state: 'drafting', instances: 1, visits: 1, meanSeconds: 9 * 3600 },
      { state: 'evaluating', instances: 1, visits: 0, meanSeconds: null },
      { state: 'review', instances: 0, visits: 1, meanSeconds: 16 * 3600 },
    ]);

    const patrol = o.definitions.find((d) => d.definition === 'daily-patrol');
    expect(patrol).toMatchObject({ started: 4, completed: 4, running: 0, overdue: 0 });
    expect(o.total).toMatchObject({ started: 12, completed: 6, running: 5, cancelled: 1, onTime: { steps: 14, late: 3 } });
  });

  test('per grid: figures, each definition of the grid, and household coverage of the patrols', async () => {
    const o = await stats.overview({ from: '2019-05-01', to: '2019-05-31' });
    const households = new Map((await conn().execute<{ id: string; households: number }[]>('select id, households from grid')).map((g) => [g.id, g.households]));
    const g1 = o.grids.find((g) => g.grid === 'grid-01');
    expect(g1).toMatchObject({ started: 6, completed: 3, running: 3, households: households.get('grid-01') });
    // 甲-001: 2 moves, 1 late; 甲-002: 5 moves; 乙-002: 2 moves, 1 late.
    expect(g1?.onTime).toEqual({ steps: 9, late: 2, rate: 0.7778 });
    expect(g1?.satisfaction).toEqual({ evaluations: 1, mean: 2 });
    expect(g1?.patrolCoverage).toEqual({ patrols: 2, householdsVisited: 42, households: households.get('grid-01'), rate: Math.round((42 / households.get('grid-01')!) * 1e4) / 1e4 });
    expect(g1?.definitions.map((d) => d.definition)).toEqual([A, B, 'daily-patrol'].sort());
    expect(g1?.definitions.find((d) => d.definition === B)).toMatchObject({ started: 2, running: 1, overdue: 1, completed: 1 });

    const g2 = o.grids.find((g) => g.grid === 'grid-02');
    expect(g2).toMatchObject({ started: 4, completed: 3, running: 1, overdue: 0, onTime: { steps: 5, late: 1, rate: 0.8 }, satisfaction: { evaluations: 1, mean: 4 } });
    expect(g2?.patrolCoverage).toMatchObject({ patrols: 2, householdsVisited: 25 });

    // A grid with nothing in the period is listed with zeros; the community-level instance has its own line.
    expect(o.grids.find((g) => g.grid === 'grid-12')).toMatchObject({ started: 0, onTime: { steps: 0, rate: null }, patrolCoverage: { patrols: 0, householdsVisited: 0, rate: 0 }, definitions: [] });
    expect(o.grids.at(-1)).toMatchObject({ grid: null, households: null, patrolCoverage: null, started: 1, running: 1, overdue: 0 });
    // The admin's view: every community's grids, the second community's three among them.
    expect(o.grids.filter((g) => g.grid !== null)).toHaveLength(15);
    const shengshi = await stats.overview({ from: '2019-05-01', to: '2019-05-31' }, { grids: 'all', communities: ['shengshi'] });
    expect(shengshi.grids.filter((g) => g.grid !== null)).toHaveLength(12);

    const scoped = await stats.overview({ from: '2019-05-01', to: '2019-05-31' }, ['grid-02']);
    expect(scoped.grids.map((g) => g.grid)).toEqual(['grid-02']);
    expect(scoped.total).toMatchObject({ started: 4, completed: 3, running: 1 });
  });

  test('a period bound that is an instant with an offset is exact; a malformed or empty period is a 400', async () => {
    const o = await stats.overview({ from: '2019-05-02T00:00:00+08:00', to: '2019-05-02T10:00:00+08:00' });
    expect(o.definitions.find((d) => d.definition === A)).toMatchObject({ started: 2, onTime: { steps: 1, late: 0 } });

    for (const q of ['from=2019-5-1', 'from=yesterday', 'to=2019-05-02T10:00:00', 'from=2019-05-02&to=2019-05-01', 'since=2019-05-01']) {
      const res = await get(`/api/stats/overview?${q}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    }
  });

  test('GET /stats/overview answers the same figures as JSON and as CSV', async () => {
    const res = await get('/api/stats/overview?from=2019-05-01&to=2019-05-31');
    expect(res.status).toBe(200);
    expect(res.body.definitions.find((d: { definition: string }) => d.definition === A).started).toBe(5);

    const csv = await get('/api/stats/overview?from=2019-05-01&to=2019-05-31&format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="_____2019-05-01_2019-05-31.csv"; filename*=UTF-8''${encodeURIComponent('统计概览_2019-05-01_2019-05-31.csv')}`,
    );
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toContain(',instances:handling,meanSeconds:handling,');
    expect(lines[0].startsWith('\uFEFFgrid,definition,started,completed,running,overdue')).toBe(true);
    // The total line: 14 moves, 3 late; two evaluations (2 and 4).
    expect(lines.filter((l) => l.startsWith(`*,*,12,6,5,${res.body.total.overdue},1,0,14,3,0.7857,2,3,`))).toHaveLength(1);
  });
});

describe('the monthly evaluation', () => {
  test('a confirmed month is the ranking the review recorded, with its adjustments and reasons', async () => {
    const e = await stats.evaluation('2019-03');
    expect(e).toMatchObject({ month: '2019-03', source: 'confirmed', workflowId: 'monthly-review/2019-03', confirmedAt: '2019-03-28T11:00:00.000+08:00', note: '排名已公布' });
    expect(e.weights).toEqual({ patrol: 30, weekly: 20, issues: 30, satisfaction: 20 });
    expect(e.grids.map((g) => [g.grid, g.score, g.adjustment, g.total, g.rank])).toEqual([
      ['grid-03', 88, 5, 93, 1],
      ['grid-01', 95, -3, 92, 2],
      ['grid-02', 90, 0, 90, 3],
    ]);
    expect(e.grids[1].adjustments).toEqual([expect.objectContaining({ points: -3, reason: '巡查记录不全, 需补录' })]);
  });

  test('a month without a confirmed ranking is computed now by the definition\'s rules, marked provisional; nothing to measure is no data', async () => {
    const e = await stats.evaluation('2019-04');
    expect(e).toMatchObject({ month: '2019-04', source: 'provisional', workflowId: null, reviewMonth: null, adjustments: [] });
    expect(e.rules).toMatchObject({ period: 'previous-month', weights: { patrol: 30, weekly: 20, issues: 30, satisfaction: 20 } });
    expect(e.grids).toHaveLength(12);
    const byGrid = Object.fromEntries(e.grids.map((g) => [g.grid, g]));
    // grid-01: 2 of 3 patrols completed, nothing else measured -> 30 x 0.6667, scaled to 100 = 66.67.
    expect(byGrid['grid-01']).toMatchObject({ score: 66.67, total: 66.67, rank: 1, indicators: expect.objectContaining({ patrols: 3, patrolsCompleted: 2, patrolsMissed: 1, weeklyOnTimeRate: null }) });
    // grid-02: its one issue resolved late, rated 3 -> (30 x 0 + 20 x 3 / 5) x 100 / 50 = 24.
    expect(byGrid['grid-02']).toMatchObject({ score: 24, rank: 2, indicators: expect.objectContaining({ issuesResolved: 1, issuesOnTime: 0, meanSatisfaction: 3, patrolRate: null }) });
    // Nothing to measure is no data: no score and no rank, not full marks.
    expect(byGrid['grid-07']).toMatchObject({ score: null, total: null, rank: null, indicators: expect.objectContaining({ patrolRate: null, weeklyOnTimeRate: null, issuesOnTimeRate: null, meanSatisfaction: null }) });
    expect(e.grids.slice(2).every((g) => g.rank === null)).toBe(true);
  });

  test('a month in which nothing happened ranks nobody first', async () => {
    const e = await stats.evaluation('2019-06');
    expect(e.grids).toHaveLength(12);
    expect(e.grids.every((g) => g.score === null && g.rank === null)).toBe(true);
  });

  test('GET /evaluations/:month as CSV keeps the Chinese reasons readable; a malformed month is a 400', async () => {
    const csv = await get('/api/evaluations/2019-03?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('网格评比_2019-03.csv')}`);
    const [header, first, second] = csv.text.split('\r\n');
    expect(header).toBe(
      '\uFEFFmonth,source,rank,grid,total,score,adjustment,adjustmentReasons,deduction,deductionReasons,patrols,patrolsCompleted,patrolsLate,patrolsSubmittedLate,patrolsMissed,patrolRate,weeklyReports,weeklyOnTime,weeklyOnTimeRate,issuesResolved,issuesOnTime,issuesOnTimeRate,evaluations,satisfactionSum,meanSatisfaction',
    );
    // A ranking confirmed before deductions and the finer patrol counts existed leaves them empty.
    expect(first).toBe('2019-03,confirmed,1,grid-03,93,88,5,主动化解邻里纠纷 (+5),0,,30,18,,,,0.6,4,4,1,0,0,1,0,0,5');
    // A reason with a comma is quoted; the negative adjustment stays a number.
    expect(second).toBe('2019-03,confirmed,2,grid-01,92,95,-3,"巡查记录不全, 需补录 (-3)",0,,30,25,,,,0.8333,4,4,1,0,0,1,0,0,5');

    const json = await get('/api/evaluations/2019-03');
    expect(json.body.grids[0]).toMatchObject({ grid: 'grid-03', rank: 1 });

    // Every export is audited, with who asked for what.
    const audit = await conn().execute<{ subject: string; data: { rows: number; query: Record<string, string> } }[]>(
      `select subject, data from audit_log where action = 'export' and actor = ? order by id`,
      [`stats-test-${run}`],
    );
    expect(audit.map((x) => x.subject)).toEqual(expect.arrayContaining(['processes-counts', 'stats:overview', 'evaluation:2019-03']));
    expect(audit.find((x) => x.subject === 'evaluation:2019-03')?.data).toEqual({ query: { format: 'csv' }, rows: 3 });

    for (const month of ['2019-13', '2019-3', 'march']) {
      const res = await get(`/api/evaluations/${month}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'month', message: 'a month as YYYY-MM, e.g. "2026-11"' }]);
    }
  });
});

describe('CSV export', () => {
  test('UTF-8 with a BOM, RFC 4180 quoting, nested values as JSON, formulas kept as text', () => {
    const csv = toCsv([
      { 名称: '盛世华庭南区', note: 'a, "quoted"\nline', n: 3, nested: { a: [1, 2] }, empty: null },
      { 名称: '=HYPERLINK("http://x")', n: -2, extra: true },
    ]);
    expect(csv).toBe(
      '\uFEFF名称,note,n,nested,empty,extra\r\n' +
        '盛世华庭南区,"a, ""quoted""\nline",3,"{""a"":[1,2]}",,\r\n' +
        `"'=HYPERLINK(""http://x"")",,-2,,,true\r\n`,
    );
    expect(toCsv([], ['a', 'b'])).toBe('\uFEFFa,b\r\n');
  });
});

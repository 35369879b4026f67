import { localDate } from '../../definitions/time';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { recordHistory } from '../support/record';

let h: Harness;
let prefix: string;

beforeAll(async () => {
  h = await startHarness();
  prefix = `${h.taskQueue}/`;
  const first = await h.services.schedules.ensure();
  expect(first.created.sort()).toEqual([`${prefix}daily-patrol`, `${prefix}monthly-review`, `${prefix}weekly-report`]);
});
afterAll(async () => {
  for (const key of ['daily-patrol', 'weekly-report', 'monthly-review']) {
    await h.services.client.schedule.getHandle(`${prefix}${key}`).delete().catch(() => undefined);
  }
  await h?.close();
});

async function patrolsToday(): Promise<string[]> {
  const rows = await h.services.orm.em.fork().getConnection().execute<{ workflow_id: string }[]>(
    `select workflow_id from process_instance where definition_key = 'daily-patrol' and workflow_id like ? order by workflow_id`,
    [`daily-patrol/grid-__/${localDate(Date.now())}`],
  );
  return rows.map((r) => r.workflow_id);
}

test('ensuring schedules again updates them and creates nothing', async () => {
  const again = await h.services.schedules.ensure();
  expect(again.created).toEqual([]);
  expect(again.updated.sort()).toEqual([`${prefix}daily-patrol`, `${prefix}monthly-review`, `${prefix}weekly-report`]);
});

test('GET /api/schedules lists every schedule with its next run times in Asia/Shanghai', async () => {
  const res = await h.call('GET', '/api/schedules');
  expect(res.status).toBe(200);
  const mine = res.body.items.filter((s: { id: string }) => s.id.startsWith(prefix));
  expect(mine.map((s: { definition: string; cron: string; fanOut: string }) => [s.definition, s.cron, s.fanOut])).toEqual([
    ['daily-patrol', '30 8 * * *', 'grids'],
    ['monthly-review', '0 9 25 * *', 'community'],
    ['weekly-report', '0 9 * * 5', 'grids'],
  ]);
  const patrol = mine[0];
  expect(patrol.timezone).toBe('Asia/Shanghai');
  expect(patrol.nextRuns).toHaveLength(5);
  for (const at of patrol.nextRuns) expect(at).toMatch(/T08:30:00\.000\+08:00$/);
  const weekly = mine[2];
  for (const at of weekly.nextRuns) expect(new Date(at).getUTCDay()).toBe(5);
  for (const at of mine[1].nextRuns) expect(at).toMatch(/-25T09:00:00\.000\+08:00$/);
});

test('triggering the daily patrol schedule twice starts today\'s 12 patrols once', async () => {
  const id = enc(`${prefix}daily-patrol`);
  expect((await h.call('POST', `/api/schedules/${id}/trigger`)).status).toBe(202);
  const first = await eventually(async () => {
    const ids = await patrolsToday();
    return ids.length >= 12 && ids;
  }, 30_000, 250);
  expect((await h.call('POST', `/api/schedules/${id}/trigger`)).status).toBe(202);
  // Let the second launch finish: its workflow appears in the schedule's recent runs.
  await eventually(async () => {
    const s = await h.call('GET', `/api/schedules/${id}`);
    return s.body.recentRuns.length >= 2;
  }, 30_000, 250);
  await new Promise((r) => setTimeout(r, 1500));
  const after = await patrolsToday();
  expect(after).toEqual(first);
  expect(after).toHaveLength(12);
  expect(after[0]).toBe(`daily-patrol/grid-01/${localDate(Date.now())}`);
});

test('pausing and resuming a schedule through the API', async () => {
  const id = enc(`${prefix}weekly-report`);
  const paused = await h.call('POST', `/api/schedules/${id}/pause`, { note: 'holiday week' });
  expect(paused.status).toBe(200);
  expect(paused.body).toMatchObject({ paused: true, note: 'holiday week' });
  const resumed = await h.call('POST', `/api/schedules/${id}/unpause`);
  expect(resumed.body.paused).toBe(false);
  expect((await h.call('POST', `/api/schedules/${enc('no-such-schedule')}/pause`)).status).toBe(404);
});

test('a patrol\'s REPORT_ISSUE starts an issue linked back to the patrol', async () => {
  const patrol = `daily-patrol/grid-05/${localDate(Date.now())}`;
  await eventually(async () => (await h.call('GET', `/api/processes/${enc(patrol)}`)).status === 200);
  expect((await h.send(patrol, { type: 'START' })).status).toBe(200);
  const report = await h.send(patrol, {
    type: 'REPORT_ISSUE',
    data: { category: '环境卫生', description: '2号楼后杂草丛生', location: '盛世华庭南区2号楼' },
    requestId: 'weeds',
  });
  expect(report.status).toBe(200);
  const d = await h.call('GET', `/api/processes/${enc(patrol)}`);
  expect(d.body.children).toHaveLength(1);
  const issueId: string = d.body.children[0];
  expect(issueId).toMatch(/^issue\/\d{4}-\d{6}$/);
  const issue = await eventually(async () => {
    const r = await h.call('GET', `/api/processes/${enc(issueId)}`);
    return r.status === 200 && r.body;
  });
  expect(issue).toMatchObject({ definition: 'issue', grid: 'grid-05', state: 'reported' });
  expect(issue.context.input).toMatchObject({ source: 'patrol', category: '环境卫生', parent: patrol });
  expect(issue.tasks).toEqual([expect.objectContaining({ role: 'grid-worker', title: '受理问题' })]);
  // A patrol of the current version, with its REPORT_ISSUE, finished for the determinism gate.
  await h.send(patrol, { type: 'CHECK_IN', data: { site: '信达家园', households: 9 } });
  expect((await h.send(patrol, { type: 'SUBMIT' })).body.state).toBe('completed');
  await recordHistory(h, patrol, 'daily-patrol-v3');
});

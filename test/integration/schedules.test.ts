import crypto from 'node:crypto';
import { cronTimes } from '../../engine/cron';
import type { ScheduleSpec } from '../../engine/document.schema';
import { calendarRuleOf, plannedRuns, planRun } from '../../engine/schedule-rule';
import { formatLocal, localDate } from '../../engine/time';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { recordHistory } from '../support/record';
import type { LaunchResult } from '../../workflows/messages';

let h: Harness;
let prefix: string;
const visit = `care-visit-${crypto.randomUUID().slice(0, 8)}`;
const BUILT_INS = ['daily-patrol', 'monthly-review', 'weekly-report'];
// Other test files publish definitions too; these tests look at the built-ins' schedules and their own.
const builtIns = (ids: string[]) => ids.filter((id) => BUILT_INS.some((k) => id === `${prefix}${k}`)).sort();

beforeAll(async () => {
  h = await startHarness();
  prefix = `${h.taskQueue}/`;
  const first = await h.services.schedules.ensure();
  expect(builtIns(first.created)).toEqual(BUILT_INS.map((k) => `${prefix}${k}`));
});
afterAll(async () => {
  for (const key of [...BUILT_INS, visit]) {
    await h.services.client.schedule.getHandle(`${prefix}${key}`).delete().catch(() => undefined);
  }
  await h?.close();
});

/** The patrols of `day`: taken once by the caller, so a run crossing midnight in Shanghai looks at one day. */
async function patrolsOf(day: string): Promise<string[]> {
  const rows = await h.services.orm.em.fork().getConnection().execute<{ workflow_id: string }[]>(
    `select workflow_id from process_instance where definition_key = 'daily-patrol' and workflow_id like ? order by workflow_id`,
    [`daily-patrol/grid-__/${day}`],
  );
  return rows.map((r) => r.workflow_id);
}

test('ensuring schedules again updates them and creates nothing', async () => {
  const again = await h.services.schedules.ensure();
  expect(builtIns(again.created)).toEqual([]);
  expect(builtIns(again.updated)).toEqual(BUILT_INS.map((k) => `${prefix}${k}`));
});

test('GET /api/schedules lists every schedule with its next runs after its calendar rule, in Asia/Shanghai', async () => {
  const res = await h.call('GET', '/api/schedules');
  expect(res.status).toBe(200);
  const mine = res.body.items.filter((s: { id: string }) => builtIns([s.id]).length);
  expect(mine.map((s: { definition: string; cron: string; fanOut: string; created: boolean; status: string }) => [s.definition, s.cron, s.fanOut, s.created, s.status])).toEqual([
    ['daily-patrol', '30 8 * * *', 'grids', true, 'active'],
    ['monthly-review', '0 9 25 * *', 'community', true, 'active'],
    ['weekly-report', '0 9 * * 5', 'grids', true, 'active'],
  ]);
  const [patrol, review, weekly] = mine;
  expect(patrol.timezone).toBe('Asia/Shanghai');
  expect(patrol.calendar).toEqual({ holidays: 'skip', weekends: 'run', makeUpWorkdays: 'run' });
  expect(patrol.nextRuns).toHaveLength(5);
  for (const at of patrol.nextRuns) expect(at).toMatch(/T08:30:00\.000\+08:00$/);
  // A run the rule moves shows at its new time, and `adjusted` says why; every other run is on the cron's day.
  const moved = (s: { adjusted: { action: string; reason: string }[] }) => s.adjusted.filter((a) => a.action === 'move').map((a) => a.reason);
  for (const at of weekly.nextRuns) expect(new Date(at).getUTCDay() === 5 || moved(weekly).some((r) => r.includes(`starts ${at}`))).toBe(true);
  for (const at of review.nextRuns) expect(/-25T09:00:00\.000\+08:00$/.test(at) || moved(review).some((r) => r.includes(`starts ${at}`))).toBe(true);
  expect(Array.isArray(res.body.warnings)).toBe(true);
});

test('the next runs shown are the ones the rule gives for the times Temporal will fire', async () => {
  const desc = await h.services.client.schedule.getHandle(`${prefix}weekly-report`).describe();
  const fires = desc.info.nextActionTimes.map((d) => d.getTime());
  expect(fires.length).toBeGreaterThanOrEqual(5);
  // gridflow lists a cron's times itself (a schedule not created yet has next runs too); Temporal agrees.
  expect(cronTimes('0 9 * * 5', 'Asia/Shanghai', Date.now(), fires.length)).toEqual(fires);
  const view = (await h.call('GET', `/api/schedules/${enc(`${prefix}weekly-report`)}`)).body;
  const spec = (await h.services.definitions.get('weekly-report')).document.schedule as ScheduleSpec;
  expect(view.nextRuns).toEqual(plannedRuns(spec, h.services.calendar, Date.now(), 5).runs.map((r) => formatLocal(r.at)));
});

test('triggering the daily patrol schedule twice starts today\'s 12 patrols once (or none on a statutory holiday)', async () => {
  const id = enc(`${prefix}daily-patrol`);
  const spec = (await h.services.definitions.get('daily-patrol')).document.schedule as ScheduleSpec;
  const runs = async () => (await h.call('GET', `/api/schedules/${id}`)).body.recentRuns as { scheduledAt: string; workflowId: string }[];
  // Counted first: the schedule's own 08:30 run may have come since it was created.
  const before = (await runs()).length;
  expect((await h.call('POST', `/api/schedules/${id}/trigger`)).status).toBe(202);
  // The day is the one this run was for, as it answers (not the clock read again later): a run
  // crossing midnight in Shanghai (16:00 UTC) still looks at one day.
  const launched = await eventually(async () => {
    const r = await runs();
    return r.length > before && r[r.length - 1];
  }, 30_000, 250);
  const run = (await h.services.client.workflow.getHandle(launched.workflowId).result()) as LaunchResult;
  const { day } = run;
  // The calendar rule, applied to the time the run was scheduled for, says which day and whether it starts anything.
  const plan = planRun(calendarRuleOf(spec), Date.parse(launched.scheduledAt), 'Asia/Shanghai', h.services.calendar);
  expect({ day, skipped: run.skipped !== undefined }).toEqual({ day: plan.day, skipped: plan.action === 'skip' });
  if (run.skipped) {
    expect(run.started).toEqual([]);
    expect(await patrolsOf(day)).toEqual([]);
    return;
  }
  const first = await eventually(async () => {
    const ids = await patrolsOf(day);
    return ids.length >= 12 && ids;
  }, 30_000, 250);
  expect((await h.call('POST', `/api/schedules/${id}/trigger`)).status).toBe(202);
  // Let the second launch finish: its workflow appears in the schedule's recent runs.
  await eventually(async () => (await runs()).length >= before + 2, 30_000, 250);
  await new Promise((r) => setTimeout(r, 1500));
  const after = await patrolsOf(day);
  expect(after).toEqual(first);
  expect(after).toHaveLength(12);
  expect(after[0]).toBe(`daily-patrol/grid-01/${day}`);
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
  // Today's, read once and started for that day, so the id and the patrol started agree across midnight.
  const day = localDate(Date.now());
  const patrol = `daily-patrol/grid-05/${day}`;
  // The schedule started it above, unless today is a holiday the patrol skips.
  expect([200, 201]).toContain((await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-05', input: { date: day } })).status);
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
  await recordHistory(h, patrol, 'daily-patrol-v6');
});

describe('an ops user publishes a definition with a schedule, and it is scheduled at once', () => {
  let ops: string;
  const opsCall = (method: string, path: string, body?: unknown) => h.call(method, path, body, { authorization: `Bearer ${ops}` });
  /** 关爱走访: one visit round for the community each working day, by the community manager. */
  const doc = (schedule: Partial<ScheduleSpec> | undefined, note = '') => ({
    key: visit,
    title: `关爱走访${note}`,
    grid: 'none',
    businessKey: '{day}',
    input: { type: 'object', properties: { date: { type: 'string', format: 'date' } } },
    ...(schedule ? { schedule: { fanOut: 'community', cron: '0 9 * * *', ...schedule } } : {}),
    machine: {
      id: 'care-visit',
      initial: 'due',
      states: {
        due: { meta: { task: { role: 'community-manager', title: '走访独居老人', due: { after: '1d' } } }, on: { VISIT: 'visited' } },
        visited: { type: 'final' },
      },
    },
  });
  const scheduleOf = async () => {
    const res = await h.call('GET', '/api/schedules');
    expect(res.status).toBe(200);
    return res.body.items.find((s: { definition: string }) => s.definition === visit);
  };

  beforeAll(async () => {
    ops = (await h.services.tokens.create({ role: 'ops', name: 'schedule test ops' })).token;
  });

  test('publishing creates the schedule: GET /api/schedules shows it at once, with its next runs after its rule', async () => {
    const workingDays = { holidays: 'skip', weekends: 'skip', makeUpWorkdays: 'run' } as const;
    const published = await opsCall('POST', '/api/definitions?note=first', doc(workingDays));
    expect(published.status).toBe(201);
    expect(published.body.schedule).toEqual({ id: `${prefix}${visit}`, action: 'created' });
    const s = await scheduleOf();
    expect(s).toMatchObject({ id: `${prefix}${visit}`, created: true, status: 'active', paused: false, cron: '0 9 * * *', fanOut: 'community', calendar: workingDays });
    expect(s.nextRuns).toHaveLength(5);
    const spec = { cron: '0 9 * * *', fanOut: 'community', ...workingDays } as ScheduleSpec;
    const expected = plannedRuns(spec, h.services.calendar, Date.now(), 5);
    expect(s.nextRuns).toEqual(expected.runs.map((r) => formatLocal(r.at)));
    // Only working days: no ordinary Saturday or Sunday among them.
    for (const at of s.nextRuns) expect(['workday', 'make-up-workday']).toContain(planRun(calendarRuleOf(spec), Date.parse(at), 'Asia/Shanghai', h.services.calendar).kind);
    // The Temporal Schedule exists, on this run's task queue.
    const desc = await h.services.client.schedule.getHandle(`${prefix}${visit}`).describe();
    expect(desc.action).toMatchObject({ workflowType: 'launchScheduled', taskQueue: h.taskQueue });
  });

  test('publishing a new version updates it; publishing the same document again changes nothing but reconciles', async () => {
    const res = await opsCall('POST', '/api/definitions?note=twice', doc({ cron: '30 14 * * 1,3' }));
    expect(res.status).toBe(201);
    expect(res.body.schedule.action).toBe('updated');
    const s = await scheduleOf();
    expect(s.cron).toBe('30 14 * * 1,3');
    for (const at of s.nextRuns) expect(at).toMatch(/T14:30:00\.000\+08:00$/);
    const desc = await h.services.client.schedule.getHandle(`${prefix}${visit}`).describe();
    expect(desc.info.nextActionTimes.slice(0, 3).map((d) => d.getTime())).toEqual(cronTimes('30 14 * * 1,3', 'Asia/Shanghai', Date.now(), 3));
    const again = await opsCall('POST', '/api/definitions', doc({ cron: '30 14 * * 1,3' }));
    expect(again.body).toMatchObject({ unchanged: true, schedule: { action: 'updated' } });
  });

  test('pausing, resuming and retiring the definition pause, resume and delete its schedule at once', async () => {
    const paused = await opsCall('POST', `/api/definitions/${visit}/pause`, { note: '春节暂停' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ key: visit, status: 'paused', note: '春节暂停', schedule: { action: 'updated' } });
    expect(await scheduleOf()).toMatchObject({ status: 'paused', paused: true, created: true });
    expect((await h.services.client.schedule.getHandle(`${prefix}${visit}`).describe()).state.paused).toBe(true);

    const resumed = await opsCall('POST', `/api/definitions/${visit}/resume`);
    expect(resumed.body).toMatchObject({ status: 'active', schedule: { action: 'updated' } });
    expect(await scheduleOf()).toMatchObject({ status: 'active', paused: false });

    const retired = await opsCall('POST', `/api/definitions/${visit}/retire`, { note: '并入网格走访' });
    expect(retired.body).toMatchObject({ status: 'retired', schedule: { action: 'deleted' } });
    expect(await scheduleOf()).toBeUndefined();
    await expect(h.services.client.schedule.getHandle(`${prefix}${visit}`).describe()).rejects.toThrow();
    const listed = (await opsCall('GET', '/api/definitions')).body.items.find((d: { key: string }) => d.key === visit);
    expect(listed.status).toBe('retired');
    // People may not start it any more; the answer says how to bring it back.
    const start = await h.call('POST', '/api/processes', { definition: visit, input: { date: localDate(Date.now()) } });
    expect(start.status).toBe(409);
    expect(start.body.detail).toBe(`definition "${visit}" is retired ("并入网格走访") and starts no new processes; resume it (POST /api/definitions/${visit}/resume) to start one`);
    // Only ops change a definition's lifecycle.
    expect((await h.as('m-community-manager-1').call('POST', `/api/definitions/${visit}/resume`)).status).toBe(403);

    expect((await opsCall('POST', `/api/definitions/${visit}/resume`)).body).toMatchObject({ status: 'active', schedule: { action: 'created' } });
    expect(await scheduleOf()).toMatchObject({ created: true, paused: false });
    const audit = await h.services.orm.em.fork().getConnection().execute<{ action: string }[]>(`select action from audit_log where subject = ? order by id`, [`definition:${visit}`]);
    expect(audit.map((a) => a.action)).toEqual(['definition.pause', 'definition.resume', 'definition.retire', 'definition.resume']);
  });

  test('the launcher applies the calendar rule to the day a run was scheduled for, and starts nothing twice', async () => {
    const launch = async (at: string) => {
      const handle = await h.services.client.workflow.start('launchScheduled', {
        taskQueue: h.taskQueue,
        workflowId: `launch-test/${visit}/${crypto.randomUUID()}`,
        args: [{ definition: visit, at: Date.parse(at) }],
      });
      return handle.result() as Promise<{ day: string; started: string[]; existing: string[]; skipped?: string; moved?: string }>;
    };
    // National Day 2026 (10-01 to 10-07): this schedule skips holidays...
    expect((await opsCall('POST', '/api/definitions', doc({ cron: '0 9 * * *', holidays: 'skip' }))).status).toBe(201);
    expect(await launch('2026-10-01T09:00:00+08:00')).toEqual({ day: '2026-10-01', started: [], existing: [], skipped: '2026-10-01 is a statutory holiday (holidays: skip): nothing starts' });
    // ...and on a make-up working day runs: the Saturday 2026-10-10.
    const saturday = await launch('2026-10-10T09:00:00+08:00');
    // A community-level schedule starts one instance in each community (linyuan sorts first).
    expect(saturday).toEqual({ day: '2026-10-10', started: [`${visit}/linyuan/2026-10-10`, `${visit}/2026-10-10`], existing: [] });

    // Moved to the next working day: the run is for its own day, started when the new time comes
    // (already past here, so at once); a second launch of the same run finds it.
    expect((await opsCall('POST', '/api/definitions', doc({ cron: '0 9 * * *', holidays: 'next-working-day' }))).status).toBe(201);
    const moved = await launch('2026-10-02T09:00:00+08:00');
    expect(moved).toEqual({
      day: '2026-10-02',
      started: [`${visit}/linyuan/2026-10-02`, `${visit}/2026-10-02`],
      existing: [],
      moved: '2026-10-02 is a statutory holiday (holidays: next-working-day): starts 2026-10-08T09:00:00.000+08:00, for 2026-10-02',
    });
    expect((await launch('2026-10-02T09:00:00+08:00')).existing).toEqual([`${visit}/linyuan/2026-10-02`, `${visit}/2026-10-02`]);
    const started = await h.call('GET', `/api/processes/${enc(`${visit}/2026-10-02`)}`);
    expect(started.body.context.input).toEqual({ date: '2026-10-02' });

    // Retired, its runs start nothing, a moved one included.
    await opsCall('POST', `/api/definitions/${visit}/retire`);
    expect(await launch('2026-10-03T09:00:00+08:00')).toMatchObject({ day: '2026-10-03', started: [], skipped: `definition "${visit}" is retired` });
    for (const id of [`${visit}/2026-10-10`, `${visit}/2026-10-02`, `${visit}/linyuan/2026-10-10`, `${visit}/linyuan/2026-10-02`]) await h.call('POST', `/api/processes/${enc(id)}/cancel`, { reason: 'test' });
  });

  test('publishing a version without a schedule deletes the schedule', async () => {
    await opsCall('POST', `/api/definitions/${visit}/resume`);
    expect((await scheduleOf())?.created).toBe(true);
    const res = await opsCall('POST', '/api/definitions?note=by%20hand', doc(undefined, '（手动）'));
    expect(res.body.schedule).toEqual({ id: `${prefix}${visit}`, action: 'deleted' });
    expect(await scheduleOf()).toBeUndefined();
  });
});

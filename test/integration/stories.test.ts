import { evaluatedMonth } from '../../engine/scoring';
import { addDays, localDate } from '../../engine/time';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { recordHistory } from '../support/record';

/**
 * The seed document's stories, told through the API against real Temporal and PostgreSQL:
 * the old gate access control (党员问事), the broken sewage pipe (群众说事), the weeds behind
 * building 2 (found on a patrol), then the weekly report that escalates an issue and the monthly
 * review that rates them and ranks the grids.
 */
let h: Harness;
const grid = 'grid-02';
const today = localDate(Date.now());
const ahead = addDays(today, 3);
// The review is of a month no schedule touches: the built-in monthly-review schedule, live while
// schedules.test.ts runs, starts the current month's review on the 25th at 09:00 in Shanghai (or the
// next working day) on that file's task queue, where this file could not walk it.
const reviewMonth = '2032-06';
const previousMonth = evaluatedMonth(reviewMonth, 'previous-month');

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Sends as the holder of the current task, or as `member`. */
async function event(id: string, type: string, data?: Record<string, unknown>, member?: string) {
  const res = await h.send(id, { type, data }, member);
  expect({ type, status: res.status, detail: res.body.detail }).toEqual({ type, status: 200, detail: undefined });
  return res.body as { state: string; status: string };
}

async function detail(id: string) {
  const res = await h.call('GET', `/api/processes/${enc(id)}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function raise(input: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/api/processes', { definition: 'issue', grid, input });
  expect(res.status).toBe(201);
  expect(res.body.workflowId).toMatch(/^issue\/\d{4}-\d{6}$/);
  return res.body.workflowId;
}

const ids: Record<string, string> = {};

test('the gate access control: a party member asks, the property company replaces three gates', async () => {
  const id = await raise({ source: 'party-member', category: '设施维修', location: '盛世华庭南区', description: '小区老旧门禁失灵，居民进出不便', reporter: '党员志愿者' });
  ids.gates = id;
  expect((await detail(id)).tasks).toEqual([expect.objectContaining({ role: 'grid-worker', title: '受理问题' })]);
  await event(id, 'ACCEPT');
  await event(id, 'NEEDS_DELIBERATION');
  const decided = await event(id, 'DECIDE', {
    plan: '协调物业公司将三处老旧门禁更换为智能门禁',
    owner: { kind: 'property-company', name: '盛世华庭物业公司' },
    due: addDays(today, 14),
    participants: ['网格长', '物业公司', '居民代表'],
  });
  expect(decided.state).toBe('handling');
  const d = await detail(id);
  expect(d.tasks).toEqual([expect.objectContaining({ assignee: '盛世华庭物业公司', dueAt: `${addDays(today, 14)}T18:00:00.000+08:00` })]);
  await event(id, 'RESOLVE', { result: '物业公司已将三处门禁更换为智能门禁' });
  // Someone other than the resolver verifies: the grid leader.
  expect((await event(id, 'VERIFY_OK', { note: '现场核查，三处门禁运行正常' }, `m-${grid}-leader`)).state).toBe('awaiting-evaluation');
  const done = await detail(id);
  expect(done.context).toMatchObject({ owner: { kind: 'property-company', name: '盛世华庭物业公司' }, result: '物业公司已将三处门禁更换为智能门禁', level: 'grid' });
});

test('the sewage pipe: a resident reports it as urgent, departments inspect, the property company cleans up', async () => {
  const id = await raise({ source: 'resident', category: '环境卫生', urgency: 'urgent', location: '地下车库', description: '地下车库污水管道破裂，污水外溢' });
  ids.sewage = id;
  // Urgent: accepted within 2 hours.
  const due = Date.parse((await detail(id)).tasks[0].dueAt) - Date.now();
  expect(due).toBeGreaterThan(119 * 60_000);
  expect(due).toBeLessThanOrEqual(120 * 60_000);
  await event(id, 'ACCEPT');
  await event(id, 'NEEDS_DELIBERATION');
  await event(id, 'DECIDE', { plan: '相关部门现场查看，物业公司负责清理和修复', owner: { kind: 'department', name: '街道城建科' } });
  // Urgent handling without a decided date: due in 24 hours.
  const handlingDue = Date.parse((await detail(id)).tasks[0].dueAt) - Date.now();
  expect(handlingDue).toBeGreaterThan(23.9 * 3_600_000);
  expect(handlingDue).toBeLessThanOrEqual(24 * 3_600_000);
  await event(id, 'PROGRESS', { note: '相关部门已到现场查看，确认管道破损位置' });
});

test('the weeds behind building 2: found on a patrol, the partner unit replants 200 m² and paves 180 m² in 8 days', async () => {
  // A day ahead: today's patrols belong to the schedule test, and its wall-clock timers stay ahead.
  const patrol = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, input: { date: ahead } });
  expect([200, 201]).toContain(patrol.status);
  const pid: string = patrol.body.workflowId;
  await event(pid, 'START');
  await event(pid, 'CHECK_IN', { site: '盛世华庭南区', households: 40 });
  await event(pid, 'REPORT_ISSUE', { category: '环境卫生', location: '盛世华庭南区2号楼后', description: '2号楼后空地杂草丛生，堆放杂物' });
  await event(pid, 'SUBMIT', { summary: '发现2号楼后杂草问题，已上报' });
  const children: string[] = (await detail(pid)).children;
  expect(children).toHaveLength(1);
  const id = children[0];
  ids.weeds = id;
  const issue = await eventually(async () => {
    const r = await h.call('GET', `/api/processes/${enc(id)}`);
    return r.status === 200 && r.body;
  });
  expect(issue.context.input).toMatchObject({ source: 'patrol', parent: pid });
  await event(id, 'ACCEPT');
  await event(id, 'NEEDS_DELIBERATION');
  await event(id, 'DECIDE', { plan: '包联单位出资出力清除杂草、补植绿化并硬化地面', owner: { kind: 'partner-unit', name: '包联单位' }, due: addDays(today, 8) });
  await event(id, 'PROGRESS', { note: '已清除杂草，开始补植' });
  await event(id, 'RESOLVE', { result: '补植绿化 200 平方米，硬化地面 180 平方米，8 天完成' });
  expect((await event(id, 'VERIFY_OK', undefined, `m-${grid}-part-time-1`)).state).toBe('awaiting-evaluation');
  const history = (await detail(id)).history.map((x: { event: string }) => x.event);
  expect(history).toEqual(['@start', 'ACCEPT', 'NEEDS_DELIBERATION', 'DECIDE', 'PROGRESS', 'RESOLVE', 'VERIFY_OK']);
});

test('the weekly report is pre-filled from the week, and approving it escalates the issues it lists', async () => {
  // The report's week ends on the patrol's day, so it takes in the patrol and today's issues.
  const res = await h.call('POST', '/api/processes', { definition: 'weekly-report', grid, input: { date: ahead } });
  expect(res.status).toBe(201);
  const id: string = res.body.workflowId;
  const d = await detail(id);
  expect(d.context.input.summary).toMatchObject({ to: ahead, patrolsCompleted: 1, checkIns: 1, householdsVisited: 40, issuesRaised: 3, issuesResolved: 2 });
  expect(d.context.input.summary.openIssues).toEqual(expect.arrayContaining([ids.gates, ids.sewage, ids.weeds]));
  await event(id, 'SUBMIT', { narrative: '本周巡查 1 次，发现并上报问题 3 件，污水管道问题需社区协调', escalate: [ids.sewage] });
  expect((await event(id, 'APPROVE')).state).toBe('approved');
  await recordHistory(h, id, 'weekly-report-v5');
  // The escalation arrives as a signal; the history shows it once its step is recorded.
  const sewage = await eventually(async () => {
    const s = await detail(ids.sewage);
    return s.context.level === 'community' && s.history.some((x: { event: string }) => x.event === 'ESCALATE') && s;
  });
  // The community now has it, with a task and a time limit of its own.
  expect(sewage.history.find((x: { event: string }) => x.event === 'ESCALATE')).toMatchObject({ actor: id, from: 'handling', to: 'community-review' });
  expect(sewage.tasks).toEqual([expect.objectContaining({ role: 'community-manager' })]);
  // The community level is told: the party secretary and both community managers, each once.
  const notes = await h.services.orm.em.fork().getConnection().execute<{ member_id: string; title: string }[]>(
    `select member_id, title from notification where workflow_id = ? and title like '上报社区%' order by member_id`,
    [ids.sewage],
  );
  expect(notes.map((n) => n.member_id)).toEqual(['m-community-manager-1', 'm-community-manager-2', 'm-party-secretary']);
});

test('the monthly review: minutes start issues, the grids are scored, issues are rated and the ranking confirmed', async () => {
  const res = await h.call('POST', '/api/processes', { definition: 'monthly-review', input: { month: reviewMonth, date: `${reviewMonth}-25` } });
  expect(res.status).toBe(201);
  const id: string = res.body.workflowId;
  expect(id).toBe(`monthly-review/${reviewMonth}`);
  const meetingAt = new Date(Date.now() + 3000).toISOString();
  await event(id, 'SCHEDULE', { at: meetingAt, place: '社区二楼会议室', participants: ['社区书记', '网格长'] });
  // At the meeting time the review is in session, by its own timer.
  await eventually(async () => (await detail(id)).state === 'in-session', 15_000, 250);
  await event(id, 'RECORD_MINUTES', {
    attendance: ['社区书记', '网格长02'],
    minutes: '通报三件问题办理情况',
    actionItems: [{ grid, category: '安全隐患', description: '地下车库照明不足' }],
  });
  const review = await eventually(async () => {
    const r = await detail(id);
    return r.context.scores && r;
  });
  expect(review.state).toBe('evaluating');
  expect(review.children).toHaveLength(1);
  const scored = review.context.scores.grids.find((x: { grid: string }) => x.grid === grid);
  expect(scored.indicators).toMatchObject({ patrols: expect.any(Number), patrolsCompleted: expect.any(Number) });
  expect(review.context.scores.grids).toHaveLength(12);
  // The review of a month scores the previous full month.
  expect(review.context.scores).toMatchObject({ month: previousMonth, reviewMonth, rules: expect.objectContaining({ period: 'previous-month' }) });

  await event(id, 'ADJUST', { grid, points: 2, reason: '三件群众诉求均已办结' });
  await event(id, 'RATE_ISSUES', { ratings: [{ workflowId: ids.gates, satisfaction: 5 }, { workflowId: ids.weeds, satisfaction: 5, comment: '环境明显改善' }] });
  for (const issueId of [ids.gates, ids.weeds]) {
    const closed = await eventually(async () => {
      const r = await detail(issueId);
      return r.state === 'closed' && r;
    });
    expect(closed.context.satisfaction).toBe(5);
  }
  // The ratings are followed by a second fetch of the scores, so they count before CONFIRM.
  const rescored = await eventually(async () => {
    const r = await detail(id);
    return r.history.filter((x: { event: string }) => x.event === 'SCORES_READY').length === 2 && r;
  });
  const events = rescored.history.map((x: { event: string }) => x.event);
  expect(events.lastIndexOf('SCORES_READY')).toBeGreaterThan(events.indexOf('RATE_ISSUES'));
  expect((await event(id, 'CONFIRM', { note: '排名已公布' })).state).toBe('closed');
  await recordHistory(h, id, 'monthly-review-v5');
  await recordHistory(h, ids.weeds, 'issue-v5');
  const ranking = await h.services.orm.em.fork().getConnection().execute<{ data: { month: string; adjustments: unknown[] } }[]>(
    `select data from process_record where workflow_id = ? and kind = 'monthly-ranking'`,
    [id],
  );
  expect(ranking).toHaveLength(1);
  expect(ranking[0].data).toMatchObject({ month: previousMonth, reviewMonth, adjustments: [expect.objectContaining({ grid, points: 2, reason: '三件群众诉求均已办结' })] });
  // The evaluation of the month scored is the confirmed one.
  expect((await h.call('GET', `/api/evaluations/${previousMonth}`)).body).toMatchObject({ source: 'confirmed', workflowId: id, reviewMonth });
});

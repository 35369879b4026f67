import { acceptedEvents, applyEvent, fireDue, startInstance, tasksOf, EventRejected, type Instance, type Step } from '../../engine/engine';
import { atLocal, formatLocal } from '../../engine/time';
import { builtIn } from '../support/definitions';

const def = builtIn('issue');
const t = (day: string, clock: string) => atLocal(day, clock);
const fmt = (ms: number) => formatLocal(ms).slice(0, 16);

function start(input: Record<string, unknown> = {}, at = t('2026-11-23', '09:00')): Instance {
  return startInstance(def, {
    input: { source: 'resident', category: '环境卫生', description: '2号楼后杂草丛生', ...input },
    grid: 'grid-04',
    day: '2026-11-23',
    businessKey: 'issue/2026-000001',
    at,
  }).instance;
}

function send(inst: Instance, type: string, at: number, data?: Record<string, unknown>): Step {
  return applyEvent(def, inst, { type, data, at, actor: 'tester' });
}

const notices = (steps: Step[]) =>
  steps.flatMap((s) => s.effects.filter((e) => e.type === 'notify').map((e) => `${fmt(s.at)} ${(e.params.to as string[]).join('+')}: ${e.params.title}`));

/** Accepted and deliberated, now handling with the owner and due date the meeting decided. */
function inHandling(due = '2026-12-01'): Instance {
  let inst = send(start(), 'ACCEPT', t('2026-11-23', '10:00')).instance;
  inst = send(inst, 'NEEDS_DELIBERATION', t('2026-11-23', '11:00')).instance;
  return send(inst, 'DECIDE', t('2026-11-24', '15:00'), { plan: '包联单位补植绿化', owner: { kind: 'partner-unit', name: '市供电公司' }, due }).instance;
}

describe('issue: the five steps', () => {
  test('a new issue is reported with a task for the grid worker to accept within 24 h', () => {
    const inst = start();
    expect(inst.value).toBe('reported');
    expect(acceptedEvents(def, inst)).toEqual(['ACCEPT', 'REJECT']);
    expect(tasksOf(def, inst).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['grid-worker', '2026-11-24T09:00']]);
  });

  test('an urgent issue must be accepted within 2 h', () => {
    const inst = start({ urgency: 'urgent' });
    expect(tasksOf(def, inst).map((x) => fmt(x.dueAt as number))).toEqual(['2026-11-23T11:00']);
  });

  test('when an issue is not accepted in time, the grid leader is told', () => {
    const { steps } = fireDue(def, start(), t('2026-11-24', '09:00'));
    expect(notices(steps)).toEqual(['2026-11-24T09:00 grid-leader: 督办：grid-04 问题「环境卫生」超时未受理']);
  });

  test('REJECT with a reason ends it as rejected; without a reason it is refused', () => {
    expect(() => send(start(), 'REJECT', t('2026-11-23', '10:00'))).toThrow(/data\.reason: "reason" is required/);
    const step = send(start(), 'REJECT', t('2026-11-23', '10:00'), { reason: 'not-our-responsibility', referTo: '市场监管所' });
    expect(step.to).toBe('rejected');
    expect(step.instance.status).toBe('completed');
    expect(step.instance.context.rejection).toEqual({ reason: 'not-our-responsibility', referTo: '市场监管所' });
  });

  test('handled in the grid: the grid owns it, due in 7 days', () => {
    let inst = send(start(), 'ACCEPT', t('2026-11-23', '10:00')).instance;
    const step = send(inst, 'HANDLE_IN_GRID', t('2026-11-23', '10:30'));
    inst = step.instance;
    expect(step.to).toBe('handling');
    expect(inst.context.owner).toEqual({ kind: 'grid', name: 'grid-04' });
    expect(tasksOf(def, inst).map((x) => [x.assignee, fmt(x.dueAt as number)])).toEqual([['grid-04', '2026-11-30T10:30']]);
  });

  test('an urgent issue handled in the grid is due in 24 h', () => {
    let inst = send(start({ urgency: 'urgent' }), 'ACCEPT', t('2026-11-23', '10:00')).instance;
    inst = send(inst, 'HANDLE_IN_GRID', t('2026-11-23', '10:30')).instance;
    expect(tasksOf(def, inst).map((x) => fmt(x.dueAt as number))).toEqual(['2026-11-24T10:30']);
  });

  test('deliberation is due within 3 working days, with a reminder the day before and the community told when late', () => {
    let inst = send(start(), 'ACCEPT', t('2026-11-27', '10:00')).instance; // a Friday
    inst = send(inst, 'NEEDS_DELIBERATION', t('2026-11-27', '11:00')).instance;
    expect(tasksOf(def, inst).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['grid-leader', '2026-12-02T11:00']]);
    const { steps } = fireDue(def, inst, t('2026-12-02', '11:00'));
    expect(notices(steps)).toEqual([
      '2026-12-01T11:00 grid-leader: 议事提醒：grid-04 问题「环境卫生」请于明日前召集议事',
      '2026-12-02T11:00 community-manager: 督办：grid-04 问题「环境卫生」超过 3 个工作日未议事',
    ]);
  });

  test('DECIDE without an owner is refused with a clear error', () => {
    let inst = send(start(), 'ACCEPT', t('2026-11-23', '10:00')).instance;
    inst = send(inst, 'NEEDS_DELIBERATION', t('2026-11-23', '11:00')).instance;
    expect(() => send(inst, 'DECIDE', t('2026-11-24', '10:00'), { plan: 'x' })).toThrow('event "DECIDE" has invalid data: data.owner: "owner" is required');
  });

  test('handling follows the decided due date: a reminder a day before and at due, the leader told when overdue', () => {
    const inst = inHandling('2026-12-01');
    expect(tasksOf(def, inst).map((x) => [x.assignee, fmt(x.dueAt as number)])).toEqual([['市供电公司', '2026-12-01T18:00']]);
    const { steps } = fireDue(def, inst, t('2026-12-01', '18:00'));
    expect(notices(steps)).toEqual([
      '2026-11-30T18:00 grid-worker+partner: 办理提醒：问题「环境卫生」明日到期',
      '2026-12-01T18:00 grid-worker+partner: 办理提醒：问题「环境卫生」今日到期',
      '2026-12-01T18:00 grid-leader+partner: 督办：grid-04 问题「环境卫生」办理超时',
    ]);
  });

  test('one working day overdue the party secretary is told how late it is: the ladder worker -> leader -> secretary', () => {
    const { steps } = fireDue(def, inHandling('2026-12-01'), t('2026-12-02', '18:00'));
    expect(notices(steps).slice(-2)).toEqual([
      '2026-12-01T18:00 grid-leader+partner: 督办：grid-04 问题「环境卫生」办理超时',
      '2026-12-02T18:00 party-secretary: 督办：grid-04 问题「环境卫生」及时办事：按方案办理已超时 1天',
    ]);
  });

  test('3 working days overdue, handling escalates to the community level', () => {
    const inst = inHandling('2026-12-01'); // Tuesday
    const { steps, instance } = fireDue(def, inst, t('2026-12-04', '18:00'));
    expect(steps.map((s) => `${fmt(s.at)} ${s.event}`).at(-1)).toBe('2026-12-04T18:00 OVERDUE_ESCALATE');
    expect(instance.context.level).toBe('community');
    expect(notices(steps).at(-1)).toBe('2026-12-04T18:00 party-secretary+community-manager: 上报社区：grid-04 问题「环境卫生」');
  });

  test('EXTEND asks for a later date; approved, it is recorded but lateness and 督办 keep the decided date', () => {
    const asked = send(inHandling('2026-12-01'), 'EXTEND', t('2026-11-28', '10:00'), { due: '2026-12-08', reason: '苗木到货延迟' });
    expect(notices([asked])).toEqual(['2026-11-28T10:00 grid-leader: 延期申请：grid-04 问题「环境卫生」申请延期至 2026-12-08']);
    expect(asked.instance.context.pendingExtension).toMatchObject({ due: '2026-12-08', reason: '苗木到货延迟' });
    const inst = send(asked.instance, 'APPROVE_EXTENSION', t('2026-11-28', '11:00'), { comment: '同意' }).instance;
    expect(inst.context.extendedDue).toBe('2026-12-08');
    expect(inst.context.pendingExtension).toBeNull();
    expect(inst.context.extensions).toEqual([
      { due: '2026-12-08', reason: '苗木到货延迟', askedBy: 'tester', decision: 'approved', decidedBy: 'tester', at: '2026-11-28T11:00:00.000+08:00', comment: '同意' },
    ]);
    // The task is still due on the decided date: the overdue notice to the grid leader comes then.
    expect(tasksOf(def, inst).map((x) => fmt(x.dueAt as number))).toEqual(['2026-12-01T18:00']);
    expect(notices(fireDue(def, inst, t('2026-12-01', '18:00')).steps)).toContain('2026-12-01T18:00 grid-leader+partner: 督办：grid-04 问题「环境卫生」办理超时');
  });

  test('an extension is asked at most twice; APPROVE_EXTENSION needs a pending request', () => {
    let inst = inHandling('2026-12-01');
    expect(() => send(inst, 'APPROVE_EXTENSION', t('2026-11-28', '10:00'))).toThrow(/requires context\.pendingExtension is set/);
    inst = send(inst, 'EXTEND', t('2026-11-28', '10:00'), { due: '2026-12-08', reason: 'a' }).instance;
    inst = send(inst, 'REFUSE_EXTENSION', t('2026-11-28', '11:00'), { comment: '理由不充分' }).instance;
    expect(inst.context.extensions).toMatchObject([{ decision: 'refused', comment: '理由不充分' }]);
    inst = send(inst, 'EXTEND', t('2026-11-29', '10:00'), { due: '2026-12-08', reason: 'b' }).instance;
    expect(() => send(inst, 'EXTEND', t('2026-11-29', '11:00'), { due: '2026-12-09', reason: 'c' })).toThrow(/requires context\.extensionRequests < 2/);
  });

  test('挂起: an approved pause stops the clock; RESUME moves the due date on by the working days suspended', () => {
    const asked = send(inHandling('2026-12-01'), 'PAUSE', t('2026-11-25', '10:00'), { reason: '等待居民回家配合入户' });
    expect(asked.to).toBe('handling');
    expect(notices([asked])).toEqual(['2026-11-25T10:00 grid-leader: 挂起申请：grid-04 问题「环境卫生」']);
    const paused = send(asked.instance, 'APPROVE_PAUSE', t('2026-11-25', '11:00')).instance;
    expect(paused.value).toEqual({ active: 'suspended' });
    // No reminder, 督办 or escalation while suspended, however long.
    expect(fireDue(def, paused, t('2026-12-20', '00:00')).steps).toEqual([]);
    expect(tasksOf(def, paused).map((x) => [x.role, x.dueAt])).toEqual([['grid-leader', undefined]]);
    // Thursday, Friday and Monday were working days while it was suspended (Wed 25th to Mon 30th).
    const resumed = send(paused, 'RESUME', t('2026-11-30', '09:00'));
    expect(resumed.to).toBe('handling');
    expect(resumed.instance.context.handlingDue).toBe('2026-12-04T18:00:00.000+08:00');
    expect(tasksOf(def, resumed.instance).map((x) => fmt(x.dueAt as number))).toEqual(['2026-12-04T18:00']);
    expect(resumed.instance.context.pauses).toEqual([
      expect.objectContaining({ reason: '等待居民回家配合入户', decision: 'approved', from: '2026-11-25T11:00:00.000+08:00', to: '2026-11-30T09:00:00.000+08:00', due: '2026-12-04T18:00:00.000+08:00' }),
    ]);
    expect(resumed.instance.context.pause).toBeNull();
  });

  test('a refused pause changes nothing but the record; the clock runs on', () => {
    const asked = send(inHandling('2026-12-01'), 'PAUSE', t('2026-11-25', '10:00'), { reason: '资金未到位' }).instance;
    const refused = send(asked, 'REFUSE_PAUSE', t('2026-11-25', '11:00'), { comment: '可先行处理' });
    expect(refused.to).toBe('handling');
    expect(refused.instance.context.pauses).toEqual([expect.objectContaining({ decision: 'refused', comment: '可先行处理' })]);
    expect(tasksOf(def, refused.instance).map((x) => fmt(x.dueAt as number))).toEqual(['2026-12-01T18:00']);
  });

  test('handling time limits follow the category, urgent overrides them, and a decided date wins', () => {
    const handlingDue = (input: Record<string, unknown>, decided?: string) => {
      let inst = send(start(input), 'ACCEPT', t('2026-11-23', '10:00')).instance;
      inst = send(inst, 'NEEDS_DELIBERATION', t('2026-11-23', '11:00')).instance;
      inst = send(inst, 'DECIDE', t('2026-11-24', '15:00'), { plan: 'p', owner: { kind: 'grid', name: 'grid-04' }, ...(decided ? { due: decided } : {}) }).instance;
      return tasksOf(def, inst).map((x) => fmt(x.dueAt as number))[0];
    };
    expect(handlingDue({ category: '安全隐患' })).toBe('2026-11-24T17:00');
    expect(handlingDue({ category: '水电气暖' })).toBe('2026-11-25T15:00');
    expect(handlingDue({ category: '水电气暖', urgency: 'urgent' })).toBe('2026-11-24T19:00');
    // Complex matters: 15 working days (Tue 24 Nov -> Tue 15 Dec).
    expect(handlingDue({ category: '邻里纠纷' })).toBe('2026-12-15T15:00');
    expect(handlingDue({ category: '邻里纠纷', urgency: 'urgent' })).toBe('2026-11-25T15:00');
    // Any other category: 7 days.
    expect(handlingDue({ category: '环境卫生' })).toBe('2026-12-01T15:00');
    expect(handlingDue({ category: '邻里纠纷' }, '2026-11-30')).toBe('2026-11-30T18:00');
  });

  test('ESCALATE gives the issue to the community (3 working days to act), then the street; no higher', () => {
    let inst = inHandling();
    const one = send(inst, 'ESCALATE', t('2026-11-25', '09:00'), { reason: '需社区协调' });
    expect(one.to).toBe('community-review');
    expect(one.instance.context.level).toBe('community');
    expect(tasksOf(def, one.instance).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['community-manager', '2026-11-30T09:00']]);
    // Not acted on in time: the party secretary is told.
    expect(notices(fireDue(def, one.instance, t('2026-11-30', '09:00')).steps)).toEqual(['2026-11-30T09:00 party-secretary: 督办：grid-04 上报的问题「环境卫生」社区超过 3 个工作日未研处']);
    const two = send(one.instance, 'ESCALATE', t('2026-11-25', '10:00'));
    expect(two.to).toBe('street-review');
    expect(two.instance.context.level).toBe('street');
    expect(notices([two])).toEqual(['2026-11-25T10:00 street-office: 上报街道：grid-04 问题「环境卫生」']);
    expect(tasksOf(def, two.instance).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['street-office', '2026-12-02T10:00']]);
    inst = two.instance;
    expect(() => send(inst, 'ESCALATE', t('2026-11-25', '11:00'))).toThrow(/refused in state "street-review": requires context\.level == "grid" or context\.level == "community"/);
  });

  test('the level above dispatches the issue to an owner (吹哨报到) or sends it back down with instructions', () => {
    const up = send(inHandling(), 'ESCALATE', t('2026-11-25', '09:00')).instance;
    const dispatched = send(up, 'DISPATCH', t('2026-11-25', '15:00'), { plan: '执法部门现场处置', owner: { kind: 'department', id: 'org-law-enforcement', name: '综合行政执法' }, due: '2026-11-27' });
    expect(dispatched.to).toBe('handling');
    expect(dispatched.instance.context).toMatchObject({ handler: 'partner', owner: { id: 'org-law-enforcement' }, level: 'community' });
    expect(tasksOf(def, dispatched.instance).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['partner', '2026-11-27T18:00']]);
    const down = send(up, 'SEND_DOWN', t('2026-11-25', '15:00'), { instructions: '属物业服务范围，请网格协调物业处理' });
    expect(down.to).toBe('deliberation');
    expect(down.instance.context).toMatchObject({ level: 'grid', instructions: '属物业服务范围，请网格协调物业处理', owner: null });
    expect(notices([down])).toEqual(['2026-11-25T15:00 grid-leader: 退回网格：问题「环境卫生」请按意见重新研究']);
  });

  test('RESOLVE goes to verification, due in 2 working days; VERIFY_FAIL sends it back with rework counted', () => {
    const inst = send(inHandling(), 'RESOLVE', t('2026-11-27', '16:00'), { result: '已补植 200 平方米' }).instance; // Friday
    expect(inst.value).toBe('verification');
    expect(tasksOf(def, inst).map((x) => fmt(x.dueAt as number))).toEqual(['2026-12-01T16:00']);
    const fail = send(inst, 'VERIFY_FAIL', t('2026-11-30', '10:00'), { note: '仍有空地未补植' });
    expect(fail.to).toBe('handling');
    expect(fail.instance.context.reworkCount).toBe(1);
    expect(tasksOf(def, fail.instance).map((x) => fmt(x.dueAt as number))).toEqual(['2026-12-07T10:00']);
  });

  test('when verification is not done in 2 working days, the grid leader is told', () => {
    const inst = send(inHandling(), 'RESOLVE', t('2026-11-27', '16:00'), { result: 'ok' }).instance;
    expect(notices(fireDue(def, inst, t('2026-12-01', '16:00')).steps)).toEqual(['2026-12-01T16:00 grid-leader: 督办：问题「环境卫生」超过 2 个工作日未核查']);
  });

  test('an urgent issue not accepted in 2 hours is escalated to the grid leader at 2 hours', () => {
    const { steps } = fireDue(def, start({ urgency: 'urgent' }), t('2026-11-23', '11:00'));
    expect(notices(steps)).toEqual(['2026-11-23T11:00 grid-leader: 督办：grid-04 问题「环境卫生」超时未受理']);
  });

  test('EVALUATE 3 or more closes it; 1-2 reopens it', () => {
    const waiting = send(send(inHandling(), 'RESOLVE', t('2026-11-27', '16:00'), { result: 'ok' }).instance, 'VERIFY_OK', t('2026-11-28', '10:00')).instance;
    expect(waiting.value).toBe('awaiting-evaluation');
    const closed = send(waiting, 'EVALUATE', t('2026-12-25', '10:00'), { satisfaction: 4 });
    expect(closed.to).toBe('closed');
    expect(closed.instance.context.satisfaction).toBe(4);
    const reopened = send(waiting, 'EVALUATE', t('2026-12-25', '10:00'), { satisfaction: 2, comment: '不满意' });
    expect(reopened.to).toBe('handling');
    expect(reopened.instance.context.reopenCount).toBe(1);
    expect(notices([reopened])).toEqual(['2026-12-25T10:00 grid-worker+grid-leader: 问题「环境卫生」评价不满意，重新办理']);
  });

  describe('rejections', () => {
    const cases: [string, () => Instance, string, Record<string, unknown> | undefined, RegExp][] = [
      ['VERIFY_OK while reported', () => start(), 'VERIFY_OK', undefined, /not accepted in state "reported"; accepted: ACCEPT, REJECT/],
      ['DECIDE during triage', () => send(start(), 'ACCEPT', t('2026-11-23', '10:00')).instance, 'DECIDE', { plan: 'x', owner: { kind: 'grid', name: 'g' } }, /not accepted in state "triage"/],
      ['RESOLVE without a result', () => inHandling(), 'RESOLVE', {}, /data\.result: "result" is required/],
      ['EXTEND with a bad date', () => inHandling(), 'EXTEND', { due: '2026-13-01', reason: 'x' }, /data\.due: "2026-13-01" is not a date/],
      ['EVALUATE out of range', () => send(send(inHandling(), 'RESOLVE', t('2026-11-27', '16:00'), { result: 'ok' }).instance, 'VERIFY_OK', t('2026-11-28', '10:00')).instance, 'EVALUATE', { satisfaction: 6 }, /must be at most 5/],
      ['ESCALATE while awaiting evaluation', () => send(send(inHandling(), 'RESOLVE', t('2026-11-27', '16:00'), { result: 'ok' }).instance, 'VERIFY_OK', t('2026-11-28', '10:00')).instance, 'ESCALATE', undefined, /not accepted in state "awaiting-evaluation"; accepted: EVALUATE/],
      ['OVERDUE_ESCALATE from a client', () => inHandling(), 'OVERDUE_ESCALATE', undefined, /sent by the engine/],
      ['ACCEPT after rejection', () => send(start(), 'REJECT', t('2026-11-23', '10:00'), { reason: 'duplicate' }).instance, 'ACCEPT', undefined, /process has ended in state "rejected"/],
    ];
    test.each(cases)('%s is refused and changes nothing', (_name, setup, type, data, message) => {
      const inst = setup();
      const before = JSON.stringify(inst);
      expect(() => send(inst, type, t('2026-11-29', '10:00'), data)).toThrow(EventRejected);
      expect(() => send(inst, type, t('2026-11-29', '10:00'), data)).toThrow(message);
      expect(JSON.stringify(inst)).toBe(before);
    });
  });
});

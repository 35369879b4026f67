import { acceptedEvents, applyEvent, fireDue, startInstance, tasksOf, EventRejected, type Instance, type Step } from '../../engine/engine';
import { atLocal, formatLocal } from '../../engine/time';
import { builtIn } from '../support/definitions';

const def = builtIn('daily-patrol');
const day = '2026-11-25';
const at = (clock: string) => atLocal(day, clock);

function start(): Instance {
  return startInstance(def, { input: {}, grid: 'grid-03', day, businessKey: `daily-patrol/grid-03/${day}`, at: at('08:30') }).instance;
}

/** Advances the virtual clock to `clock`, firing what falls due; returns the steps it fired. */
function advance(inst: Instance, clock: string): { steps: Step[]; instance: Instance } {
  return fireDue(def, inst, at(clock));
}

function send(inst: Instance, type: string, clock: string, data?: Record<string, unknown>): Step {
  return applyEvent(def, inst, { type, data, at: at(clock), actor: 'worker-03' });
}

const notices = (steps: Step[]) =>
  steps.flatMap((s) => s.effects.filter((e) => e.type === 'notify').map((e) => `${formatLocal(s.at).slice(11, 16)} ${(e.params.to as string[]).join('+')}: ${e.params.title}`));

describe('daily patrol on a virtual clock', () => {
  test('a new patrol waits in assigned with a task for the grid worker due 18:00', () => {
    const inst = start();
    expect(inst.value).toEqual({ open: 'assigned' });
    expect(acceptedEvents(def, inst)).toEqual(['START']);
    expect(tasksOf(def, inst)).toEqual([expect.objectContaining({ role: 'grid-worker', dueAt: at('18:00'), events: ['START'] })]);
  });

  test('the main path: START, CHECK_IN twice, SUBMIT before 18:00 completes on time', () => {
    let inst = send(start(), 'START', '09:00').instance;
    inst = send(inst, 'CHECK_IN', '09:30', { site: '信达家园', households: 15 }).instance;
    inst = send(inst, 'CHECK_IN', '10:30', { site: '粮食局', households: 9 }).instance;
    const submit = send(inst, 'SUBMIT', '11:00', { summary: 'ok' });
    expect(submit.to).toBe('completed');
    expect(submit.late).toBe(false);
    expect(submit.instance.status).toBe('completed');
    expect(submit.instance.deadlines).toEqual([]);
    expect(submit.instance.context).toMatchObject({ checkIns: 2, householdsVisited: 24, sites: ['信达家园', '粮食局'], late: false });
  });

  test('when a patrol is not started by 14:00, the grid worker is reminded', () => {
    const { steps, instance } = advance(start(), '14:00');
    expect(notices(steps)).toEqual(['14:00 grid-worker: 巡查提醒：grid-03 今日巡查尚未开始']);
    expect(instance.value).toEqual({ open: 'assigned' });
  });

  test('a patrol started before 14:00 gets no not-started reminder', () => {
    const inst = send(start(), 'START', '13:59').instance;
    expect(notices(advance(inst, '16:59').steps)).toEqual([]);
  });

  test('when a patrol is not submitted by 17:00, the grid worker is reminded', () => {
    const inst = send(start(), 'START', '09:00').instance;
    expect(notices(advance(inst, '17:00').steps)).toEqual(['17:00 grid-worker: 巡查提醒：grid-03 今日巡查尚未提交']);
  });

  test('when a patrol is not submitted by 18:00, the grid leader is told and a later SUBMIT is marked late', () => {
    let inst = send(start(), 'START', '09:00').instance;
    inst = send(inst, 'CHECK_IN', '10:00', { site: '光源' }).instance;
    const fired = advance(inst, '18:00');
    expect(notices(fired.steps)).toEqual(['17:00 grid-worker: 巡查提醒：grid-03 今日巡查尚未提交', '18:00 grid-leader: 督办：grid-03 今日巡查已超时']);
    const submit = send(fired.instance, 'SUBMIT', '19:30');
    expect(submit.to).toBe('completed');
    expect(submit.late).toBe(true);
    expect(submit.instance.context.late).toBe(true);
  });

  test('at 23:59 an untouched patrol ends as missed and both worker and leader are told', () => {
    const { steps, instance } = advance(start(), '23:59');
    expect(steps.map((s) => s.event)).toEqual(['@reminder:not-started', '@reminder:not-submitted', 'DUE', '@escalation:overdue', 'DAY_END']);
    expect(instance.status).toBe('completed');
    expect(instance.value).toBe('missed');
    expect(notices(steps).at(-1)).toBe('23:59 grid-worker+grid-leader: grid-03 2026-11-25 巡查未完成');
  });

  test('at 23:59 a started patrol without a check-in also ends as missed', () => {
    const inst = send(start(), 'START', '09:00').instance;
    const { instance } = advance(inst, '23:59');
    expect(instance.value).toBe('missed');
    expect(instance.context.startedAt).toBe('2026-11-25T09:00:00.000+08:00');
  });

  test('at 23:59 a patrol with a check-in that was never submitted is closed as submitted late, with what was recorded', () => {
    let inst = send(start(), 'START', '09:00').instance;
    inst = send(inst, 'CHECK_IN', '10:00', { site: '信达家园', households: 12 }).instance;
    inst = send(inst, 'REPORT_ISSUE', '10:20', { category: '环境卫生', description: '垃圾桶满溢' }).instance;
    const { steps, instance } = advance(inst, '23:59');
    const dayEnd = steps.at(-1) as Step;
    expect(dayEnd).toMatchObject({ event: 'DAY_END', from: 'patrolling', to: 'submitted-late' });
    expect(instance.status).toBe('completed');
    expect(instance.value).toBe('submitted-late');
    expect(instance.context).toMatchObject({ checkIns: 1, householdsVisited: 12, sites: ['信达家园'], issuesReported: 1, late: true, closedAt: '2026-11-25T23:59:00.000+08:00', submittedAt: null });
    expect(notices([dayEnd])).toEqual(['23:59 grid-worker+grid-leader: grid-03 2026-11-25 巡查按迟交关闭']);
    const [closing] = dayEnd.effects;
    expect(closing.type === 'notify' && closing.params.body).toBe('当日巡查至 23:59 未提交，已按已签到的 1 处记为迟交。');
  });

  test('REPORT_ISSUE during a patrol is recorded and starts an issue linked to the patrol', () => {
    const inst = send(start(), 'START', '09:00').instance;
    const step = send(inst, 'REPORT_ISSUE', '09:10', { category: '环境卫生', description: '2号楼后杂草丛生', location: '盛世华庭南区2号楼' });
    expect(step.to).toBe('patrolling');
    expect(step.effects.map((e) => e.type)).toEqual(['record', 'startProcess']);
    expect(step.effects[1].params).toEqual({
      definition: 'issue',
      grid: 'grid-03',
      input: { source: 'patrol', category: '环境卫生', description: '2号楼后杂草丛生', location: '盛世华庭南区2号楼', urgency: undefined, parent: `daily-patrol/grid-03/${day}` },
    });
    expect(step.effects[0].params).toEqual({ kind: 'issue-reported', data: { category: '环境卫生', description: '2号楼后杂草丛生', location: '盛世华庭南区2号楼' } });
    expect(step.instance.context.issuesReported).toBe(1);
  });

  describe('rejections', () => {
    const cases: [string, (i: Instance) => Instance, string, Record<string, unknown> | undefined, RegExp][] = [
      ['SUBMIT while assigned', (i) => i, 'SUBMIT', undefined, /not accepted in state "assigned"; accepted: START/],
      ['CHECK_IN while assigned', (i) => i, 'CHECK_IN', { site: 'x' }, /not accepted in state "assigned"; accepted: START/],
      ['START while patrolling', (i) => send(i, 'START', '09:00').instance, 'START', undefined, /accepted: CHECK_IN, REPORT_ISSUE, SUBMIT/],
      ['SUBMIT with no check-in', (i) => send(i, 'START', '09:00').instance, 'SUBMIT', undefined, /requires context\.checkIns >= 1/],
      ['CHECK_IN without a site', (i) => send(i, 'START', '09:00').instance, 'CHECK_IN', {}, /data\.site: "site" is required/],
      ['REPORT_ISSUE with an unknown urgency', (i) => send(i, 'START', '09:00').instance, 'REPORT_ISSUE', { category: 'a', description: 'b', urgency: 'asap' }, /data\.urgency: "asap" is not allowed; allowed: normal, urgent/],
      ['a timer event from a client', (i) => i, 'DAY_END', undefined, /sent by the engine: a timer or a fetch/],
      ['any event after completion', (i) => advance(i, '23:59').instance, 'START', undefined, /process has ended in state "missed"/],
    ];
    test.each(cases)('%s is refused and changes nothing', (_name, setup, type, data, message) => {
      const inst = setup(start());
      const before = JSON.stringify(inst);
      expect(() => applyEvent(def, inst, { type, data, at: at('10:00') })).toThrow(EventRejected);
      expect(() => applyEvent(def, inst, { type, data, at: at('10:00') })).toThrow(message);
      expect(JSON.stringify(inst)).toBe(before);
    });
  });
});

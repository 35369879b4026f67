import { acceptedEvents, applyEvent, fireDue, startInstance, tasksOf, type Instance, type Step } from '../../engine/engine';
import { atLocal, formatLocal } from '../../engine/time';
import { builtIn } from '../support/definitions';

const def = builtIn('weekly-report');
const t = (day: string, clock: string) => atLocal(day, clock);
const fmt = (ms: number) => formatLocal(ms).slice(0, 16);
const summary = { from: '2026-11-21', to: '2026-11-27', patrolsCompleted: 6, patrolsMissed: 1, issuesOpen: 2, openIssues: ['issue/2026-000007', 'issue/2026-000009'] };

function start(day = '2026-11-27'): Instance {
  return startInstance(def, { input: { date: day, summary }, grid: 'grid-02', day, businessKey: `weekly-report/grid-02/2026-W48`, at: t(day, '09:00') }).instance;
}
const send = (inst: Instance, type: string, at: number, data?: Record<string, unknown>): Step => applyEvent(def, inst, { type, data, at, actor: 'tester' });
const notices = (steps: Step[]) =>
  steps.flatMap((s) => s.effects.filter((e) => e.type === 'notify').map((e) => `${fmt(s.at)} ${(e.params.to as string[]).join('+')}: ${e.params.title}`));

describe('weekly report', () => {
  test('starts in drafting, pre-filled, with a task for the full-time worker due 17:00', () => {
    const inst = start();
    expect(inst.value).toBe('drafting');
    expect(inst.context.input).toMatchObject({ summary });
    expect(tasksOf(def, inst).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['grid-worker', '2026-11-27T17:00']]);
  });

  test('a reminder at 15:00 and the grid leader told at 17:00 when it is not submitted', () => {
    const { steps } = fireDue(def, start(), t('2026-11-27', '17:00'));
    expect(notices(steps)).toEqual([
      '2026-11-27T15:00 grid-worker: 周报提醒：grid-02 本周周报请于 17:00 前提交',
      '2026-11-27T17:00 grid-leader: 督办：grid-02 本周周报未按时提交',
    ]);
  });

  test('SUBMIT moves it to review for the grid leader, due 12:00 the next working day (Monday after a Friday)', () => {
    const step = send(start(), 'SUBMIT', t('2026-11-27', '16:00'), { narrative: '本周走访正常', escalate: ['issue/2026-000007'] });
    expect(step.to).toBe('review');
    expect(step.late).toBe(false);
    expect(tasksOf(def, step.instance).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['grid-leader', '2026-11-30T12:00']]);
    expect(notices([step])).toEqual(['2026-11-27T16:00 grid-leader: 周报待审：grid-02']);
  });

  test('a SUBMIT after 17:00 is marked late', () => {
    expect(send(start(), 'SUBMIT', t('2026-11-27', '17:30'), { narrative: 'x' }).late).toBe(true);
  });

  test('the review deadline skips a holiday to the make-up working Saturday', () => {
    // Friday 2026-10-09: the next working day is the make-up Saturday 2026-10-10.
    const step = send(start('2026-10-09'), 'SUBMIT', t('2026-10-09', '16:00'), { narrative: 'x' });
    expect(tasksOf(def, step.instance).map((x) => fmt(x.dueAt as number))).toEqual(['2026-10-10T12:00']);
  });

  test('APPROVE escalates each listed issue', () => {
    const inst = send(start(), 'SUBMIT', t('2026-11-27', '16:00'), { narrative: 'x', escalate: ['issue/2026-000007', 'issue/2026-000009'] }).instance;
    const step = send(inst, 'APPROVE', t('2026-11-30', '09:00'));
    expect(step.to).toBe('approved');
    expect(step.effects.map(({ type, params }: { type: string; params: Record<string, unknown> }) => [type, params.to, params.type, params.data])).toEqual([
      ['sendEvent', 'issue/2026-000007', 'ESCALATE', { reason: 'weekly-report/grid-02/2026-W48' }],
      ['sendEvent', 'issue/2026-000009', 'ESCALATE', { reason: 'weekly-report/grid-02/2026-W48' }],
    ]);
  });

  test('APPROVE with nothing listed escalates nothing', () => {
    const inst = send(start(), 'SUBMIT', t('2026-11-27', '16:00'), { narrative: 'x' }).instance;
    expect(send(inst, 'APPROVE', t('2026-11-30', '09:00')).effects).toEqual([]);
  });

  test('RETURN with a comment sends it back to drafting; without a comment it is refused', () => {
    const inst = send(start(), 'SUBMIT', t('2026-11-27', '16:00'), { narrative: 'x' }).instance;
    expect(() => send(inst, 'RETURN', t('2026-11-27', '16:30'))).toThrow(/data\.comment: "comment" is required/);
    const back = send(inst, 'RETURN', t('2026-11-27', '16:30'), { comment: '请补充问题办理情况' });
    expect(back.to).toBe('drafting');
    expect(back.instance.context).toMatchObject({ returns: 1, returnComment: '请补充问题办理情况' });
    expect(acceptedEvents(def, back.instance)).toEqual(['SUBMIT']);
  });

  test('when the review is late, the party secretary is told', () => {
    const inst = send(start(), 'SUBMIT', t('2026-11-27', '16:00'), { narrative: 'x' }).instance;
    expect(notices(fireDue(def, inst, t('2026-11-30', '12:00')).steps)).toEqual(['2026-11-30T12:00 party-secretary: 督办：grid-02 周报超时未审核']);
  });

  test.each([
    ['APPROVE while drafting', (i: Instance) => i, 'APPROVE', /not accepted in state "drafting"; accepted: SUBMIT/],
    ['SUBMIT while in review', (i: Instance) => send(i, 'SUBMIT', t('2026-11-27', '16:00'), { narrative: 'x' }).instance, 'SUBMIT', /accepted: APPROVE, RETURN/],
  ])('%s is refused', (_n, setup, type, message) => {
    expect(() => send(setup(start()), type, t('2026-11-27', '16:30'), { narrative: 'x' })).toThrow(message);
  });
});

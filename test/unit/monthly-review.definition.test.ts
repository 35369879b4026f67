import { applyEvent, fireDue, startInstance, tasksOf, type Instance, type Step } from '../../engine/engine';
import { atLocal, formatLocal } from '../../engine/time';
import { checkScoringRules, scoringRulesOf, type ScoringRules } from '../../engine/scoring';
import { builtIn } from '../support/definitions';

const def = builtIn('monthly-review');
const t = (day: string, clock: string) => atLocal(day, clock);
const fmt = (ms: number) => formatLocal(ms).slice(0, 16);
const send = (inst: Instance, type: string, at: number, data?: Record<string, unknown>, source: 'client' | 'system' = 'client'): Step =>
  applyEvent(def, inst, { type, data, at, actor: 'tester' }, source);
const notices = (steps: Step[]) =>
  steps.flatMap((s) => s.effects.filter((e) => e.type === 'notify').map((e) => `${fmt(s.at)} ${(e.params.to as string[]).join('+')}: ${e.params.title}`));

function start(): Instance {
  return startInstance(def, { input: { date: '2026-11-25', month: '2026-11' }, day: '2026-11-25', businessKey: 'monthly-review/2026-11', at: t('2026-11-25', '09:00') }).instance;
}

const meeting = { at: '2026-11-27T14:00:00+08:00', place: '社区二楼会议室', participants: ['社区书记', '各网格长'] };
const scheduled = () => send(start(), 'SCHEDULE', t('2026-11-25', '10:00'), meeting).instance;
const inSession = () => fireDue(def, scheduled(), t('2026-11-27', '14:00')).instance;
const minutes = {
  attendance: ['社区书记', '网格长01', '网格长02'],
  minutes: '通报本月巡查和问题办理情况',
  actionItems: [
    { grid: 'grid-03', category: '设施维修', description: '3号楼单元门禁损坏' },
    { grid: 'grid-08', category: '环境卫生', description: '新西南平房垃圾清运', urgency: 'urgent' },
  ],
};
const evaluating = () => send(inSession(), 'RECORD_MINUTES', t('2026-11-27', '16:00'), minutes).instance;

describe('monthly review', () => {
  test('starts in scheduling with a task for the party secretary due in 3 working days', () => {
    const inst = start();
    expect(inst.value).toBe('scheduling');
    expect(inst.context.month).toBe('2026-11');
    expect(tasksOf(def, inst).map((x) => [x.role, fmt(x.dueAt as number)])).toEqual([['party-secretary', '2026-11-30T09:00']]);
  });

  test('when the meeting is not scheduled in 3 working days, a community manager is told', () => {
    expect(notices(fireDue(def, start(), t('2026-11-30', '09:00')).steps)).toEqual([
      '2026-11-29T09:00 party-secretary: 请安排 2026-11 月度例会',
      '2026-11-30T09:00 community-manager: 督办：2026-11 月度例会尚未安排',
    ]);
  });

  test('participants are reminded 24 h and 1 h before, and at the meeting time it is in session', () => {
    const { steps, instance } = fireDue(def, scheduled(), t('2026-11-27', '14:00'));
    expect(notices(steps)).toEqual([
      '2026-11-26T14:00 party-secretary+community-manager+grid-leader: 例会提醒：2026-11 月度例会明天召开',
      '2026-11-27T13:00 party-secretary+community-manager+grid-leader: 例会提醒：2026-11 月度例会 1 小时后开始',
    ]);
    expect(steps.at(-1)?.event).toBe('MEETING_STARTS');
    expect(instance.value).toBe('in-session');
  });

  test('each action item in the minutes starts an issue with source meeting', () => {
    const step = send(inSession(), 'RECORD_MINUTES', t('2026-11-27', '16:00'), minutes);
    expect(step.to).toBe('evaluating');
    const starts = step.effects.filter((e) => e.type === 'startProcess').map((e) => e.params);
    expect(starts).toEqual([
      { definition: 'issue', grid: 'grid-03', input: { source: 'meeting', category: '设施维修', description: '3号楼单元门禁损坏', urgency: undefined, parent: 'monthly-review/2026-11' } },
      { definition: 'issue', grid: 'grid-08', input: { source: 'meeting', category: '环境卫生', description: '新西南平房垃圾清运', urgency: 'urgent', parent: 'monthly-review/2026-11' } },
    ]);
  });

  test('entering evaluation fetches the scores with the rules the definition states: the previous full month, its weights', () => {
    const step = send(inSession(), 'RECORD_MINUTES', t('2026-11-27', '16:00'), minutes);
    const fetches = step.effects.filter((e) => e.type === 'fetch').map((e) => e.params);
    expect(fetches).toEqual([{ provider: 'monthly-scores', params: { month: '2026-11', rules: expect.objectContaining({ period: 'previous-month' }) }, send: 'SCORES_READY' }]);
    const rules = (fetches[0].params as { rules: ScoringRules }).rules;
    expect(rules.weights).toEqual({ patrol: 30, weekly: 20, issues: 30, satisfaction: 20 });
    expect(checkScoringRules(rules).errors).toEqual([]);
    expect(scoringRulesOf(def.doc)).toEqual(rules);
  });

  test('scores arrive, the manager adjusts with a reason, rates issues, and CONFIRM records the ranking', () => {
    let inst = evaluating();
    expect(() => send(inst, 'CONFIRM', t('2026-11-27', '17:00'))).toThrow(/requires context\.scores is set/);
    expect(() => send(inst, 'SCORES_READY', t('2026-11-27', '16:01'), {})).toThrow(/sent by the engine/);
    inst = send(inst, 'SCORES_READY', t('2026-11-27', '16:01'), { month: '2026-11', grids: [{ grid: 'grid-01', score: 90 }] }, 'system').instance;
    expect(() => send(inst, 'ADJUST', t('2026-11-27', '16:10'), { grid: 'grid-01', points: -2 })).toThrow(/data\.reason: "reason" is required/);
    inst = send(inst, 'ADJUST', t('2026-11-27', '16:10'), { grid: 'grid-01', points: -2, reason: '例会缺席' }).instance;
    const rate = send(inst, 'RATE_ISSUES', t('2026-11-27', '16:20'), { ratings: [{ workflowId: 'issue/2026-000003', satisfaction: 5 }, { workflowId: 'issue/2026-000004', satisfaction: 2 }] });
    // The ratings first, one by one; then the scores again, so they count.
    expect(rate.effects.map(({ type, params }: { type: string; params: Record<string, unknown> }) => [type, params.to, params.type, params.data])).toEqual([
      ['sendEvent', 'issue/2026-000003', 'EVALUATE', { satisfaction: 5, comment: undefined }],
      ['sendEvent', 'issue/2026-000004', 'EVALUATE', { satisfaction: 2, comment: undefined }],
      ['fetch', undefined, undefined, undefined],
    ]);
    expect(rate.effects[2].params).toEqual({ provider: 'monthly-scores', params: { month: '2026-11', rules: scoringRulesOf(def.doc) }, send: 'SCORES_READY' });
    const confirm = send(rate.instance, 'CONFIRM', t('2026-11-27', '17:00'));
    expect(confirm.to).toBe('closed');
    expect(confirm.effects.map((e) => e.params)).toEqual([
      {
        kind: 'monthly-ranking',
        data: {
          month: '2026-11',
          reviewMonth: '2026-11',
          scores: { month: '2026-11', grids: [{ grid: 'grid-01', score: 90 }] },
          adjustments: [{ grid: 'grid-01', points: -2, reason: '例会缺席', by: 'tester', at: '2026-11-27T16:10:00.000+08:00' }],
          note: undefined,
        },
      },
    ]);
  });

  test.each([
    ['RECORD_MINUTES while scheduling', () => start(), 'RECORD_MINUTES', minutes, /not accepted in state "scheduling"; accepted: SCHEDULE/],
    ['SCHEDULE without participants', () => start(), 'SCHEDULE', { at: meeting.at, place: 'x' }, /data\.participants: "participants" is required/],
    ['SCHEDULE with a time that is not a date-time', () => start(), 'SCHEDULE', { ...meeting, at: 'next friday' }, /is not a date-time/],
    ['MEETING_STARTS from a client', () => scheduled(), 'MEETING_STARTS', undefined, /sent by the engine/],
  ])('%s is refused', (_n, setup, type, data, message) => {
    expect(() => send(setup(), type, t('2026-11-26', '10:00'), data as Record<string, unknown> | undefined)).toThrow(message);
  });
});

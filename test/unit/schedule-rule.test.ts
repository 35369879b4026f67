import type { ScheduleSpec } from '../../engine/document.schema';
import { applyEvent, fireDue, startInstance, tasksOf, type Instance } from '../../engine/engine';
import { calendarRuleOf, plannedRuns, planRun } from '../../engine/schedule-rule';
import { scoreGrids, scoringRulesOf, type MonthFact, type ScoringRules } from '../../engine/scoring';
import { addDays, atLocal, formatLocal, isoWeek } from '../../engine/time';
import { builtIn, calendar } from '../support/definitions';

const cal = calendar();
const patrol = builtIn('daily-patrol');
const weekly = builtIn('weekly-report');
const review = builtIn('monthly-review');
const rules = scoringRulesOf(review.doc) as ScoringRules;
const ZONE = 'Asia/Shanghai';
const local = (ms: number) => formatLocal(ms, ZONE).slice(0, 16);
const days = (from: string, to: string) => {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
};

describe('the built-ins state their calendar rules', () => {
  test('daily-patrol skips statutory holidays and runs on weekends and make-up working days', () => {
    expect(calendarRuleOf(patrol.doc.schedule as ScheduleSpec)).toEqual({ holidays: 'skip', weekends: 'run', makeUpWorkdays: 'run' });
  });
  test('weekly-report moves to the next working day when Friday is a holiday', () => {
    expect(calendarRuleOf(weekly.doc.schedule as ScheduleSpec)).toEqual({ holidays: 'next-working-day', weekends: 'run', makeUpWorkdays: 'run' });
  });
  test('monthly-review moves to the next working day off a weekend or a holiday', () => {
    expect(calendarRuleOf(review.doc.schedule as ScheduleSpec)).toEqual({ holidays: 'next-working-day', weekends: 'next-working-day', makeUpWorkdays: 'run' });
  });
});

describe('a Spring Festival week (2026-02-15 to 02-23, make-up Saturdays 02-14 and 02-28)', () => {
  test('the daily patrol runs on the make-up Saturday before, skips all nine holidays, and runs again after', () => {
    const planned = plannedRuns(patrol.doc.schedule as ScheduleSpec, cal, atLocal('2026-02-13', '00:00'), 5);
    expect(planned.runs.map((r) => local(r.at))).toEqual(['2026-02-13T08:30', '2026-02-14T08:30', '2026-02-24T08:30', '2026-02-25T08:30', '2026-02-26T08:30']);
    expect(planned.adjusted.map((a) => [a.action, a.day])).toEqual(days('2026-02-15', '2026-02-23').map((d) => ['skip', d]));
    expect(planned.adjusted[0].reason).toBe('2026-02-15 is a statutory holiday (holidays: skip): nothing starts');
  });

  test('the weekly report of the holiday Friday starts at 09:00 on the next working day, for that Friday', () => {
    const plan = planRun(calendarRuleOf(weekly.doc.schedule as ScheduleSpec), atLocal('2026-02-20', '09:00'), ZONE, cal);
    expect(plan).toMatchObject({ action: 'move', day: '2026-02-20', to: '2026-02-24', at: atLocal('2026-02-24', '09:00') });
    const planned = plannedRuns(weekly.doc.schedule as ScheduleSpec, cal, atLocal('2026-02-14', '00:00'), 2);
    expect(planned.runs).toEqual([
      { at: atLocal('2026-02-24', '09:00'), day: '2026-02-20', moved: true },
      { at: atLocal('2026-02-27', '09:00'), day: '2026-02-27' },
    ]);
  });

  test('on the virtual clock, the moved report is that week\'s report, due 17:00 of the day it starts', () => {
    const day = '2026-02-20';
    const startAt = atLocal('2026-02-24', '09:00');
    // The launcher starts it for the day it was scheduled for: that day's week is its business key.
    const key = `weekly-report/grid-03/${isoWeek(day)}`;
    expect(key).toBe('weekly-report/grid-03/2026-W08');
    let inst: Instance = startInstance(weekly, { input: { date: day, summary: { from: '2026-02-14', to: day, openIssues: [] } }, grid: 'grid-03', day, businessKey: key, at: startAt }).instance;
    expect(tasksOf(weekly, inst)).toEqual([expect.objectContaining({ role: 'grid-worker', dueAt: atLocal('2026-02-24', '17:00') })]);
    const reminders = fireDue(weekly, inst, atLocal('2026-02-24', '16:00'));
    expect(reminders.steps.map((s) => [s.event, local(s.at)])).toEqual([['@reminder:draft-reminder', '2026-02-24T15:00']]);
    inst = applyEvent(weekly, reminders.instance, { type: 'SUBMIT', data: { narrative: '春节期间网格平稳' }, at: atLocal('2026-02-24', '16:30'), actor: 'w' }).instance;
    expect(inst.value).toBe('review');
  });

  test('a month with the Spring Festival: no patrol is started on a holiday, so none is missed and the score is not lowered', () => {
    // Every patrol the schedule starts in February 2026 is walked and submitted on time.
    const planned = plannedRuns(patrol.doc.schedule as ScheduleSpec, cal, atLocal('2026-01-31', '23:00'), 40).runs.filter((r) => r.day.startsWith('2026-02'));
    expect(planned).toHaveLength(28 - 9);
    const facts: MonthFact[] = planned.map((r) => {
      const key = `daily-patrol/grid-03/${r.day}`;
      let inst = startInstance(patrol, { input: { date: r.day }, grid: 'grid-03', day: r.day, businessKey: key, at: r.at }).instance;
      const steps = [];
      for (const [type, clock, data] of [['START', '09:00'], ['CHECK_IN', '10:00', { site: '信达家园', households: 8 }], ['SUBMIT', '11:00']] as const) {
        const step = applyEvent(patrol, inst, { type, data, at: atLocal(r.day, clock), actor: 'w' });
        steps.push({ event: step.event, at: formatLocal(step.at), late: step.late });
        inst = step.instance;
      }
      return { definition: 'daily-patrol', grid: 'grid-03', day: r.day, state: String(inst.value), steps };
    });
    const [scored] = scoreGrids(facts, ['grid-03'], '2026-02', rules);
    expect(scored.indicators).toMatchObject({ patrols: 19, patrolsCompleted: 19, patrolsMissed: 0, patrolRate: 1 });

    // Had the schedule run every day, the nine holidays would have been nine untouched, missed patrols.
    const everyDay = plannedRuns({ ...(patrol.doc.schedule as ScheduleSpec), holidays: 'run' }, cal, atLocal('2026-01-31', '23:00'), 40).runs.filter((r) => r.day.startsWith('2026-02'));
    expect(everyDay).toHaveLength(28);
    const holidays = everyDay.filter((r) => !planned.some((p) => p.day === r.day));
    const missed: MonthFact[] = holidays.map((r) => {
      const started = startInstance(patrol, { input: { date: r.day }, grid: 'grid-03', day: r.day, businessKey: `daily-patrol/grid-03/${r.day}`, at: r.at }).instance;
      return { definition: 'daily-patrol', grid: 'grid-03', day: r.day, state: String(fireDue(patrol, started, atLocal(r.day, '23:59')).instance.value), steps: [] };
    });
    expect(missed.map((f) => f.state)).toEqual(Array(9).fill('missed'));
    const [worse] = scoreGrids([...facts, ...missed], ['grid-03'], '2026-02', rules);
    expect(worse.indicators.patrolRate).toBe(Math.round((19 / 28) * 1e4) / 1e4);
  });
});

describe('make-up working days', () => {
  const workingDaysOnly: ScheduleSpec = { cron: '0 9 * * *', fanOut: 'grids', holidays: 'skip', weekends: 'skip', makeUpWorkdays: 'run' };

  test('a make-up Saturday runs like a working day; an ordinary Saturday does not', () => {
    const planned = plannedRuns(workingDaysOnly, cal, atLocal('2026-02-06', '00:00'), 6);
    expect(planned.runs.map((r) => r.day)).toEqual(['2026-02-06', '2026-02-09', '2026-02-10', '2026-02-11', '2026-02-12', '2026-02-13']);
    expect(plannedRuns(workingDaysOnly, cal, atLocal('2026-02-13', '10:00'), 2).runs.map((r) => r.day)).toEqual(['2026-02-14', '2026-02-24']);
    expect(planRun(calendarRuleOf(workingDaysOnly), atLocal('2026-02-07', '09:00'), ZONE, cal)).toMatchObject({ action: 'skip', reason: '2026-02-07 is a weekend day (weekends: skip): nothing starts' });
    expect(planRun(calendarRuleOf(workingDaysOnly), atLocal('2026-02-14', '09:00'), ZONE, cal)).toMatchObject({ action: 'run', day: '2026-02-14', kind: 'make-up-workday' });
  });

  test('the daily patrol runs on the make-up Saturday 2026-02-28', () => {
    expect(planRun(calendarRuleOf(patrol.doc.schedule as ScheduleSpec), atLocal('2026-02-28', '08:30'), ZONE, cal)).toMatchObject({ action: 'run', day: '2026-02-28', kind: 'make-up-workday' });
  });

  test('makeUpWorkdays: skip leaves them out, and a moved run passes them by', () => {
    const rule = { ...calendarRuleOf(weekly.doc.schedule as ScheduleSpec), makeUpWorkdays: 'skip' as const };
    expect(planRun(rule, atLocal('2026-02-14', '09:00'), ZONE, cal)).toMatchObject({ action: 'skip', kind: 'make-up-workday' });
    // New Year's Day 2026 is a Friday; the next working day is the make-up Sunday 01-04.
    expect(planRun(calendarRuleOf(weekly.doc.schedule as ScheduleSpec), atLocal('2026-01-02', '09:00'), ZONE, cal)).toMatchObject({ action: 'move', day: '2026-01-02', to: '2026-01-04' });
    expect(planRun(rule, atLocal('2026-01-02', '09:00'), ZONE, cal)).toMatchObject({ action: 'move', day: '2026-01-02', to: '2026-01-05' });
  });
});

describe('the monthly review on the 25th', () => {
  const rule = calendarRuleOf(review.doc.schedule as ScheduleSpec);
  test.each([
    ['a Sunday', '2026-10-25', '2026-10-26'],
    ['a Saturday before a make-up Sunday', '2025-01-25', '2025-01-26'],
    ['a Wednesday', '2026-11-25', undefined],
  ])('on %s (%s)', (_name, day, to) => {
    const plan = planRun(rule, atLocal(day, '09:00'), ZONE, cal);
    if (to) expect(plan).toMatchObject({ action: 'move', day, to, at: atLocal(to, '09:00') });
    else expect(plan).toMatchObject({ action: 'run', day, at: atLocal(day, '09:00') });
  });

  test('its next runs show the moved ones at their new time and say why', () => {
    const planned = plannedRuns(review.doc.schedule as ScheduleSpec, cal, atLocal('2026-09-01', '00:00'), 3);
    // 2026-09-25 is the first day of the Mid-Autumn holiday; 2026-10-25 a Sunday.
    expect(planned.runs.map((r) => [local(r.at), r.day])).toEqual([
      ['2026-09-28T09:00', '2026-09-25'],
      ['2026-10-26T09:00', '2026-10-25'],
      ['2026-11-25T09:00', '2026-11-25'],
    ]);
    expect(planned.adjusted.map((a) => [local(a.scheduled), a.action, a.reason])).toEqual([
      ['2026-09-25T09:00', 'move', '2026-09-25 is a statutory holiday (holidays: next-working-day): starts 2026-09-28T09:00:00.000+08:00, for 2026-09-25'],
      ['2026-10-25T09:00', 'move', '2026-10-25 is a weekend day (weekends: next-working-day): starts 2026-10-26T09:00:00.000+08:00, for 2026-10-25'],
    ]);
  });
});

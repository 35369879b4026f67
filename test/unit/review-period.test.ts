import { applyEvent, fireDue, startInstance, type Instance, type Step } from '../../engine/engine';
import { evaluatedMonth, rankGrids, scoreGrids, type MonthFact, type ScoringRules } from '../../engine/scoring';
import { addDays, atLocal, formatLocal } from '../../engine/time';
import { builtIn } from '../support/definitions';

/**
 * The review starts on the 25th, while its own month still runs. It scores the previous full
 * month, so every day of every month counts in exactly one confirmed ranking, and it scores again
 * after the meeting's ratings arrive.
 */
const patrol = builtIn('daily-patrol');
const issue = builtIn('issue');
const review = builtIn('monthly-review');
const grid = 'grid-01';
const at = atLocal;

interface Run {
  definition: string;
  day: string;
  instance: Instance;
  steps: Step[];
}

const fact = (r: Run): MonthFact => ({
  definition: r.definition,
  grid,
  day: r.day,
  state: typeof r.instance.value === 'string' ? r.instance.value : Object.values(r.instance.value as object).join(','),
  steps: r.steps.map((s) => ({ event: s.event, at: formatLocal(s.at), late: s.late, data: s.data ?? null })),
});

function patrolDay(day: string, walked: boolean): Run {
  const first = startInstance(patrol, { input: { date: day }, grid, day, businessKey: `daily-patrol/${grid}/${day}`, at: at(day, '08:30') });
  const r: Run = { definition: 'daily-patrol', day, instance: first.instance, steps: [first] };
  const events: [string, string, Record<string, unknown>?][] = walked ? [['START', '09:00'], ['CHECK_IN', '10:00', { site: '信达家园', households: 6 }], ['SUBMIT', '11:00']] : [];
  for (const [type, clock, data] of events) {
    const step = applyEvent(patrol, r.instance, { type, data, at: at(day, clock), actor: 'w' });
    r.steps.push(step);
    r.instance = step.instance;
  }
  const end = fireDue(patrol, r.instance, at(day, '23:59'));
  r.steps.push(...end.steps);
  r.instance = end.instance;
  return r;
}

const month = (m: string, last: number) => Array.from({ length: last }, (_, i) => `${m}-${String(i + 1).padStart(2, '0')}`);

// October walked every day; November walked until the 25th, the day the review starts, then not.
const october = month('2026-10', 31).map((d) => patrolDay(d, true));
const november = month('2026-11', 30).map((d) => patrolDay(d, d <= '2026-11-25'));

// An issue resolved in October, waiting for the meeting's rating.
let handled: Run;
{
  const first = startInstance(issue, { input: { source: 'resident', category: '环境卫生', description: '垃圾清运不及时' }, grid, day: '2026-10-12', businessKey: 'issue/2026-000301', at: at('2026-10-12', '09:00') });
  handled = { definition: 'issue', day: '2026-10-12', instance: first.instance, steps: [first] };
  for (const [type, day, clock, data] of [
    ['ACCEPT', '2026-10-12', '10:00'],
    ['HANDLE_IN_GRID', '2026-10-12', '10:30'],
    ['RESOLVE', '2026-10-14', '15:00', { result: '已清运' }],
    ['VERIFY_OK', '2026-10-15', '10:00'],
  ] as [string, string, string, Record<string, unknown>?][]) {
    const step = applyEvent(issue, handled.instance, { type, data, at: at(day, clock), actor: 'w' });
    handled.steps.push(step);
    handled.instance = step.instance;
  }
}

function startReview(reviewMonth: string, day: string) {
  let inst = startInstance(review, { input: { date: day, month: reviewMonth }, day, businessKey: `monthly-review/${reviewMonth}`, at: at(day, '09:00') }).instance;
  inst = applyEvent(review, inst, { type: 'SCHEDULE', data: { at: `${addDays(day, 2)}T14:00:00+08:00`, place: '社区会议室', participants: ['社区书记'] }, at: at(day, '10:00'), actor: 'sec' }).instance;
  inst = fireDue(review, inst, at(addDays(day, 2), '14:00')).instance;
  return applyEvent(review, inst, { type: 'RECORD_MINUTES', data: { attendance: ['社区书记'], minutes: '月度例会' }, at: at(addDays(day, 2), '16:00'), actor: 'sec' });
}

/** What the monthly-scores provider answers for a fetch: the month its rules' period names, scored. */
function provide(fetch: Step['effects'][number], facts: MonthFact[]) {
  if (fetch.type !== 'fetch') throw new Error(`expected a fetch effect, got ${fetch.type}`);
  const p = fetch.params.params as { month: string; rules: ScoringRules };
  const scored = evaluatedMonth(p.month, p.rules.period);
  return { month: scored, reviewMonth: p.month, grids: scoreGrids(facts, [grid], scored, p.rules) };
}

describe('a month that ends after the review starts', () => {
  test('the review started on 2026-11-25 scores October, a month that has ended, not the November still running', () => {
    const minutes = startReview('2026-11', '2026-11-25');
    const fetch = minutes.effects.find((e) => e.type === 'fetch');
    expect(fetch?.params.params).toMatchObject({ month: '2026-11', rules: { period: 'previous-month' } });
    // What the database would hold on 2026-11-27: October, November up to the 26th, the issue.
    const asOfMeeting = [...october, ...november.filter((r) => r.day <= '2026-11-26'), handled].map(fact);
    const scores = provide(fetch as Step['effects'][number], asOfMeeting);
    expect(scores.month).toBe('2026-10');
    expect(scores.grids[0].indicators).toMatchObject({ patrols: 31, patrolsCompleted: 31, issuesResolved: 1, issuesOnTime: 1, evaluations: 0, meanSatisfaction: null });
  });

  test('the days after the 25th count in the next review: December\'s scores all of November, the days nobody walked included', () => {
    const minutes = startReview('2026-12', '2026-12-25');
    const all = [...october, ...november, handled].map(fact);
    const scores = provide(minutes.effects.find((e) => e.type === 'fetch') as Step['effects'][number], all);
    expect(scores.month).toBe('2026-11');
    expect(scores.grids[0].indicators).toMatchObject({ patrols: 30, patrolsCompleted: 25, patrolsMissed: 5 });
    expect(november.filter((r) => r.day > '2026-11-25').map((r) => r.instance.value)).toEqual(Array(5).fill('missed'));
    expect(scores.grids[0].indicators.patrolRate).toBe(Math.round((25 / 30) * 1e4) / 1e4);
  });

  test('the ratings given at the meeting are scored again before CONFIRM, and the ranking is October\'s', () => {
    const facts = () => [...october, ...november.filter((r) => r.day <= '2026-11-26'), handled].map(fact);
    const minutes = startReview('2026-11', '2026-11-25');
    const first = provide(minutes.effects.find((e) => e.type === 'fetch') as Step['effects'][number], facts());
    let inst = applyEvent(review, minutes.instance, { type: 'SCORES_READY', data: first, at: at('2026-11-27', '16:01'), actor: 'provider:monthly-scores' }, 'system').instance;
    expect((inst.context.scores as typeof first).grids[0].score).toBe(100);

    const rate = applyEvent(review, inst, { type: 'RATE_ISSUES', data: { ratings: [{ workflowId: 'issue/2026-000301', satisfaction: 2 }] }, at: at('2026-11-27', '16:20'), actor: 'sec' });
    expect(rate.effects.map((e) => e.type)).toEqual(['sendEvent', 'fetch']);
    // The issue applies the rating (the workflow awaits it before it runs the fetch).
    const evaluate = applyEvent(issue, handled.instance, { type: 'EVALUATE', data: { satisfaction: 2 }, at: at('2026-11-27', '16:20'), actor: 'monthly-review/2026-11' }, 'system');
    handled = { ...handled, instance: evaluate.instance, steps: [...handled.steps, evaluate] };
    const again = provide(rate.effects[1], facts());
    expect(again.grids[0].indicators).toMatchObject({ evaluations: 1, meanSatisfaction: 2 });
    // Patrols 30 x 1, issues 30 x 1, satisfaction 20 x 2 / 5; no weekly reports, so their 20 is left out and the rest scaled to 100.
    expect(again.grids[0].score).toBe(Math.round(((30 + 30 + (20 * 2) / 5) * 100 / 80) * 100) / 100);
    inst = applyEvent(review, rate.instance, { type: 'SCORES_READY', data: again, at: at('2026-11-27', '16:21'), actor: 'provider:monthly-scores' }, 'system').instance;

    const confirm = applyEvent(review, inst, { type: 'CONFIRM', data: {}, at: at('2026-11-27', '17:00'), actor: 'sec' });
    const record = confirm.effects.find((e) => e.type === 'record')?.params.data as { month: string; reviewMonth: string; scores: typeof again };
    expect(record).toMatchObject({ month: '2026-10', reviewMonth: '2026-11' });
    expect(rankGrids(record.scores.grids)[0]).toMatchObject({ grid, score: again.grids[0].score, rank: 1 });
  });
});

import { checkScoringRules, evaluatedMonth, legacyRules, pointsOf, rankGrids, scoreGrids, scoringRulesOf, type MonthFact, type ScoringRules } from '../../engine/scoring';
import { builtIn } from '../support/definitions';

const rules = scoringRulesOf(builtIn('monthly-review').doc) as ScoringRules;
const grids = Array.from({ length: 12 }, (_, i) => `grid-${String(i + 1).padStart(2, '0')}`);

const patrol = (grid: string, day: string, state: string, late = false): MonthFact => ({
  definition: 'daily-patrol',
  grid,
  day,
  state,
  steps: state === 'completed' ? [{ event: 'SUBMIT', at: `${day}T${late ? '19:00' : '11:00'}:00.000+08:00`, late }] : [],
});
const issue = (grid: string, steps: MonthFact['steps']): MonthFact => ({ definition: 'issue', grid, day: '', state: 'closed', steps });
const step = (event: string, at: string, late = false, data?: Record<string, unknown>) => ({ event, at, late, data: data ?? null });

describe('the monthly score', () => {
  test('a month in which nothing happened ranks nobody: every indicator, score, total and rank is null ("no data")', () => {
    const ranked = rankGrids(scoreGrids([], grids, '2027-06', rules));
    expect(ranked).toHaveLength(12);
    for (const g of ranked) {
      expect(g.indicators).toMatchObject({ patrols: 0, patrolRate: null, weeklyOnTimeRate: null, issuesOnTimeRate: null, meanSatisfaction: null });
      expect(g).toMatchObject({ points: null, score: null, total: null, rank: null });
    }
  });

  test('a grid that did nothing does not outrank one that worked and slipped once', () => {
    const facts = [patrol('grid-01', '2027-06-01', 'completed'), patrol('grid-01', '2027-06-02', 'missed'), patrol('grid-01', '2027-06-03', 'completed')];
    const ranked = rankGrids(scoreGrids(facts, grids, '2027-06', rules));
    expect(ranked[0]).toMatchObject({ grid: 'grid-01', score: 66.67, rank: 1 });
    expect(ranked.slice(1).every((g) => g.rank === null)).toBe(true);
  });

  test('an indicator with nothing to measure leaves its weight out; the others are scaled to the full weight', () => {
    // Patrols all done, one report late, no issues, no ratings: (30 x 1 + 20 x 0) x 100 / 50 = 60.
    const facts: MonthFact[] = [
      patrol('grid-02', '2026-10-05', 'completed'),
      { definition: 'weekly-report', grid: 'grid-02', day: '2026-10-09', state: 'approved', steps: [step('SUBMIT', '2026-10-09T17:30:00+08:00', true)] },
    ];
    const [g] = scoreGrids(facts, ['grid-02'], '2026-10', rules);
    expect(g.indicators).toMatchObject({ patrolRate: 1, weeklyOnTimeRate: 0, issuesOnTimeRate: null, meanSatisfaction: null });
    expect(g.score).toBe(60);
    expect(pointsOf(g.indicators, { patrol: 30, weekly: 20, issues: 30, satisfaction: 20 })).toBe(60);
  });

  test('walked but unsubmitted patrols earn the submitted-late credit; running ones are not measured yet; untouched ones are missed', () => {
    const custom: ScoringRules = { ...rules, credit: { ...rules.credit, patrol: { onTime: 1, late: 0.8, submittedLate: 0.5 } } };
    const facts = [
      patrol('grid-03', '2026-10-01', 'completed'),
      patrol('grid-03', '2026-10-02', 'completed', true),
      patrol('grid-03', '2026-10-03', 'submitted-late'),
      patrol('grid-03', '2026-10-04', 'missed'),
      patrol('grid-03', '2026-10-31', 'patrolling'),
    ];
    const [g] = scoreGrids(facts, ['grid-03'], '2026-10', custom);
    expect(g.indicators).toMatchObject({ patrols: 4, patrolsCompleted: 2, patrolsLate: 1, patrolsSubmittedLate: 1, patrolsMissed: 1, patrolRate: (1 + 0.8 + 0.5) / 4 });
    // With the built-in credits a walked patrol counts in full, like a late SUBMIT.
    expect(scoreGrids(facts, ['grid-03'], '2026-10', rules)[0].indicators.patrolRate).toBe(0.75);
  });

  test('a rating counts for the month of the RESOLVE it rates, even when it is given at next month\'s meeting', () => {
    const facts = [
      issue('grid-04', [step('RESOLVE', '2026-10-20T10:00:00+08:00'), step('EVALUATE', '2026-11-27T16:20:00+08:00', false, { satisfaction: 4 })]),
      // Reopened after a poor rating and resolved again in November: the second rating is November's.
      issue('grid-04', [
        step('RESOLVE', '2026-10-10T10:00:00+08:00', true),
        step('EVALUATE', '2026-10-30T10:00:00+08:00', false, { satisfaction: 2 }),
        step('RESOLVE', '2026-11-05T10:00:00+08:00'),
        step('EVALUATE', '2026-11-27T16:20:00+08:00', false, { satisfaction: 5 }),
      ]),
    ];
    const [oct] = scoreGrids(facts, ['grid-04'], '2026-10', rules);
    expect(oct.indicators).toMatchObject({ issuesResolved: 2, issuesOnTime: 1, evaluations: 2, meanSatisfaction: 3 });
    const [nov] = scoreGrids(facts, ['grid-04'], '2026-11', rules);
    expect(nov.indicators).toMatchObject({ issuesResolved: 0, evaluations: 1, meanSatisfaction: 5 });
  });

  test('standard deductions cost their points per event, up to their monthly maximum, with their reasons', () => {
    const escalations = Array.from({ length: 6 }, (_, i) => step('OVERDUE_ESCALATE', `2026-10-${String(10 + i).padStart(2, '0')}T09:00:00+08:00`));
    const facts = [
      patrol('grid-05', '2026-10-01', 'completed'),
      issue('grid-05', [...escalations, step('VERIFY_FAIL', '2026-10-20T09:00:00+08:00'), step('OVERDUE_ESCALATE', '2026-11-02T09:00:00+08:00')]),
    ];
    const [g] = scoreGrids(facts, ['grid-05'], '2026-10', rules);
    expect(g.deductions).toEqual([
      { id: 'overdue-escalated', count: 6, points: -10, reason: '问题超期 3 个工作日未办结，升级至社区督办' },
      { id: 'verification-failed', count: 1, points: -1, reason: '核查未通过，返工重办' },
    ]);
    expect(g).toMatchObject({ points: 100, score: 89 });
    const [ranked] = rankGrids([g], [{ grid: 'grid-05', points: 3, reason: '主动化解纠纷' }]);
    expect(ranked).toMatchObject({ score: 89, adjustment: 3, total: 92, rank: 1 });
  });

  test('equal totals share a rank; grids without a score come last, unranked', () => {
    const ranked = rankGrids([
      { grid: 'grid-01', indicators: {} as never, score: 80 },
      { grid: 'grid-02', indicators: {} as never, score: null },
      { grid: 'grid-03', indicators: {} as never, score: 90 },
      { grid: 'grid-04', indicators: {} as never, score: 80 },
    ]);
    expect(ranked.map((r) => [r.grid, r.total, r.rank])).toEqual([
      ['grid-03', 90, 1],
      ['grid-01', 80, 2],
      ['grid-04', 80, 2],
      ['grid-02', null, null],
    ]);
  });

  test('the period: a review scores the month before its own, or its own', () => {
    expect(evaluatedMonth('2026-11', 'previous-month')).toBe('2026-10');
    expect(evaluatedMonth('2027-01', 'previous-month')).toBe('2026-12');
    expect(evaluatedMonth('2026-11', 'same-month')).toBe('2026-11');
    expect(legacyRules({ patrol: 30, weekly: 20, issues: 30, satisfaction: 20 }).period).toBe('same-month');
  });

  test('rules a definition states are checked, naming the field and what is valid', () => {
    expect(checkScoringRules(rules).errors).toEqual([]);
    const bad = { ...rules, period: 'last-quarter', credit: { ...rules.credit, patrol: { onTime: 2, late: 1, submittedLate: 1 } }, extra: 1 };
    expect(checkScoringRules(bad).errors).toEqual(
      expect.arrayContaining([
        { path: '', message: 'unknown field(s) "extra"; remove them' },
        { path: 'period', message: '"last-quarter" is not a period; use previous-month or same-month' },
        { path: 'credit.patrol.onTime', message: 'a credit is 0 to 1' },
      ]),
    );
  });
});

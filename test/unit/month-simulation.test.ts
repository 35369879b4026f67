import { applyEvent, fireDue, startInstance, type Instance, type Step } from '../../engine/engine';
import { rankGrids, scoreGrids, scoringRulesOf, type MonthFact, type ScoringRules } from '../../engine/scoring';
import { addDays, atLocal, formatLocal } from '../../engine/time';
import { builtIn } from '../support/definitions';

/**
 * November 2026 for all 12 grids on a virtual clock: 30 patrols a grid with some missed and some
 * late, 4 weekly reports a grid with some late, an issue per grid handled on time or not and rated
 * at the review, and the monthly review that ranks the grids. The ranking must be the one the
 * documented formula gives for these numbers.
 */
const patrol = builtIn('daily-patrol');
const weekly = builtIn('weekly-report');
const issue = builtIn('issue');
const review = builtIn('monthly-review');
const rules = scoringRulesOf(review.doc) as ScoringRules;

const grids = Array.from({ length: 12 }, (_, i) => `grid-${String(i + 1).padStart(2, '0')}`);
const g = (grid: string) => Number(grid.slice(5));
const missedPatrols = (grid: string) => (g(grid) * 7) % 5; // 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4
const lateReports = (grid: string) => g(grid) % 3;
const issueOnTime = (grid: string) => g(grid) % 2 === 0;
const satisfaction = (grid: string) => [5, 4, 3, 5, 2, 4, 5, 3, 4, 1, 5, 4][g(grid) - 1];
const fridays = ['2026-11-06', '2026-11-13', '2026-11-20', '2026-11-27'];

interface Run {
  definition: string;
  grid: string;
  day: string;
  id: string;
  instance: Instance;
  steps: Step[];
}

function run(def: typeof patrol, grid: string | undefined, day: string, id: string, startAt: number): Run {
  const first = startInstance(def, { input: { date: day }, grid, day, businessKey: id, at: startAt });
  return { definition: def.doc.key, grid: grid ?? '', day, id, instance: first.instance, steps: [first] };
}

function send(r: Run, def: typeof patrol, type: string, at: number, data?: Record<string, unknown>, source: 'client' | 'system' = 'client') {
  const fired = fireDue(def, r.instance, at);
  r.steps.push(...fired.steps);
  const step = applyEvent(def, fired.instance, { type, data, at, actor: 'sim' }, source);
  r.steps.push(step);
  r.instance = step.instance;
}

function finish(r: Run, def: typeof patrol, until: number) {
  const fired = fireDue(def, r.instance, until);
  r.steps.push(...fired.steps);
  r.instance = fired.instance;
}

const at = atLocal;
const runs: Run[] = [];

for (const grid of grids) {
  for (let d = 1; d <= 30; d++) {
    const day = `2026-11-${String(d).padStart(2, '0')}`;
    const r = run(patrol, grid, day, `daily-patrol/${grid}/${day}`, at(day, '08:30'));
    if (d <= missedPatrols(grid)) {
      finish(r, patrol, at(day, '23:59'));
    } else {
      send(r, patrol, 'START', at(day, '09:00'));
      send(r, patrol, 'CHECK_IN', at(day, '10:00'), { site: `${grid}-site`, households: 10 });
      // Every tenth day a grid submits after 18:00: late, but completed.
      send(r, patrol, 'SUBMIT', d % 10 === 0 ? at(day, '19:00') : at(day, '11:00'));
    }
    runs.push(r);
  }
  fridays.forEach((day, i) => {
    const r = run(weekly, grid, day, `weekly-report/${grid}/${day}`, at(day, '09:00'));
    send(r, weekly, 'SUBMIT', i < lateReports(grid) ? at(day, '17:30') : at(day, '16:00'), { narrative: 'ok' });
    send(r, weekly, 'APPROVE', at(addDays(day, 3), '10:00'));
    runs.push(r);
  });
  const r = run(issue, grid, '2026-11-02', `issue/2026-${String(g(grid)).padStart(6, '0')}`, at('2026-11-02', '09:00'));
  r.instance = startInstance(issue, { input: { source: 'resident', category: '环境卫生', description: 'x' }, grid, day: '2026-11-02', businessKey: r.id, at: at('2026-11-02', '09:00') }).instance;
  send(r, issue, 'ACCEPT', at('2026-11-02', '10:00'));
  send(r, issue, 'HANDLE_IN_GRID', at('2026-11-02', '10:30')); // due 2026-11-09 10:30
  send(r, issue, 'RESOLVE', issueOnTime(grid) ? at('2026-11-05', '15:00') : at('2026-11-09', '15:00'), { result: 'done' });
  send(r, issue, 'VERIFY_OK', issueOnTime(grid) ? at('2026-11-06', '10:00') : at('2026-11-10', '10:00'));
  send(r, issue, 'EVALUATE', at('2026-11-27', '15:30'), { satisfaction: satisfaction(grid) });
  runs.push(r);
}

function facts(): MonthFact[] {
  return runs.map((r) => ({
    definition: r.definition,
    grid: r.grid,
    day: r.day,
    state: typeof r.instance.value === 'string' ? r.instance.value : JSON.stringify(r.instance.value),
    steps: r.steps.map((s) => ({ event: s.event, at: formatLocal(s.at), late: s.late, data: s.data ?? null })),
  }));
}

/** The documented formula, written out independently of the scoring module. */
function expectedScore(grid: string): number {
  const patrolRate = Math.round(((30 - missedPatrols(grid)) / 30) * 1e4) / 1e4;
  const weeklyRate = (4 - lateReports(grid)) / 4;
  const issueRate = issueOnTime(grid) ? 1 : 0;
  return Math.round((30 * patrolRate + 20 * weeklyRate + 30 * issueRate + (20 * satisfaction(grid)) / 5) * 100) / 100;
}

describe('a month of work for all 12 grids', () => {
  const month = facts();

  test('the simulation produced what it was meant to: 360 patrols, 48 reports, 12 issues', () => {
    const count = (def: string, state?: string) => month.filter((f) => f.definition === def && (!state || f.state === state)).length;
    expect(count('daily-patrol')).toBe(360);
    expect(count('daily-patrol', 'missed')).toBe(grids.reduce((n, x) => n + missedPatrols(x), 0));
    expect(count('weekly-report', 'approved')).toBe(48);
    expect(count('issue')).toBe(12);
    // Days 10, 20 and 30 are submitted after 18:00 in every grid.
    expect(month.filter((f) => f.definition === 'daily-patrol' && f.steps.some((s) => s.event === 'SUBMIT' && s.late)).length).toBe(36);
  });

  test('each grid\'s indicators and score follow the documented formula', () => {
    const scores = scoreGrids(month, grids, '2026-11', rules);
    for (const s of scores) {
      expect(s.indicators.patrols).toBe(30);
      expect(s.indicators.patrolsCompleted).toBe(30 - missedPatrols(s.grid));
      expect(s.indicators.weeklyReports).toBe(4);
      expect(s.indicators.weeklyOnTime).toBe(4 - lateReports(s.grid));
      expect(s.indicators.issuesResolved).toBe(1);
      expect(s.indicators.issuesOnTime).toBe(issueOnTime(s.grid) ? 1 : 0);
      expect(s.indicators.meanSatisfaction).toBe(satisfaction(s.grid));
      expect(s.score).toBe(expectedScore(s.grid));
    }
    // Two worked by hand: grid-04 misses 3 patrols (27/30 = 0.9), 1 late report, issue on time, satisfaction 5.
    expect(scores.find((s) => s.grid === 'grid-04')?.score).toBe(27 + 15 + 30 + 20);
    // grid-09 misses 3 patrols, no late report, issue late, satisfaction 4.
    expect(scores.find((s) => s.grid === 'grid-09')?.score).toBe(27 + 20 + 0 + 16);
  });

  test('the monthly review ranks the grids by the formula plus the manager\'s adjustments', () => {
    const r = run(review, undefined, '2026-11-25', 'monthly-review/2026-11', at('2026-11-25', '09:00'));
    r.instance = startInstance(review, { input: { date: '2026-11-25', month: '2026-11' }, day: '2026-11-25', businessKey: r.id, at: at('2026-11-25', '09:00') }).instance;
    send(r, review, 'SCHEDULE', at('2026-11-25', '10:00'), { at: '2026-11-27T14:00:00+08:00', place: '社区会议室', participants: ['社区书记'] });
    finish(r, review, at('2026-11-27', '14:00'));
    send(r, review, 'RECORD_MINUTES', at('2026-11-27', '16:00'), { attendance: ['社区书记'], minutes: '月度例会' });
    const scores = scoreGrids(month, grids, '2026-11', rules);
    send(r, review, 'SCORES_READY', at('2026-11-27', '16:01'), { month: '2026-11', grids: scores }, 'system');
    send(r, review, 'ADJUST', at('2026-11-27', '16:10'), { grid: 'grid-05', points: -5, reason: '重大问题未及时上报' });
    send(r, review, 'ADJUST', at('2026-11-27', '16:11'), { grid: 'grid-10', points: 3, reason: '创新做法获街道表扬' });
    send(r, review, 'CONFIRM', at('2026-11-27', '17:00'));
    expect(r.instance.value).toBe('closed');

    const recorded = r.steps.at(-1)?.effects.find((e) => e.type === 'record')?.params.data as { scores: { grids: typeof scores }; adjustments: { grid: string; points: number; reason: string }[] };
    const ranking = rankGrids(recorded.scores.grids, recorded.adjustments);
    const expected = grids
      .map((grid) => ({ grid, total: Math.round((expectedScore(grid) + (grid === 'grid-05' ? -5 : grid === 'grid-10' ? 3 : 0)) * 100) / 100 }))
      .sort((a, b) => b.total - a.total || a.grid.localeCompare(b.grid));
    expect(ranking.map((x) => [x.grid, x.total])).toEqual(expected.map((x) => [x.grid, x.total]));
    // grid-06: 28/30 patrols (27.999), all reports on time (20), issue on time (30), satisfaction 4 (16).
    expect(ranking[0]).toMatchObject({ grid: 'grid-06', total: 94, rank: 1 });
    // Equal totals share a rank.
    for (let i = 1; i < ranking.length; i++) {
      if (ranking[i].total === ranking[i - 1].total) expect(ranking[i].rank).toBe(ranking[i - 1].rank);
      else expect(ranking[i].rank).toBe(i + 1);
    }
    expect(ranking.find((x) => x.grid === 'grid-05')?.adjustments).toEqual([{ grid: 'grid-05', points: -5, reason: '重大问题未及时上报', by: 'sim', at: '2026-11-27T16:10:00.000+08:00' }]);
  });
});

/**
 * The monthly evaluation of grids (月评比), pure so the provider that reads the database, the
 * evaluation API and the tests compute the same numbers.
 *
 * score = weights.patrol x patrol completion + weights.weekly x weekly reports on time
 *       + weights.issues x issues handled on time + weights.satisfaction x mean satisfaction / 5
 * total = score + the manager's adjustments (deductions are negative adjustments, each with a reason)
 */

export interface Weights {
  patrol: number;
  weekly: number;
  issues: number;
  satisfaction: number;
}

export const DEFAULT_WEIGHTS: Weights = { patrol: 30, weekly: 20, issues: 30, satisfaction: 20 };

/** What happened to one process instance in the month, as the read model records it. */
export interface MonthFact {
  definition: string;
  grid: string | null;
  /** The business day the instance belongs to (patrols and reports). */
  day: string;
  state: string;
  steps: { event: string; at: string; late: boolean; data?: Record<string, unknown> | null }[];
}

export interface Indicators {
  patrols: number;
  patrolsCompleted: number;
  weeklyReports: number;
  weeklyOnTime: number;
  issuesResolved: number;
  issuesOnTime: number;
  evaluations: number;
  satisfactionSum: number;
  patrolRate: number;
  weeklyOnTimeRate: number;
  issuesOnTimeRate: number;
  meanSatisfaction: number;
}

const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The month (`YYYY-MM`) an ISO time falls in, in Asia/Shanghai. */
function monthOf(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 7);
}

/**
 * Indicators of one grid for `month` (`YYYY-MM`). Patrols and weekly reports count by their day;
 * issues count by when they were resolved (the first RESOLVE) and evaluated (each EVALUATE).
 * With nothing to measure, a rate is full: a grid with no issues is not marked down for it.
 */
export function indicatorsFor(facts: MonthFact[], grid: string, month: string): Indicators {
  let patrols = 0;
  let patrolsCompleted = 0;
  let weeklyReports = 0;
  let weeklyOnTime = 0;
  let issuesResolved = 0;
  let issuesOnTime = 0;
  let evaluations = 0;
  let satisfactionSum = 0;
  for (const f of facts) {
    if (f.grid !== grid) continue;
    if (f.definition === 'daily-patrol' && f.day.startsWith(month)) {
      patrols++;
      if (f.state === 'completed') patrolsCompleted++;
    } else if (f.definition === 'weekly-report' && f.day.startsWith(month)) {
      weeklyReports++;
      const submit = f.steps.find((s) => s.event === 'SUBMIT');
      if (submit && !submit.late) weeklyOnTime++;
    } else if (f.definition === 'issue') {
      const resolve = f.steps.find((s) => s.event === 'RESOLVE');
      if (resolve && monthOf(resolve.at) === month) {
        issuesResolved++;
        if (!resolve.late) issuesOnTime++;
      }
      for (const s of f.steps) {
        const sat = s.data?.satisfaction;
        if (s.event === 'EVALUATE' && typeof sat === 'number' && monthOf(s.at) === month) {
          evaluations++;
          satisfactionSum += sat;
        }
      }
    }
  }
  return {
    patrols,
    patrolsCompleted,
    weeklyReports,
    weeklyOnTime,
    issuesResolved,
    issuesOnTime,
    evaluations,
    satisfactionSum,
    patrolRate: patrols ? round(patrolsCompleted / patrols) : 1,
    weeklyOnTimeRate: weeklyReports ? round(weeklyOnTime / weeklyReports) : 1,
    issuesOnTimeRate: issuesResolved ? round(issuesOnTime / issuesResolved) : 1,
    meanSatisfaction: evaluations ? round(satisfactionSum / evaluations) : 5,
  };
}

/** The score of one grid from its indicators, to two decimals. */
export function scoreOf(ind: Indicators, w: Weights): number {
  return round(w.patrol * ind.patrolRate + w.weekly * ind.weeklyOnTimeRate + w.issues * ind.issuesOnTimeRate + (w.satisfaction * ind.meanSatisfaction) / 5, 2);
}

export interface GridScore {
  grid: string;
  indicators: Indicators;
  score: number;
}

export interface Adjustment {
  grid: string;
  points: number;
  reason: string;
}

export interface RankedGrid extends GridScore {
  adjustment: number;
  adjustments: Adjustment[];
  total: number;
  rank: number;
}

export function scoreGrids(facts: MonthFact[], grids: string[], month: string, weights: Weights = DEFAULT_WEIGHTS): GridScore[] {
  return grids.map((grid) => {
    const indicators = indicatorsFor(facts, grid, month);
    return { grid, indicators, score: scoreOf(indicators, weights) };
  });
}

/** Totals with adjustments and ranks: highest total first; equal totals share a rank (1, 2, 2, 4). */
export function rankGrids(scores: GridScore[], adjustments: Adjustment[] = []): RankedGrid[] {
  const rows = scores.map((s) => {
    const own = adjustments.filter((a) => a.grid === s.grid);
    const adjustment = round(own.reduce((sum, a) => sum + a.points, 0), 2);
    return { ...s, adjustments: own, adjustment, total: round(s.score + adjustment, 2), rank: 0 };
  });
  rows.sort((a, b) => b.total - a.total || a.grid.localeCompare(b.grid));
  rows.forEach((r, i) => {
    r.rank = i > 0 && rows[i - 1].total === r.total ? rows[i - 1].rank : i + 1;
  });
  return rows;
}

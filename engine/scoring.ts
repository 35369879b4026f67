import { z } from 'zod';
import type { DefinitionDocument, StateConfig } from './document.schema';
import { DEFAULT_ZONE, localDate } from './time';

/**
 * The monthly evaluation of grids (月评比), pure so the provider that reads the database, the
 * evaluation API, the README's table and the tests compute the same numbers.
 *
 * The rules live in the monthly-review definition (the `rules` of its `monthly-scores` fetch):
 *
 *   rate of an indicator = the credit its items earned / the items measured (null: nothing measured)
 *   points = Σ weight x rate over the measured indicators, scaled to the full weight
 *            (an indicator with nothing to measure counts neither for nor against a grid)
 *   score  = points − the standard deductions (each event the rules name costs its points, up to max)
 *   total  = score + the manager's ADJUSTs
 *
 * A grid with nothing measured at all has no score (null) and no rank: a month in which nothing
 * happened ranks nobody, rather than everybody first.
 */

export interface Weights {
  patrol: number;
  weekly: number;
  issues: number;
  satisfaction: number;
}

const share = z.number().min(0, 'a credit is 0 to 1').max(1, 'a credit is 0 to 1');
const points = z.number().min(0, 'points are 0 or more').max(100, 'points are at most 100');

export const scoringRules = z.strictObject({
  /** Which month a review scores: the one before the review's month, or the review's own month. */
  period: z.enum(['previous-month', 'same-month'], { error: (iss) => `${JSON.stringify(iss.input)} is not a period; use previous-month or same-month` }),
  weights: z
    .strictObject({ patrol: points, weekly: points, issues: points, satisfaction: points })
    .refine((w) => w.patrol + w.weekly + w.issues + w.satisfaction > 0, 'give at least one indicator a weight above 0'),
  /** What each item earns towards its indicator's rate, by how it ended; anything else earns 0. */
  credit: z.strictObject({
    /** Patrols: SUBMIT before its due (onTime), after it (late), or closed at day end with check-ins (submittedLate); untouched ones are missed. */
    patrol: z.strictObject({ onTime: share, late: share, submittedLate: share }),
    /** Weekly reports: SUBMIT before the report's due (onTime) or after it (late). */
    weekly: z.strictObject({ onTime: share, late: share }),
    /** Issues resolved in the month: first RESOLVE before the issue's due (onTime) or after it (late). */
    issues: z.strictObject({ onTime: share, late: share }),
  }),
  /** Standard deductions: each `event` of a `definition` in the grid in the month costs `points`, at most `max` a month. */
  deductions: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use kebab-case, e.g. "overdue-escalated"'),
        definition: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a definition key, e.g. "issue"'),
        event: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an event name, e.g. "OVERDUE_ESCALATE"'),
        points: points.refine((p) => p > 0, 'a deduction costs more than 0 points'),
        max: points.optional(),
        reason: z.string().min(1).max(200),
      }),
    )
    .max(20)
    .refine((list) => new Set(list.map((d) => d.id)).size === list.length, 'each deduction needs its own id'),
});
export type ScoringRules = z.infer<typeof scoringRules>;

/**
 * The rules a review started on an earlier definition version gets: it passed only `weights` and
 * scored its own month, every ended patrol that was walked counting in full, nothing deducted.
 */
export function legacyRules(weights: Weights): ScoringRules {
  return {
    period: 'same-month',
    weights,
    credit: { patrol: { onTime: 1, late: 1, submittedLate: 1 }, weekly: { onTime: 1, late: 0 }, issues: { onTime: 1, late: 0 } },
    deductions: [],
  };
}

export const DEFAULT_WEIGHTS: Weights = { patrol: 30, weekly: 20, issues: 30, satisfaction: 20 };

/** Checks rules a definition states; errors name the field and what is valid. */
export function checkScoringRules(value: unknown): { rules?: ScoringRules; errors: { path: string; message: string }[] } {
  const parsed = scoringRules.safeParse(value);
  if (parsed.success) return { rules: parsed.data, errors: [] };
  return {
    errors: parsed.error.issues.map((i) => ({
      path: i.path.map(String).join('.'),
      message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}; remove them` : i.message,
    })),
  };
}

function* fetchActions(state: StateConfig): Generator<Record<string, unknown>> {
  const lists = [state.entry, state.exit, ...Object.values(state.on ?? {}).flatMap((t) => (Array.isArray(t) ? t : [t]).map((x) => (typeof x === 'object' && x ? x.actions : undefined)))];
  for (const list of lists) {
    for (const a of Array.isArray(list) ? list : list ? [list] : []) {
      if (typeof a === 'object' && a.type === 'fetch' && a.params) yield a.params as Record<string, unknown>;
    }
  }
  for (const child of Object.values(state.states ?? {})) yield* fetchActions(child);
}

/** The scoring rules a definition states in its first `monthly-scores` fetch, if it states any. */
export function scoringRulesOf(doc: DefinitionDocument): ScoringRules | undefined {
  for (const params of fetchActions(doc.machine as StateConfig)) {
    if (params.provider !== 'monthly-scores') continue;
    const inner = params.params as Record<string, unknown> | undefined;
    if (inner?.rules === undefined) continue;
    return checkScoringRules(inner.rules).rules;
  }
  return undefined;
}

/** The month a review of `reviewMonth` scores under `period`. */
export function evaluatedMonth(reviewMonth: string, period: ScoringRules['period']): string {
  if (period === 'same-month') return reviewMonth;
  const [y, m] = reviewMonth.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** What happened to one process instance, as the read model records it. */
export interface MonthFact {
  definition: string;
  grid: string | null;
  /** The business day the instance belongs to (patrols and reports). */
  day: string;
  state: string;
  steps: { event: string; at: string; late: boolean; data?: Record<string, unknown> | null }[];
  /** The duty rota had nobody on duty in the grid that day (see engine/rota.ts): a missed patrol is not counted. */
  nobodyOnDuty?: boolean;
}

export interface Indicators {
  /** Patrols of the month that have ended (running ones are not measured yet). */
  patrols: number;
  /** Ended `completed`: submitted, on time or after the due. */
  patrolsCompleted: number;
  /** Of those, submitted after the due (18:00). */
  patrolsLate: number;
  /** Not submitted, closed at day end with what was recorded (`submitted-late`). */
  patrolsSubmittedLate: number;
  /** Untouched at day end. */
  patrolsMissed: number;
  /** Untouched on a day the rota had nobody on duty: neither measured nor missed. */
  patrolsNobodyOnDuty: number;
  weeklyReports: number;
  weeklyOnTime: number;
  issuesResolved: number;
  issuesOnTime: number;
  evaluations: number;
  satisfactionSum: number;
  /** Credit earned / items measured, 0..1; null when there was nothing to measure ("no data"). */
  patrolRate: number | null;
  weeklyOnTimeRate: number | null;
  issuesOnTimeRate: number | null;
  /** Mean satisfaction 1..5; null without evaluations. */
  meanSatisfaction: number | null;
}

export interface Deduction {
  id: string;
  count: number;
  points: number;
  reason: string;
}

const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The month (`YYYY-MM`) an ISO time falls in, in the community's (default) zone. */
function monthOf(iso: string): string {
  return localDate(Date.parse(iso), DEFAULT_ZONE).slice(0, 7);
}

const PATROL_ENDED = new Set(['completed', 'submitted-late', 'missed']);

/**
 * Indicators of one grid for `month` (`YYYY-MM`). Patrols and weekly reports count by their day;
 * issues by the month of their first RESOLVE; an EVALUATE counts towards the month of the RESOLVE
 * it rates (the latest one before it), so ratings given at next month's meeting still score the
 * month the work was done in.
 */
export function indicatorsFor(facts: MonthFact[], grid: string, month: string, rules: ScoringRules): Indicators {
  const n = { patrols: 0, patrolsCompleted: 0, patrolsLate: 0, patrolsSubmittedLate: 0, patrolsMissed: 0, patrolsNobodyOnDuty: 0, weeklyReports: 0, weeklyOnTime: 0, issuesResolved: 0, issuesOnTime: 0, evaluations: 0, satisfactionSum: 0 };
  for (const f of facts) {
    if (f.grid !== grid) continue;
    if (f.definition === 'daily-patrol' && f.day.startsWith(month)) {
      if (!PATROL_ENDED.has(f.state)) continue;
      // Nobody was on duty to walk it (all resting or on leave, no stand-in): not the grid's miss.
      if (f.state === 'missed' && f.nobodyOnDuty) {
        n.patrolsNobodyOnDuty++;
        continue;
      }
      n.patrols++;
      if (f.state === 'completed') {
        n.patrolsCompleted++;
        if (f.steps.some((s) => s.event === 'SUBMIT' && s.late)) n.patrolsLate++;
      } else if (f.state === 'submitted-late') n.patrolsSubmittedLate++;
      else n.patrolsMissed++;
    } else if (f.definition === 'weekly-report' && f.day.startsWith(month)) {
      n.weeklyReports++;
      const submit = f.steps.find((s) => s.event === 'SUBMIT');
      if (submit && !submit.late) n.weeklyOnTime++;
    } else if (f.definition === 'issue') {
      const resolve = f.steps.find((s) => s.event === 'RESOLVE');
      if (resolve && monthOf(resolve.at) === month) {
        n.issuesResolved++;
        if (!resolve.late) n.issuesOnTime++;
      }
      let rated: string | undefined;
      for (const s of f.steps) {
        if (s.event === 'RESOLVE') rated = s.at;
        const sat = s.data?.satisfaction;
        if (s.event === 'EVALUATE' && typeof sat === 'number' && rated !== undefined && monthOf(rated) === month) {
          n.evaluations++;
          n.satisfactionSum += sat;
        }
      }
    }
  }
  const c = rules.credit;
  const rate = (earned: number, of: number) => (of ? round(earned / of) : null);
  return {
    ...n,
    patrolRate: rate((n.patrolsCompleted - n.patrolsLate) * c.patrol.onTime + n.patrolsLate * c.patrol.late + n.patrolsSubmittedLate * c.patrol.submittedLate, n.patrols),
    weeklyOnTimeRate: rate(n.weeklyOnTime * c.weekly.onTime + (n.weeklyReports - n.weeklyOnTime) * c.weekly.late, n.weeklyReports),
    issuesOnTimeRate: rate(n.issuesOnTime * c.issues.onTime + (n.issuesResolved - n.issuesOnTime) * c.issues.late, n.issuesResolved),
    meanSatisfaction: n.evaluations ? round(n.satisfactionSum / n.evaluations) : null,
  };
}

/** The standard deductions of one grid in `month`: how many of each event, and what they cost. */
export function deductionsFor(facts: MonthFact[], grid: string, month: string, rules: ScoringRules): Deduction[] {
  const out: Deduction[] = [];
  for (const d of rules.deductions) {
    let count = 0;
    for (const f of facts) {
      if (f.grid !== grid || f.definition !== d.definition) continue;
      count += f.steps.filter((s) => s.event === d.event && monthOf(s.at) === month).length;
    }
    if (!count) continue;
    const cost = round(Math.min(count * d.points, d.max ?? Infinity), 2);
    out.push({ id: d.id, count, points: -cost, reason: d.reason });
  }
  return out;
}

/**
 * The weighted points of the measured indicators, scaled to the full weight; null when nothing
 * was measured.
 */
export function pointsOf(ind: Indicators, w: Weights): number | null {
  const parts: [number, number | null][] = [
    [w.patrol, ind.patrolRate],
    [w.weekly, ind.weeklyOnTimeRate],
    [w.issues, ind.issuesOnTimeRate],
    [w.satisfaction, ind.meanSatisfaction === null ? null : ind.meanSatisfaction / 5],
  ];
  const full = parts.reduce((s, [weight]) => s + weight, 0);
  const measured = parts.filter(([weight, r]) => r !== null && weight > 0);
  const weight = measured.reduce((s, [x]) => s + x, 0);
  if (!weight) return null;
  return round((measured.reduce((s, [x, r]) => s + x * (r as number), 0) * full) / weight, 2);
}

export interface GridScore {
  grid: string;
  indicators: Indicators;
  /** Weighted points before deductions; null with nothing measured. Absent in rankings confirmed before deductions existed. */
  points?: number | null;
  deductions?: Deduction[];
  /** points − deductions; null with nothing measured. */
  score: number | null;
}

export interface Adjustment {
  grid: string;
  points: number;
  reason: string;
}

export interface RankedGrid extends GridScore {
  adjustment: number;
  adjustments: Adjustment[];
  /** null: no score, so no rank. */
  total: number | null;
  rank: number | null;
}

export function scoreGrids(facts: MonthFact[], grids: string[], month: string, rules: ScoringRules): GridScore[] {
  return grids.map((grid) => {
    const indicators = indicatorsFor(facts, grid, month, rules);
    const points = pointsOf(indicators, rules.weights);
    const deductions = deductionsFor(facts, grid, month, rules);
    const score = points === null ? null : round(points + deductions.reduce((s, d) => s + d.points, 0), 2);
    return { grid, indicators, points, deductions, score };
  });
}

/**
 * Totals with adjustments and ranks: highest total first; equal totals share a rank (1, 2, 2, 4).
 * A grid without a score has no total and no rank and comes last.
 */
export function rankGrids(scores: GridScore[], adjustments: Adjustment[] = []): RankedGrid[] {
  const rows: RankedGrid[] = scores.map((s) => {
    const own = adjustments.filter((a) => a.grid === s.grid);
    const adjustment = round(own.reduce((sum, a) => sum + a.points, 0), 2);
    return { ...s, adjustments: own, adjustment, total: s.score === null ? null : round(s.score + adjustment, 2), rank: null };
  });
  rows.sort((a, b) => (a.total === null ? (b.total === null ? 0 : 1) : b.total === null ? -1 : b.total - a.total) || a.grid.localeCompare(b.grid));
  rows.forEach((r, i) => {
    if (r.total === null) return;
    r.rank = i > 0 && rows[i - 1].total === r.total ? rows[i - 1].rank : i + 1;
  });
  return rows;
}

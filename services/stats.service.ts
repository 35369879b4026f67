import type { MikroORM } from '@mikro-orm/postgresql';
import { DEFAULT_WEIGHTS, rankGrids, type Adjustment, type GridScore, type RankedGrid, type ScoringRules, type Weights } from '../engine/scoring';
import { addDays, atLocal, DEFAULT_ZONE, formatLocal, isDate, localDate } from '../engine/time';
import type { ProviderService } from './providers.service';
import { badRequest, type FieldError } from './errors';
import { DEFAULT_COMMUNITY } from '../engine/community';

// The community's figures span definitions, so days and times are in the one default zone.
const ZONE = DEFAULT_ZONE;
const iso = (d: Date | string | number) => formatLocal(new Date(d).getTime(), ZONE);
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
/** An instant with an explicit offset; a bare local time would be ambiguous. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Which grids a caller may see: every one, or a grid role's own. */
export type GridScope = string[] | 'all' | { grids: string[] | 'all'; communities?: string[] };

import * as readModel from '../db/read-model';
import type { Grouping, InstanceFigures, ProcessFilters } from '../db/read-model';

export type { ProcessFilters };

export interface StateCount {
  definition: string;
  state: string;
  count: number;
  overdue: number;
}

export interface Counts {
  total: number;
  overdue: number;
  items: StateCount[];
}

export interface OnTime {
  /** Steps that moved an instance to another state (see `StatsService.overview`). */
  steps: number;
  late: number;
  /** Share of `steps` not late, 0..1; null with no steps. */
  rate: number | null;
}

export interface Satisfaction {
  evaluations: number;
  /** Mean of EVALUATE `data.satisfaction` (1-5); null with no evaluations. */
  mean: number | null;
}

export interface StateFigures {
  state: string;
  /** Instances started in the period that are in this state now. */
  instances: number;
  /** Stays in the state that ended in the period. */
  visits: number;
  /** Mean length of those stays; null without any. */
  meanSeconds: number | null;
}

/** The read model's instance counts without their grouping, and how timely and welcome they were. */
export interface Figures extends Omit<InstanceFigures, keyof Grouping> {
  onTime: OnTime;
  satisfaction: Satisfaction;
}

export interface DefinitionFigures extends Figures {
  definition: string;
  states: StateFigures[];
}

export interface GridFigures extends Figures {
  /** null: community-level processes (the monthly review). */
  grid: string | null;
  households: number | null;
  patrolCoverage: { patrols: number; householdsVisited: number; households: number; rate: number | null } | null;
  definitions: DefinitionFigures[];
}

export interface Overview {
  /** `[from, to)`, ISO with +08:00. */
  period: { from: string; to: string };
  generatedAt: string;
  total: Figures;
  definitions: DefinitionFigures[];
  grids: GridFigures[];
}

export interface Evaluation {
  /** The month scored. */
  month: string;
  /** `confirmed`: the ranking a review published for the month; `provisional`: computed now from the read model. */
  source: 'confirmed' | 'provisional';
  workflowId: string | null;
  /** The month of the review that confirmed it (the month after, with the built-in rules); null when provisional. */
  reviewMonth: string | null;
  confirmedAt: string | null;
  note: string | null;
  weights: Weights;
  /** The scoring rules used; null for rankings confirmed before rules were stated. */
  rules: ScoringRules | null;
  adjustments: Adjustment[];
  /** Ranked; a grid with nothing measured has score, total and rank null ("no data"). */
  grids: RankedGrid[];
}

function emptyFigures(): Figures {
  return { started: 0, completed: 0, running: 0, overdue: 0, cancelled: 0, failed: 0, onTime: { steps: 0, late: 0, rate: null }, satisfaction: { evaluations: 0, mean: null } };
}

/**
 * Read-only statistics over the read model for managers: the overview, the monthly evaluation as
 * the review used it, and counts per state for the process list's filters.
 */
export class StatsService {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderService,
  ) {}

  /**
   * `from` and `to` are days (`YYYY-MM-DD` in the default zone, `to` included) or instants with an
   * offset (`to` excluded). Default: the current month up to and including today.
   */
  period(q: { from?: string; to?: string }, now = Date.now()): { from: number; to: number } {
    const errors: FieldError[] = [];
    const today = localDate(now, ZONE);
    const parse = (name: 'from' | 'to', text: string | undefined, fallback: string): number => {
      const v = text ?? fallback;
      if (isDate(v)) return atLocal(name === 'to' ? addDays(v, 1) : v, '00:00', ZONE);
      if (INSTANT.test(v) && !Number.isNaN(Date.parse(v))) return Date.parse(v);
      errors.push({ path: name, message: `"${v}" is neither a day (YYYY-MM-DD) nor a time with an offset (2026-11-25T08:00:00+08:00)` });
      return NaN;
    };
    const from = parse('from', q.from, `${today.slice(0, 7)}-01`);
    const to = parse('to', q.to, today);
    if (errors.length) throw badRequest(`invalid period: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
    if (from >= to) throw badRequest(`the period is empty: from ${iso(from)} is not before to ${iso(to)}`, [{ path: 'to', message: 'must be after from' }]);
    return { from, to };
  }

  /**
   * Per grid, per definition and per grid and definition, over a period (see `period`).
   *
   * - Counts (started, completed, running, overdue, cancelled, failed, and per state) are of the
   *   instances that started in the period, as they are now; overdue = running with `due_at` before now.
   * - On-time rate: of the steps in the period that moved an instance to another state (events and
   *   timers; not the start or engine bookkeeping such as `@reminder:*`), the share the engine did not
   *   mark `late`. The engine marks a step late when it leaves a task after the task's due, so a late
   *   SUBMIT and a patrol that ends `missed` at 23:59 both count against it.
   * - Mean time in each state: from consecutive state-changing steps of an instance (entering a
   *   state to leaving it), for the stays that ended in the period; self-transitions (CHECK_IN,
   *   reminders) do not end a stay, and the state an instance is in now is not counted yet.
   * - Satisfaction: mean `data.satisfaction` of the EVALUATE steps in the period.
   * - Patrol coverage: household visits (`context.householdsVisited`) of the grid's daily patrols
   *   started in the period, divided by the grid's households from the registry; 1 means as many
   *   visits as households (a household may be visited twice).
   */
  async overview(q: { from?: string; to?: string }, scope: GridScope = 'all'): Promise<Overview> {
    const { from, to } = this.period(q);
    const { instances, inState, steps, stays, coverage } = await readModel.overviewFacts(this.orm, { from: new Date(from).toISOString(), to: new Date(to).toISOString() }, scope);

    // Every figure row is keyed by which grouping set it came from.
    const keyOf = (r: Grouping) => (r.allGrids && r.allDefinitions ? 'total' : r.allGrids ? `d:${r.definition}` : r.allDefinitions ? `g:${r.grid}` : `gd:${r.grid}\u0000${r.definition}`);
    const figures = new Map<string, Figures>();
    const at = (key: string) => {
      let f = figures.get(key);
      if (!f) figures.set(key, (f = emptyFigures()));
      return f;
    };
    for (const r of instances) {
      Object.assign(at(keyOf(r)), { started: r.started, completed: r.completed, running: r.running, overdue: r.overdue, cancelled: r.cancelled, failed: r.failed });
    }
    for (const r of steps) {
      const f = at(keyOf(r));
      const { moves, late, evaluations } = r;
      f.onTime = { steps: moves, late, rate: moves ? round((moves - late) / moves) : null };
      f.satisfaction = { evaluations, mean: evaluations ? round(r.satisfaction ?? 0, 2) : null };
    }
    // Per state of a definition (overall and per grid): instances in it now, and the stays that ended.
    const stateMaps = new Map<string, Map<string, StateFigures>>();
    const stateOf = (r: { grid: string | null; definition: string; state: string; allGrids: boolean }) => {
      const key = r.allGrids ? `d:${r.definition}` : `gd:${r.grid}\u0000${r.definition}`;
      at(key);
      const states = stateMaps.get(key) ?? new Map<string, StateFigures>();
      stateMaps.set(key, states);
      let s = states.get(r.state);
      if (!s) states.set(r.state, (s = { state: r.state, instances: 0, visits: 0, meanSeconds: null }));
      return s;
    };
    for (const r of inState) stateOf(r).instances = r.instances;
    for (const r of stays) Object.assign(stateOf(r), { visits: r.visits, meanSeconds: Math.round(r.meanSeconds) });
    const statesOf = (key: string) => [...(stateMaps.get(key)?.values() ?? [])].sort((a, b) => (a.state < b.state ? -1 : a.state > b.state ? 1 : 0));

    const definitionKeys = [...new Set([...figures.keys()].filter((k) => k.startsWith('d:')).map((k) => k.slice(2)))].sort();
    const gridKeys = new Map<string | null, Set<string>>();
    for (const k of figures.keys()) {
      if (!k.startsWith('gd:')) continue;
      const [grid, definition] = k.slice(3).split('\u0000');
      const g = grid === 'null' ? null : grid;
      gridKeys.set(g, (gridKeys.get(g) ?? new Set()).add(definition));
    }
    const registry = new Map(coverage.map((g) => [g.grid, g]));
    for (const g of registry.keys()) if (!gridKeys.has(g)) gridKeys.set(g, new Set());
    const gridOrder = [...gridKeys.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)));

    return {
      period: { from: iso(from), to: iso(to) },
      generatedAt: iso(Date.now()),
      total: figures.get('total') ?? emptyFigures(),
      definitions: definitionKeys.map((d) => ({ definition: d, ...(figures.get(`d:${d}`) ?? emptyFigures()), states: statesOf(`d:${d}`) })),
      grids: gridOrder.map((grid) => {
        const reg = grid === null ? undefined : registry.get(grid);
        const households = reg ? reg.households : null;
        const visited = reg ? reg.householdsVisited : 0;
        return {
          grid,
          households,
          ...(figures.get(`g:${grid}`) ?? emptyFigures()),
          patrolCoverage: reg ? { patrols: reg.patrols, householdsVisited: visited, households: reg.households, rate: reg.households ? round(visited / reg.households) : null } : null,
          definitions: [...(gridKeys.get(grid) ?? [])].sort().map((d) => ({
            definition: d,
            ...(figures.get(`gd:${grid}\u0000${d}`) ?? emptyFigures()),
            states: statesOf(`gd:${grid}\u0000${d}`),
          })),
        };
      }),
    };
  }

  /**
   * The ranking of `month` (`YYYY-MM`) as a monthly review confirmed it: the scores and adjustments
   * its CONFIRM recorded (`monthly-ranking`, keyed by the month scored), ranked by `rankGrids`;
   * before that, the scores computed now by the latest monthly-review's rules, without
   * adjustments, marked provisional.
   */
  async evaluation(month: string, community: string = DEFAULT_COMMUNITY): Promise<Evaluation> {
    if (!MONTH.test(month)) throw badRequest(`"${month}" is not a month; use YYYY-MM, e.g. "2026-11"`, [{ path: 'month', message: 'expected YYYY-MM' }]);
    const record = await readModel.latestMonthlyRanking(this.orm, month, community);
    if (record) {
      const grids = record.data.scores?.grids;
      // A CONFIRM without scores is refused by the definition's guard; a record without them is corrupt.
      if (!Array.isArray(grids)) throw new Error(`monthly-ranking record of ${record.workflowId} has no scores.grids`);
      const adjustments = record.data.adjustments ?? [];
      return {
        month,
        source: 'confirmed',
        workflowId: record.workflowId,
        reviewMonth: record.data.reviewMonth ?? month,
        confirmedAt: iso(record.at),
        note: record.data.note ?? null,
        weights: record.data.scores?.weights ?? DEFAULT_WEIGHTS,
        rules: record.data.scores?.rules ?? null,
        adjustments,
        grids: rankGrids(grids, adjustments),
      };
    }
    const rules = await this.providers.evaluationRules();
    const live = (await this.providers.monthlyScores(month, rules, community)) as { grids: GridScore[] };
    return { month, source: 'provisional', workflowId: null, reviewMonth: null, confirmedAt: null, note: null, weights: rules.weights, rules, adjustments: [], grids: rankGrids(live.grids) };
  }

  /** Audits an export (PIPL: every export is logged), with what was asked and how many rows left. */
  async recordExport(actor: string, subject: string, data: { query: Record<string, unknown>; rows: number }): Promise<void> {
    await this.orm.em.getConnection().execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, 'export', ?, ?)`, [actor, subject, JSON.stringify(data)]);
  }

  /**
   * Instances per definition and state for the process list's filters (no paging), within the
   * caller's grids. Overdue ones are counted apart: among the few running rows, so the count of all
   * rows can be read from a narrow index alone.
   */
  async counts(f: ProcessFilters, scope: string[] | 'all' = 'all'): Promise<Counts> {
    const count = (filters: ProcessFilters) => readModel.countPerState(this.orm, filters, scope);
    // overdue=true: every row counted is overdue; overdue=false: none is.
    const [rows, overdueRows] = await Promise.all([count(f), f.overdue === undefined ? count({ ...f, overdue: true }) : Promise.resolve([])]);
    if (f.overdue === true) overdueRows.push(...rows);
    const overdue = new Map(overdueRows.map((r) => [`${r.definition}\u0000${r.state}`, r.count]));
    const items = rows
      .map((r) => ({ definition: r.definition, state: r.state, count: r.count, overdue: overdue.get(`${r.definition}\u0000${r.state}`) ?? 0 }))
      .sort((a, b) => (a.definition < b.definition ? -1 : a.definition > b.definition ? 1 : b.count - a.count || (a.state < b.state ? -1 : a.state > b.state ? 1 : 0)));
    return { total: items.reduce((s, i) => s + i.count, 0), overdue: items.reduce((s, i) => s + i.overdue, 0), items };
  }
}

import type { MikroORM } from '@mikro-orm/postgresql';
import * as readModel from '../db/read-model';
import { addDays, atLocal, DEFAULT_ZONE, formatLocal } from '../engine/time';
import { checkScoringRules, DEFAULT_WEIGHTS, evaluatedMonth, legacyRules, rankGrids, scoreGrids, type MonthFact, type ScoringRules, type Weights } from '../engine/scoring';
import { badRequest } from './errors';

/** Where a provider runs: the process's grid, its community (absent: the default one) and id. */
export interface ProviderContext {
  grid: string | null;
  community?: string;
  workflowId?: string;
}

export type Provider = (params: Record<string, unknown>, ctx: ProviderContext) => Promise<Record<string, unknown>>;

const MONTH = /^\d{4}-\d{2}$/;
const nextMonth = (m: string) => {
  const [y, mo] = m.split('-').map(Number);
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
};
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** When `day` begins in the one default zone: the providers count the community's days, whatever the definition. */
const midnight = (day: string) => formatLocal(atLocal(day, '00:00', DEFAULT_ZONE), DEFAULT_ZONE);

/**
 * Named data providers that definitions use: `prefill` when an instance starts, `fetch` while it
 * runs. They read the read model only, so a provider never changes what it reports on.
 */
export class ProviderService {
  private readonly providers: Record<string, Provider>;

  constructor(
    private readonly orm: MikroORM,
    /** The grid keys of a community (the default one when not named). */
    private readonly gridIds: (community?: string) => Promise<string[]>,
    /** The scoring rules the latest monthly-review definition states (for evaluations asked outside a review). */
    private readonly currentRules: () => Promise<ScoringRules | undefined> = async () => undefined,
    /** The `grid|YYYY-MM-DD` days of a month the duty rota had nobody on duty (services/rota.service.ts). */
    private readonly nobodyOnDuty: (month: string) => Promise<Set<string>> = async () => new Set(),
  ) {
    this.providers = {
      'weekly-summary': (p, ctx) => this.weeklySummary(String(ctx.grid ?? p.grid ?? ''), String(p.day ?? '')),
      'monthly-scores': (p, ctx) => this.reviewScores(p, ctx.community),
    };
  }

  names(): string[] {
    return Object.keys(this.providers);
  }

  async run(name: string, params: Record<string, unknown>, ctx: ProviderContext): Promise<Record<string, unknown>> {
    const provider = this.providers[name];
    if (!provider) throw badRequest(`unknown data provider "${name}"; known: ${this.names().join(', ')}`);
    return provider(params, ctx);
  }

  /** The week ending on `day` (the seven days up to and including it) of one grid. */
  async weeklySummary(grid: string, day: string): Promise<Record<string, unknown>> {
    if (!DAY.test(day)) throw badRequest(`weekly-summary needs a day (YYYY-MM-DD), got "${day}"`);
    const from = addDays(day, -6);
    const start = midnight(from);
    const end = midnight(addDays(day, 1));
    const patrols = await readModel.patrolWeek(this.orm, { grid, from, to: day });
    const issues = await readModel.issueWeek(this.orm, { grid, start, end });
    const open = await readModel.openIssueIds(this.orm, grid, 500);
    return {
      from,
      to: day,
      patrolsCompleted: patrols.completed,
      patrolsMissed: patrols.missed,
      patrolsLate: patrols.late,
      patrolsSubmittedLate: patrols.submittedLate,
      checkIns: patrols.checkIns,
      householdsVisited: patrols.householdsVisited,
      issuesRaised: issues.raised,
      issuesResolved: issues.resolved,
      issuesEscalated: issues.escalated,
      issuesOpen: open.length,
      openIssues: open,
    };
  }

  /**
   * What the month's patrols, reports and issues did, as facts for the scoring: patrols and
   * reports of its days; issues resolved in it (with every RESOLVE and EVALUATE, so later ratings
   * count for the month of the work); and instances with an event a deduction names in it.
   */
  async monthFacts(month: string, rules?: ScoringRules): Promise<MonthFact[]> {
    const from = midnight(`${month}-01`);
    const to = midnight(`${nextMonth(month)}-01`);
    const deductions = rules?.deductions ?? [];
    const events = [...new Set(['SUBMIT', 'RESOLVE', 'EVALUATE', ...deductions.map((d) => d.event)])];
    return readModel.monthFacts(this.orm, { month, from, to, events, deductions });
  }

  /**
   * The scores of `month` itself under `rules`. Each indicator and score is null where there was
   * nothing to measure (see engine/scoring.ts).
   */
  async monthlyScores(month: string, rules: ScoringRules, community?: string): Promise<Record<string, unknown>> {
    if (!MONTH.test(month)) throw badRequest(`monthly-scores needs a month (YYYY-MM), got "${month}"`);
    const facts = await this.monthFacts(month, rules);
    // A patrol of a day nobody was on duty is not the grid's miss (engine/rota.ts).
    const unstaffed = await this.nobodyOnDuty(month);
    for (const f of facts) if (f.definition === 'daily-patrol' && f.grid && unstaffed.has(`${f.grid}|${f.day}`)) f.nobodyOnDuty = true;
    const grids = await this.gridIds(community);
    const scores = scoreGrids(facts, grids, month, rules);
    return { month, weights: rules.weights, rules, grids: scores, ranking: rankGrids(scores).map((r) => ({ grid: r.grid, score: r.score, rank: r.rank })) };
  }

  /**
   * The `monthly-scores` provider of a review: `{ month, rules }` scores the month its rules'
   * period names (the previous one by default); a review started on an earlier definition version
   * passes `{ month, weights }` and scores its own month, as it did then.
   */
  async reviewScores(p: Record<string, unknown>, community?: string): Promise<Record<string, unknown>> {
    const reviewMonth = String(p.month ?? '');
    if (!MONTH.test(reviewMonth)) throw badRequest(`monthly-scores needs a month (YYYY-MM), got "${reviewMonth}"`);
    if (p.rules === undefined) return { ...(await this.monthlyScores(reviewMonth, legacyRules((p.weights as Weights | undefined) ?? DEFAULT_WEIGHTS), community)), reviewMonth };
    const { rules, errors } = checkScoringRules(p.rules);
    if (!rules) throw badRequest(`monthly-scores: invalid rules: ${errors.map((e) => `rules.${e.path}: ${e.message}`).join('; ')}`, errors.map((e) => ({ path: `rules.${e.path}`, message: e.message })));
    return { ...(await this.monthlyScores(evaluatedMonth(reviewMonth, rules.period), rules, community)), reviewMonth };
  }

  /** The rules evaluations outside a review use: the latest monthly-review's, else the defaults of earlier versions. */
  async evaluationRules(): Promise<ScoringRules> {
    return (await this.currentRules()) ?? legacyRules(DEFAULT_WEIGHTS);
  }
}

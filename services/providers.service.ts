import type { MikroORM } from '@mikro-orm/postgresql';
import { addDays } from '../definitions/time';
import { DEFAULT_WEIGHTS, rankGrids, scoreGrids, type MonthFact, type Weights } from '../definitions/scoring';
import { badRequest } from './errors';

export type Provider = (params: Record<string, unknown>, ctx: { grid: string | null; workflowId?: string }) => Promise<Record<string, unknown>>;

const MONTH = /^\d{4}-\d{2}$/;
const nextMonth = (m: string) => {
  const [y, mo] = m.split('-').map(Number);
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
};
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Named data providers that definitions use: `prefill` when an instance starts, `fetch` while it
 * runs. They read the read model only, so a provider never changes what it reports on.
 */
export class ProviderService {
  private readonly providers: Record<string, Provider>;

  constructor(
    private readonly orm: MikroORM,
    private readonly gridIds: () => Promise<string[]>,
  ) {
    this.providers = {
      'weekly-summary': (p, ctx) => this.weeklySummary(String(ctx.grid ?? p.grid ?? ''), String(p.day ?? '')),
      'monthly-scores': (p) => this.monthlyScores(String(p.month ?? ''), (p.weights as Weights | undefined) ?? DEFAULT_WEIGHTS),
    };
  }

  names(): string[] {
    return Object.keys(this.providers);
  }

  async run(name: string, params: Record<string, unknown>, ctx: { grid: string | null; workflowId?: string }): Promise<Record<string, unknown>> {
    const provider = this.providers[name];
    if (!provider) throw badRequest(`unknown data provider "${name}"; known: ${this.names().join(', ')}`);
    return provider(params, ctx);
  }

  /** The week ending on `day` (the seven days up to and including it) of one grid. */
  async weeklySummary(grid: string, day: string): Promise<Record<string, unknown>> {
    if (!DAY.test(day)) throw badRequest(`weekly-summary needs a day (YYYY-MM-DD), got "${day}"`);
    const from = addDays(day, -6);
    const conn = this.orm.em.fork().getConnection();
    const [patrols] = await conn.execute<{ completed: string; missed: string; late: string; check_ins: string; households: string }[]>(
      `select count(*) filter (where state = 'completed') as completed,
              count(*) filter (where state = 'missed') as missed,
              count(*) filter (where (context->>'late')::boolean and state = 'completed') as late,
              coalesce(sum((context->>'checkIns')::int), 0) as check_ins,
              coalesce(sum((context->>'householdsVisited')::int), 0) as households
         from process_instance
        where definition_key = 'daily-patrol' and grid = ? and context->>'day' between ? and ?`,
      [grid, from, day],
    );
    const start = `${from}T00:00:00+08:00`;
    const end = `${addDays(day, 1)}T00:00:00+08:00`;
    const [issues] = await conn.execute<{ raised: string; resolved: string; escalated: string }[]>(
      `select count(*) filter (where p.started_at >= ? and p.started_at < ?) as raised,
              count(*) filter (where exists (select 1 from transition_record t where t.workflow_id = p.workflow_id and t.event = 'RESOLVE' and t.at >= ? and t.at < ?)) as resolved,
              count(*) filter (where exists (select 1 from transition_record t where t.workflow_id = p.workflow_id and t.event in ('ESCALATE', 'OVERDUE_ESCALATE') and t.at >= ? and t.at < ?)) as escalated
         from process_instance p where p.definition_key = 'issue' and p.grid = ?`,
      [start, end, start, end, start, end, grid],
    );
    const open = await conn.execute<{ workflow_id: string }[]>(
      `select workflow_id from process_instance where definition_key = 'issue' and grid = ? and status = 'running' order by started_at limit 500`,
      [grid],
    );
    return {
      from,
      to: day,
      patrolsCompleted: Number(patrols.completed),
      patrolsMissed: Number(patrols.missed),
      patrolsLate: Number(patrols.late),
      checkIns: Number(patrols.check_ins),
      householdsVisited: Number(patrols.households),
      issuesRaised: Number(issues.raised),
      issuesResolved: Number(issues.resolved),
      issuesEscalated: Number(issues.escalated),
      issuesOpen: open.length,
      openIssues: open.map((r) => r.workflow_id),
    };
  }

  /** What the month's patrols, reports and issues did, as facts for the scoring. */
  async monthFacts(month: string): Promise<MonthFact[]> {
    const rows = await this.orm.em.fork().getConnection().execute<
      { definition_key: string; grid: string | null; day: string | null; state: string; steps: MonthFact['steps'] }[]
    >(
      `select p.definition_key, p.grid, p.context->>'day' as day, p.state,
              coalesce(json_agg(json_build_object('event', t.event, 'at', t.at, 'late', t.late, 'data', t.data) order by t.seq)
                filter (where t.event in ('SUBMIT', 'RESOLVE', 'EVALUATE')), '[]') as steps
         from process_instance p
         left join transition_record t on t.workflow_id = p.workflow_id
        where (p.definition_key in ('daily-patrol', 'weekly-report') and p.context->>'day' like ?)
           or (p.definition_key = 'issue' and exists (
                select 1 from transition_record r where r.workflow_id = p.workflow_id
                   and r.event in ('RESOLVE', 'EVALUATE') and r.at >= ? and r.at < ?))
        group by p.workflow_id`,
      // Only issues resolved or evaluated in the month count, so only those are read.
      [`${month}-%`, `${month}-01T00:00:00+08:00`, `${nextMonth(month)}-01T00:00:00+08:00`],
    );
    return rows.map((r) => ({ definition: r.definition_key, grid: r.grid, day: r.day ?? '', state: r.state, steps: r.steps }));
  }

  async monthlyScores(month: string, weights: Weights): Promise<Record<string, unknown>> {
    if (!MONTH.test(month)) throw badRequest(`monthly-scores needs a month (YYYY-MM), got "${month}"`);
    const facts = await this.monthFacts(month);
    const grids = await this.gridIds();
    const scores = scoreGrids(facts, grids, month, weights);
    return { month, weights, grids: scores, ranking: rankGrids(scores).map((r) => ({ grid: r.grid, score: r.score, rank: r.rank })) };
  }
}

import { Router } from 'express';
import { z } from 'zod';
import type { DefinitionFigures, Figures, StatsService } from '../services/stats.service';
import { sendCsv } from './csv';

const format = z.enum(['json', 'csv']).default('json');

export const overviewQuery = z.strictObject({
  from: z.string().optional().describe('A day (YYYY-MM-DD, Asia/Shanghai) or a time with offset; default: the first of this month'),
  to: z.string().optional().describe('A day (included) or a time with offset (excluded); default: today'),
  format,
});

export const evaluationQuery = z.strictObject({ format });

/** The filters of `GET /api/processes` without paging; a filter added there must be added here and to `StatsService.counts`. */
export const countsQuery = z.strictObject({
  definition: z.string().optional(),
  grid: z.string().optional(),
  state: z.string().optional(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled']).optional(),
  assignee: z.string().optional(),
  overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  q: z.string().max(100).optional(),
  format,
});

const figureColumns = (f: Figures) => ({
  started: f.started,
  completed: f.completed,
  running: f.running,
  overdue: f.overdue,
  cancelled: f.cancelled,
  failed: f.failed,
  onTimeSteps: f.onTime.steps,
  lateSteps: f.onTime.late,
  onTimeRate: f.onTime.rate,
  evaluations: f.satisfaction.evaluations,
  satisfaction: f.satisfaction.mean,
});
const stateColumns = (d: DefinitionFigures) => Object.fromEntries(d.states.map((s) => [`meanSeconds:${s.state}`, s.meanSeconds]));

/** Statistics for managers: `/stats/overview`, `/evaluations/:month` and `/processes-counts`, each also as `?format=csv`. */
export function statsRoutes(stats: StatsService): Router {
  const r = Router();

  r.get('/stats/overview', async (req, res) => {
    const { format: as, ...period } = overviewQuery.parse(req.query);
    const overview = await stats.overview(period, req.principal?.grids ?? 'all');
    if (as === 'json') return void res.json(overview);
    // One line per grid and definition, then per grid, per definition and the total.
    const rows = [
      ...overview.grids.flatMap((g) => g.definitions.map((d) => ({ grid: g.grid ?? 'community', definition: d.definition, ...figureColumns(d), ...stateColumns(d) }))),
      ...overview.grids.map((g) => ({
        grid: g.grid ?? 'community',
        definition: '*',
        households: g.households,
        ...figureColumns(g),
        patrols: g.patrolCoverage?.patrols,
        householdsVisited: g.patrolCoverage?.householdsVisited,
        patrolCoverage: g.patrolCoverage?.rate,
      })),
      ...overview.definitions.map((d) => ({ grid: '*', definition: d.definition, ...figureColumns(d), ...stateColumns(d) })),
      { grid: '*', definition: '*', ...figureColumns(overview.total) },
    ];
    sendCsv(res, `统计概览_${overview.period.from.slice(0, 10)}_${overview.period.to.slice(0, 10)}.csv`, rows);
  });

  r.get('/evaluations/:month', async (req, res) => {
    const { format: as } = evaluationQuery.parse(req.query);
    const evaluation = await stats.evaluation(req.params.month);
    if (as === 'json') return void res.json(evaluation);
    const rows = evaluation.grids.map((g) => ({
      month: evaluation.month,
      source: evaluation.source,
      rank: g.rank,
      grid: g.grid,
      total: g.total,
      score: g.score,
      adjustment: g.adjustment,
      adjustmentReasons: g.adjustments.map((a) => `${a.points > 0 ? '+' : ''}${a.points} ${a.reason}`).join('; '),
      ...g.indicators,
    }));
    sendCsv(res, `网格评比_${evaluation.month}.csv`, rows);
  });

  r.get('/processes-counts', async (req, res) => {
    const { format: as, ...filters } = countsQuery.parse(req.query);
    const counts = await stats.counts(filters, req.principal?.grids ?? 'all');
    if (as === 'json') return void res.json(counts);
    sendCsv(res, 'process-counts.csv', counts.items as unknown as Record<string, unknown>[], { columns: ['definition', 'state', 'count', 'overdue'] });
  });

  return r;
}

import { csvLang, dayOrInstant, listQuery } from './processes.routes';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Indicators } from '../engine/scoring';
import { DEFAULT_ZONE, localDate } from '../engine/time';
import type { DefinitionFigures, Figures, StatsService } from '../services/stats.service';
import { sendCsv } from './csv';
import { nameRows, type Namer } from '../services/names';
import { communitiesFor, communityOf } from './community-scope';

const format = z.enum(['json', 'csv']).default('json');

export const overviewQuery = z.strictObject({
  from: dayOrInstant.optional().describe(`A day (YYYY-MM-DD, ${DEFAULT_ZONE}) or a time with offset; default: the first of this month`),
  to: dayOrInstant.optional().describe('A day (included) or a time with offset (excluded); default: today'),
  format,
  lang: csvLang,
});

export const evaluationQuery = z.strictObject({ format, lang: csvLang });

/** A month from 2000 on: scores before the grid's first year are not asked for, and year 0 breaks date arithmetic. */
export const monthParam = z.string().regex(/^(2\d{3})-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM, e.g. "2026-11"');

/** The filters of `GET /api/processes` without paging; a filter added there must be added here and to `StatsService.counts`. */
export const countsQuery = listQuery.omit({ limit: true, cursor: true, format: true }).extend({ format });

// In a fixed order: a confirmed ranking comes back from jsonb, which sorts object keys.
const INDICATORS: (keyof Indicators)[] = [
  'patrols',
  'patrolsCompleted',
  'patrolsLate',
  'patrolsSubmittedLate',
  'patrolsMissed',
  'patrolRate',
  'weeklyReports',
  'weeklyOnTime',
  'weeklyOnTimeRate',
  'issuesResolved',
  'issuesOnTime',
  'issuesOnTimeRate',
  'evaluations',
  'satisfactionSum',
  'meanSatisfaction',
];

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
const stateColumns = (d: DefinitionFigures) =>
  Object.fromEntries(d.states.flatMap((s) => [[`instances:${s.state}`, s.instances], [`meanSeconds:${s.state}`, s.meanSeconds]]));

const actor = (req: Request) => req.principal?.memberId ?? req.principal?.name ?? 'anonymous';

/** Statistics for managers: `/stats/overview`, `/evaluations/:month` and `/processes-counts`, each also as `?format=csv`. */
export function statsRoutes(stats: StatsService, namer?: Namer): Router {
  const r = Router();
  // A grid's name right after its id, a state's after its code (first-seen key order makes the CSV's columns).
  const named = async <R extends Record<string, unknown> & { grid?: string | null; definition?: string; state?: string }>(rows: R[], lang: 'zh' | 'en') => {
    if (!namer) return rows;
    const names = await nameRows(rows.map((r) => ({ ...r, definition: r.definition === '*' ? undefined : r.definition })), namer, lang);
    return rows.map((r, i) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) {
        out[k] = v;
        if (k === 'grid') out.gridName = r.grid === '*' || r.grid === 'community' ? r.grid : names[i].gridName;
        if (k === 'state') out.stateName = names[i].stateName;
      }
      return out as R;
    });
  };

  r.get('/stats/overview', async (req, res) => {
    const { format: as, lang, ...period } = overviewQuery.parse(req.query);
    const communities = communitiesFor(req);
    const overview = await stats.overview(period, { grids: req.principal?.grids ?? [], ...(communities ? { communities } : {}) });
    if (as === 'json') return void res.json(overview);
    // One line per grid and definition, then per grid, per definition and the total.
    const figures = [
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
    const rows = await named(figures, lang);
    await stats.recordExport(actor(req), 'stats:overview', { query: req.query, rows: rows.length });
    // Named for the days it covers: the last day is the one before the (excluded) end.
    sendCsv(res, `统计概览_${overview.period.from.slice(0, 10)}_${localDate(Date.parse(overview.period.to) - 1)}.csv`, rows);
  });

  r.get('/evaluations/:month', async (req, res) => {
    const { format: as, lang } = evaluationQuery.parse(req.query);
    // Parsed as an object so a refusal names the field: errors[].path is "month".
    const { month } = z.object({ month: monthParam }).parse({ month: req.params.month });
    const evaluation = await stats.evaluation(month, communityOf(req));
    if (as === 'json') return void res.json(evaluation);
    const rows = await named(evaluation.grids.map((g) => ({
      month: evaluation.month,
      source: evaluation.source,
      rank: g.rank,
      grid: g.grid,
      total: g.total,
      score: g.score,
      adjustment: g.adjustment,
      // The reason first: a cell starting with "-" or "+" would be escaped as a would-be formula.
      adjustmentReasons: g.adjustments.map((a) => `${a.reason} (${a.points > 0 ? '+' : ''}${a.points})`).join('; '),
      // Standard deductions (in the score): rankings confirmed before they existed have none.
      deduction: (g.deductions ?? []).reduce((sum, d) => sum + d.points, 0),
      deductionReasons: (g.deductions ?? []).map((d) => `${d.reason} (${d.count} x, ${d.points})`).join('; '),
      ...Object.fromEntries(INDICATORS.map((k) => [k, g.indicators[k]])),
    })), lang);
    await stats.recordExport(actor(req), `evaluation:${evaluation.month}`, { query: req.query, rows: rows.length });
    sendCsv(res, `网格评比_${evaluation.month}.csv`, rows);
  });

  r.get('/processes-counts', async (req, res) => {
    const { format: as, lang, ...filters } = countsQuery.parse(req.query);
    const counts = await stats.counts({ ...filters, communities: communitiesFor(req) }, req.principal?.grids ?? []);
    if (as === 'json') return void res.json(counts);
    await stats.recordExport(actor(req), 'processes-counts', { query: req.query, rows: counts.items.length });
    sendCsv(res, 'process-counts.csv', await named(counts.items.map((i) => ({ ...i })), lang), { columns: ['definition', 'state', 'stateName', 'count', 'overdue'] });
  });

  return r;
}

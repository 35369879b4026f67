import { get, qs } from '../api';
import { t, statusName } from '../i18n';
import { PageTitle, Show, useLoad } from '../util';
import { loadDefinitions, loadGrids, pct, thisMonth, type DefinitionInfo, type GridInfo } from './common';
import { stateName, useLabels } from '../labels';
import { ColumnHeads } from '../widgets';

interface StateCount {
  definition: string;
  state: string;
  count: number;
  overdue: number;
}
interface Figures {
  started: number;
  completed: number;
  running: number;
  overdue: number;
  onTime: { rate: number | null };
}
interface Overview {
  total: Figures;
  grids: (Figures & { grid: string | null })[];
}
interface Ranked {
  grid: string;
  /** null: nothing to measure in the month, so no score and no rank. */
  total: number | null;
  score: number | null;
  adjustment: number;
  rank: number | null;
}
interface Evaluation {
  month: string;
  source: 'confirmed' | 'provisional';
  grids: Ranked[];
}

function RankingChart({ evaluation, names }: { evaluation: Evaluation; names: Map<string, string> }) {
  const rows = evaluation.grids.filter((r): r is Ranked & { total: number; rank: number } => r.total !== null && r.rank !== null).sort((a, b) => a.rank - b.rank);
  const unranked = evaluation.grids.filter((r) => r.total === null).map((r) => names.get(r.grid) ?? r.grid);
  if (!rows.length) return <p class="muted">{t('noData')}</p>;
  const max = Math.max(100, ...rows.map((r) => r.total));
  const rowH = 26;
  const labelW = 150;
  const barW = 420;
  const height = rows.length * rowH + 10;
  const summary = rows.map((r) => `${r.rank}. ${names.get(r.grid) ?? r.grid} ${r.total}`).join('；');
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${labelW + barW + 60} ${height}`} width="100%" role="img" aria-label={summary}>
        {rows.map((r, i) => {
          const y = 5 + i * rowH;
          const w = Math.max(2, (r.total / max) * barW);
          return (
            <g key={r.grid} class={r.rank <= 3 ? 'bar top' : 'bar'} data-grid={r.grid}>
              <text x={labelW - 8} y={y + 17} text-anchor="end">
                {r.rank}. {names.get(r.grid) ?? r.grid}
              </text>
              <rect x={labelW} y={y + 3} width={w} height={rowH - 8} rx={3} />
              <text x={labelW + w + 6} y={y + 17}>
                {r.total}
              </text>
            </g>
          );
        })}
      </svg>
      <table class="sr-only">
        <caption>{t('ranking', { month: evaluation.month })}</caption>
        <ColumnHeads heads={[t('rank'), t('grid'), t('score')]} />
        <tbody>
          {rows.map((r) => (
            <tr key={r.grid}>
              <td>{r.rank}</td>
              <td>{names.get(r.grid) ?? r.grid}</td>
              <td>{r.total}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {unranked.length > 0 && (
        <figcaption class="muted">
          {t('noData')}: {unranked.join('、')}
        </figcaption>
      )}
    </figure>
  );
}

/** One community's dashboard: the caller's own, or, from the street's page, the one named (`community`). */
export function Dashboard({ community }: { community?: string } = {}) {
  const month = thisMonth();
  const base = community ? `/api/communities/${encodeURIComponent(community)}` : '/api';
  const data = useLoad(async () => {
    const [counts, overview, evaluation, grids, defs] = await Promise.all([
      get<{ total: number; overdue: number; items: StateCount[] }>(`${base}/processes-counts${qs({ status: 'running' })}`),
      get<Overview>(`${base}/stats/overview`),
      get<Evaluation>(`${base}/evaluations/${month}`),
      community ? get<{ items: GridInfo[] }>(`${base}/grids`).then((r) => r.items) : loadGrids(),
      loadDefinitions(),
    ]);
    const named = community ? (await get<{ items: { id: string; name: string }[] }>('/api/communities')).items.find((c) => c.id === community)?.name ?? community : undefined;
    return { counts, overview, evaluation, grids, defs, named };
  }, [community]);
  const labels = useLabels((data.data?.counts.items ?? []).map((c) => c.definition));

  return (
    <>
      <PageTitle>
        {t('dashboardTitle')}
        {data.data?.named ? ` · ${data.data.named}` : ''}
      </PageTitle>
      {community && (
        <p>
          <a href="#/street">{t('backToStreet')}</a>
        </p>
      )}
      <Show of={data}>
        {({ counts, overview, evaluation, grids, defs }) => {
          const names = new Map(grids.map((g: GridInfo) => [g.id, g.name]));
          const titles = new Map(defs.map((d: DefinitionInfo) => [d.key, d.title]));
          const byDef = new Map<string, StateCount[]>();
          for (const c of counts.items) byDef.set(c.definition, [...(byDef.get(c.definition) ?? []), c]);
          const gridRows = overview.grids.filter((g) => g.grid).sort((a, b) => b.overdue - a.overdue || String(a.grid).localeCompare(String(b.grid)));
          return (
            <>
              <section aria-labelledby="kpi" class="kpis">
                <h2 id="kpi" class="sr-only">
                  {t('dashboardTitle')}
                </h2>
                <a class="kpi" href="#/processes?status=running">
                  <span class="n">{counts.total}</span> {t('running')}
                </a>
                <a class="kpi warn" href="#/processes?status=running&overdue=true">
                  <span class="n">{counts.overdue}</span> {t('overdue')}
                </a>
                <div class="kpi">
                  <span class="n">{overview.total.completed}</span> {t('completed')}
                </div>
                <div class="kpi">
                  <span class="n">{pct(overview.total.onTime.rate)}</span> {t('onTime')}
                </div>
              </section>
              <div class="grid2">
                <section aria-labelledby="by-process" class="card">
                  <h2 id="by-process">{t('countsByProcess')}</h2>
                  {byDef.size === 0 && <p class="muted">{t('noData')}</p>}
                  {[...byDef.entries()].map(([def, rows]) => (
                    <table key={def} class="compact">
                      <caption>
                        {titles.get(def) ?? def} <code>{def}</code>
                      </caption>
                      <thead>
                        <tr>
                          <th scope="col">{t('state')}</th>
                          <th scope="col" class="num">
                            {t('count')}
                          </th>
                          <th scope="col" class="num">
                            {t('overdue')}
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {rows.map((r) => (
                          <tr key={r.state}>
                            <td>
                              <a href={`#/processes${qs({ definition: def, state: r.state, status: 'running' })}`} title={r.state} data-state={r.state}>
                                {stateName(labels[def], r.state)}
                              </a>
                            </td>
                            <td class="num">{r.count}</td>
                            <td class={r.overdue ? 'num warn' : 'num'}>{r.overdue}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ))}
                </section>
                <section aria-labelledby="by-grid" class="card">
                  <h2 id="by-grid">{t('overdueByGrid')}</h2>
                  <table class="compact">
                    <thead>
                      <tr>
                        <th scope="col">{t('grid')}</th>
                        <th scope="col" class="num">
                          {statusName('running')}
                        </th>
                        <th scope="col" class="num">
                          {t('overdue')}
                        </th>
                        <th scope="col" class="num">
                          {t('onTime')}
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {gridRows.map((g) => (
                        <tr key={g.grid} data-grid={g.grid}>
                          <th scope="row">{names.get(g.grid as string) ?? g.grid}</th>
                          <td class="num">{g.running}</td>
                          <td class={g.overdue ? 'num warn' : 'num'}>
                            {g.overdue ? (
                              <a href={`#/processes${qs({ grid: g.grid, overdue: 'true', status: 'running' })}`} aria-label={`${names.get(g.grid as string) ?? g.grid} ${t('overdue')} ${g.overdue}`}>
                                {g.overdue}
                              </a>
                            ) : (
                              0
                            )}
                          </td>
                          <td class="num">{pct(g.onTime.rate)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </section>
              </div>
              <section aria-labelledby="ranking" class="card">
                <h2 id="ranking">
                  {t('ranking', { month: evaluation.month })}
                  <small>{evaluation.source === 'confirmed' ? t('rankingConfirmed') : t('rankingProvisional')}</small>
                </h2>
                <RankingChart evaluation={evaluation} names={names} />
              </section>
            </>
          );
        }}
      </Show>
    </>
  );
}

import type { MikroORM } from '@mikro-orm/postgresql';
import type { Community } from '../db/community.entities';
import type { StatsService } from './stats.service';
import * as readModel from '../db/read-model';
import type { CommunityFigures } from '../engine/street-view';

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The street level (街道): every community it oversees side by side, with a ranking between them,
 * from the same read model and evaluations each community's managers see.
 */
export class StreetService {
  constructor(
    private readonly deps: { orm: MikroORM; stats: StatsService; communities: () => Promise<Community[]> },
  ) {}

  async overview(reach: string[] | 'all', month: string): Promise<{ month: string; communities: CommunityFigures[] }> {
    const all = await this.deps.communities();
    const listed = all.filter((c) => reach === 'all' || reach.includes(c.id));
    if (!listed.length) return { month, communities: [] };
    const ids = listed.map((c) => c.id);
    const [load, grids] = await Promise.all([
      readModel.communityLoad(this.deps.orm, ids),
      this.deps.orm.em
        .fork()
        .getConnection()
        .execute<{ community_id: string; grids: string; households: string }[]>(
          `select community_id, count(*) as grids, coalesce(sum(households), 0) as households from grid where community_id = any(?::text[]) group by community_id`,
          [`{${ids.join(',')}}`],
        ),
    ]);
    const countOf = new Map(load.map((r) => [r.community, r]));
    const gridsOf = new Map(grids.map((r) => [r.community_id, r]));
    const rows: CommunityFigures[] = [];
    for (const c of listed) {
      const evaluation = await this.deps.stats.evaluation(month, c.id);
      const totals = evaluation.grids.map((g) => g.total).filter((t): t is number => t !== null);
      const n = countOf.get(c.id);
      const g = gridsOf.get(c.id);
      rows.push({
        id: c.id,
        name: c.name,
        street: { id: c.streetId, name: c.streetName },
        grids: Number(g?.grids ?? 0),
        households: Number(g?.households ?? 0),
        running: n?.running ?? 0,
        overdue: n?.overdue ?? 0,
        openIssues: n?.openIssues ?? 0,
        escalatedToStreet: n?.escalatedToStreet ?? 0,
        evaluation: { source: evaluation.source, gridsScored: totals.length, meanTotal: totals.length ? round2(totals.reduce((a, b) => a + b, 0) / totals.length) : null },
        rank: null,
      });
    }
    // Highest mean first; equal means share a rank (1, 2, 2, 4); a community without a score has none.
    const scored = rows.filter((r) => r.evaluation.meanTotal !== null).sort((a, b) => (b.evaluation.meanTotal as number) - (a.evaluation.meanTotal as number));
    scored.forEach((r, i) => {
      r.rank = i > 0 && scored[i - 1].evaluation.meanTotal === r.evaluation.meanTotal ? scored[i - 1].rank : i + 1;
    });
    rows.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.id.localeCompare(b.id));
    return { month, communities: rows };
  }
}

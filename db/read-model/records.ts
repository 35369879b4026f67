import { DEFAULT_COMMUNITY } from '../../engine/community';
import type { Adjustment, GridScore, ScoringRules, Weights } from '../../engine/scoring';
import { connection, type ReadModelDb } from './db';

/**
 * `process_record`: facts a definition records with the `record` action (check-ins, reported
 * issues, a review's confirmed ranking). The id is the effect's stable key, so a retry writes the same
 * row; a step taken again after its workflow task was lost replaces what the lost attempt wrote.
 */
export async function insertRecord(db: ReadModelDb, p: { id: string; workflowId: string; kind: string; at: string; grid: string | null; data: Record<string, unknown> }): Promise<void> {
  await connection(db).execute(`insert into process_record (id, workflow_id, kind, at, grid, data) values (?, ?, ?, ?, ?, ?)
     on conflict (id) do update set kind = excluded.kind, at = excluded.at, grid = excluded.grid, data = excluded.data`, [
    p.id,
    p.workflowId,
    p.kind,
    p.at,
    p.grid,
    JSON.stringify(p.data),
  ]);
}

/** What a monthly review's CONFIRM records (`monthly-ranking`), as far as the evaluation reads it. */
export interface MonthlyRankingData {
  month?: string;
  reviewMonth?: string;
  scores?: { grids?: GridScore[]; weights?: Weights; rules?: ScoringRules };
  adjustments?: Adjustment[];
  note?: string | null;
}

/** The latest ranking a review confirmed for `month` (the month scored), if any. */
export async function latestMonthlyRanking(db: ReadModelDb, month: string, community: string): Promise<{ workflowId: string; at: Date; data: MonthlyRankingData } | undefined> {
  // A community's own review confirmed it: its process row names the community.
  const [r] = await connection(db).execute<{ workflow_id: string; at: Date; data: MonthlyRankingData }[]>(
    `select r.workflow_id, r.at, r.data from process_record r left join process_instance p on p.workflow_id = r.workflow_id
      where r.kind = 'monthly-ranking' and r.data->>'month' = ? and coalesce(p.community_id, ?) = ? order by r.at desc, r.id desc limit 1`,
    [month, DEFAULT_COMMUNITY, community],
  );
  return r ? { workflowId: r.workflow_id, at: r.at, data: r.data } : undefined;
}

import { connection, count, type ReadModelDb } from './db';

/** What runs in one community now: for the street's view of its communities. */
export interface CommunityLoad {
  community: string;
  running: number;
  overdue: number;
  openIssues: number;
  /** Open issues whose level has reached the street (`context.level = street`). */
  escalatedToStreet: number;
}

/** Running processes, overdue ones and open issues of each of `communities` (absent ones have none). */
export async function communityLoad(db: ReadModelDb, communities: string[]): Promise<CommunityLoad[]> {
  if (!communities.length) return [];
  const rows = await connection(db).execute<{ community_id: string; running: string; overdue: string; open_issues: string; street: string }[]>(
    `select community_id,
            count(*) as running,
            count(*) filter (where due_at < now()) as overdue,
            count(*) filter (where definition_key = 'issue') as open_issues,
            count(*) filter (where definition_key = 'issue' and context->>'level' = 'street') as street
       from process_instance where status = 'running' and community_id = any(?::text[]) group by community_id`,
    [`{${communities.join(',')}}`],
  );
  const byId = new Map(rows.map((r) => [r.community_id, r]));
  return communities.map((c) => {
    const r = byId.get(c);
    return { community: c, running: count(r?.running ?? '0'), overdue: count(r?.overdue ?? '0'), openIssues: count(r?.open_issues ?? '0'), escalatedToStreet: count(r?.street ?? '0') };
  });
}

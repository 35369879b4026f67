/** The grids a caller may see, or for a partner, the organisation whose work it may see. */
export type GridScope = string[] | 'all' | { organization: string };

/** The filters of `GET /api/processes`, without paging: one definition for the list and its counts. */
export interface ProcessFilters {
  /** The communities the list is limited to: the caller's reach, or the one a route names. */
  communities?: string[];
  definition?: string;
  grid?: string;
  state?: string;
  status?: string;
  assignee?: string;
  /** The level an issue has reached (grid, community, street): the street office's view of what reached it. */
  level?: string;
  overdue?: boolean;
  q?: string;
  /** Ranges, from inclusive, to exclusive; a bare date is midnight in Asia/Shanghai. */
  startedFrom?: string;
  startedTo?: string;
  updatedFrom?: string;
  updatedTo?: string;
}

const at = (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00+08:00` : v);

/** The WHERE clause of the process list for `f`, within the caller's grids. */
export function processWhere(f: ProcessFilters, scope: GridScope = 'all'): { sql: string; params: unknown[]; where: string[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    where.push(sql);
    params.push(...values);
  };
  if (f.communities) add(f.communities.length ? `community_id in (${f.communities.map(() => '?').join(', ')})` : 'false', ...f.communities);
  if (f.definition) add('definition_key = ?', f.definition);
  if (f.grid) add('grid = ?', f.grid);
  if (f.state) add('state = ?', f.state);
  if (f.status) add('status = ?', f.status);
  if (f.assignee) add('assignee = ?', f.assignee);
  if (f.level) add(`context->>'level' = ?`, f.level);
  if (f.overdue === true) add(`status = 'running' and due_at < now()`);
  if (f.overdue === false) add(`not (status = 'running' and coalesce(due_at < now(), false))`);
  if (f.q) add('(business_key ilike ? or title ilike ?)', `%${f.q}%`, `%${f.q}%`);
  if (f.startedFrom) add('started_at >= ?', at(f.startedFrom));
  if (f.startedTo) add('started_at < ?', at(f.startedTo));
  if (f.updatedFrom) add('updated_at >= ?', at(f.updatedFrom));
  if (f.updatedTo) add('updated_at < ?', at(f.updatedTo));
  if (scope !== 'all' && !Array.isArray(scope)) add(`context->'owner'->>'id' = ?`, scope.organization);
  else if (scope !== 'all') add(scope.length ? `grid in (${scope.map(() => '?').join(', ')})` : 'false', ...scope);
  return { sql: where.length ? `where ${where.join(' and ')}` : '', params, where };
}

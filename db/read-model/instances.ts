import { connection, count, type ReadModelDb } from './db';
import { processWhere, type GridScope, type ProcessFilters } from './filters';
import type { ProcessStatus, TaskSnapshot } from '../../workflows/messages';

// The workflow's snapshot owns these shapes; the projection stores them as they arrive.
export type InstanceStatus = ProcessStatus;

/** A task of the state an instance is in, as the projection stores it (`process_instance.tasks`). */
export type StoredTask = TaskSnapshot;

/** One row of `process_instance`: an instance as its last projected step left it. */
export type InstanceRecord = InstanceFields<Date>;

/**
 * The columns of `process_instance`, with the timestamps as `T`: `Date` as read back, ISO strings as
 * the projection writes them.
 */
export interface InstanceFields<T> {
  workflowId: string;
  definitionKey: string;
  definitionVersion: number;
  businessKey: string;
  title: string;
  grid: string | null;
  /** The community the process belongs to (engine/community.ts). */
  community: string;
  status: InstanceStatus;
  state: string;
  stateValue: unknown;
  context: Record<string, unknown>;
  tasks: StoredTask[];
  /** The role of the first open task. */
  assignee: string | null;
  /** The due of the first open task. */
  dueAt: T | null;
  lastSeq: number;
  startedAt: T;
  updatedAt: T;
  endedAt: T | null;
}

interface InstanceRow {
  workflow_id: string;
  definition_key: string;
  definition_version: number;
  business_key: string;
  title: string;
  grid: string | null;
  community_id: string;
  status: InstanceStatus;
  state: string;
  state_value: unknown;
  context: Record<string, unknown>;
  tasks: StoredTask[];
  assignee: string | null;
  due_at: Date | null;
  last_seq: number;
  started_at: Date;
  updated_at: Date;
  ended_at: Date | null;
}

function instanceOf(r: InstanceRow): InstanceRecord {
  return {
    workflowId: r.workflow_id,
    definitionKey: r.definition_key,
    definitionVersion: r.definition_version,
    businessKey: r.business_key,
    title: r.title,
    grid: r.grid,
    community: r.community_id,
    status: r.status,
    state: r.state,
    stateValue: r.state_value,
    context: r.context,
    tasks: r.tasks,
    assignee: r.assignee,
    dueAt: r.due_at,
    lastSeq: r.last_seq,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    endedAt: r.ended_at,
  };
}

export async function findInstance(db: ReadModelDb, workflowId: string): Promise<InstanceRecord | undefined> {
  const rows = await connection(db).execute<InstanceRow[]>(`select * from process_instance where workflow_id = ?`, [workflowId]);
  return rows[0] ? instanceOf(rows[0]) : undefined;
}

/** Where an instance belongs: its grid, community and owning organisation (`context.owner.id`); asked before every event. */
export async function placeOfInstance(db: ReadModelDb, workflowId: string): Promise<{ grid: string | null; community: string; owner: string | null } | undefined> {
  const [row] = await connection(db).execute<{ grid: string | null; community_id: string; owner: string | null }[]>(
    `select grid, community_id, case when jsonb_typeof(context->'owner'->'id') = 'string' then context->'owner'->>'id' end as owner
     from process_instance where workflow_id = ?`,
    [workflowId],
  );
  return row ? { grid: row.grid, community: row.community_id, owner: row.owner } : undefined;
}

/** A running instance's grid, day (`context.day`) and open tasks; undefined when it is not running. */
export async function runningTasksOf(db: ReadModelDb, workflowId: string): Promise<{ grid: string | null; day: string | null; tasks: StoredTask[] } | undefined> {
  const [row] = await connection(db).execute<{ grid: string | null; day: string | null; tasks: StoredTask[] }[]>(
    `select grid, context->>'day' as day, tasks from process_instance where workflow_id = ? and status = 'running'`,
    [workflowId],
  );
  return row ? { grid: row.grid, day: row.day, tasks: row.tasks ?? [] } : undefined;
}

/**
 * One page of the process list, newest update first: the instances matching `filters` within
 * `scope`, after the keyset position `after` (the last row of the previous page), at most `limit`.
 */
export async function listInstances(
  db: ReadModelDb,
  q: { filters: ProcessFilters; scope: GridScope; after?: { updatedAt: string; workflowId: string }; limit: number },
): Promise<InstanceRecord[]> {
  const { where, params } = processWhere(q.filters, q.scope);
  if (q.after) {
    where.push('(updated_at, workflow_id) < (?, ?)');
    params.push(q.after.updatedAt, q.after.workflowId);
  }
  const sql = `select * from process_instance ${where.length ? `where ${where.join(' and ')}` : ''}
      order by updated_at desc, workflow_id desc limit ?`;
  const rows = await connection(db).execute<InstanceRow[]>(sql, [...params, q.limit]);
  return rows.map(instanceOf);
}

/** The running instances of one definition version (all of them, or those of `workflowIds`), by id. */
export async function runningInstances(db: ReadModelDb, q: { definition: string; version: number; workflowIds?: string[]; communities?: string[] }): Promise<InstanceRecord[]> {
  const rows = await connection(db).execute<InstanceRow[]>(
    `select * from process_instance where definition_key = ? and definition_version = ? and status = 'running' ${q.workflowIds ? 'and workflow_id in (?)' : ''}
      ${q.communities ? 'and community_id = any(?::text[])' : ''} order by workflow_id`,
    [q.definition, q.version, ...(q.workflowIds ? [q.workflowIds] : []), ...(q.communities ? [`{${q.communities.join(',')}}`] : [])],
  );
  return rows.map(instanceOf);
}

/** How many running instances of one definition version are in each state, by state. */
export async function runningPerState(db: ReadModelDb, definition: string, version: number, communities?: string[]): Promise<{ state: string; running: number }[]> {
  const rows = await connection(db).execute<{ state: string; n: string }[]>(
    `select state, count(*) as n from process_instance where definition_key = ? and definition_version = ? and status = 'running'
      ${communities ? 'and community_id = any(?::text[])' : ''} group by state order by state`,
    [definition, version, ...(communities ? [`{${communities.join(',')}}`] : [])],
  );
  return rows.map((r) => ({ state: r.state, running: count(r.n) }));
}

/** Instances per definition and state matching `filters` within `scope` (the process list's counts). */
export async function countPerState(db: ReadModelDb, filters: ProcessFilters, scope: GridScope): Promise<{ definition: string; state: string; count: number }[]> {
  const where = processWhere(filters, scope);
  const rows = await connection(db).execute<{ definition_key: string; state: string; n: string }[]>(
    `select definition_key, state, count(*) as n from process_instance ${where.sql} group by definition_key, state`,
    where.params,
  );
  return rows.map((r) => ({ definition: r.definition_key, state: r.state, count: count(r.n) }));
}

import { connection, type ReadModelDb } from './db';
import type { StoredTask } from './instances';

/**
 * Open tasks: the tasks of the state each running instance is in (`process_instance.tasks`), with
 * the member who claimed each (`task_claim`). A claim counts only since its state was last
 * entered: work that left the state and came back is free again.
 */
export interface OpenTaskRecord {
  workflowId: string;
  definitionKey: string;
  definitionVersion: number;
  stateValue: unknown;
  context: Record<string, unknown>;
  /** The process's title. */
  title: string;
  grid: string | null;
  community: string;
  task: Omit<StoredTask, 'overdue'>;
  /** The member holding the task by a claim or a reassignment still in force. */
  claimMember: string | null;
}

export interface OpenTaskFilter {
  /** A partner's tasks: the work given to its organisation (`context.owner.id`), in any grid. */
  organization?: string;
  /** The grids the caller may see. */
  grids?: string[] | 'all';
  /** The communities the caller may see (all when absent). */
  communities?: string[];
  grid?: string;
  role?: string;
  /** One task (`<workflowId>#<state>`...), by its id. */
  task?: { workflowId: string; id: string };
}

interface OpenTaskRow {
  workflow_id: string;
  definition_key: string;
  definition_version: number;
  state_value: unknown;
  context: Record<string, unknown>;
  title: string;
  grid: string | null;
  community_id: string;
  task: Omit<StoredTask, 'overdue'>;
  claim_member: string | null;
}

/** Open tasks matching `f`, the earliest due first (those without a due last), at most 1,000. */
export async function openTasks(db: ReadModelDb, f: OpenTaskFilter): Promise<OpenTaskRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.organization) {
    where.push(`and p.context->'owner'->>'id' = ?`);
    params.push(f.organization);
  } else if (f.grids && f.grids !== 'all') {
    where.push(`and p.grid = any(?::text[])`);
    params.push(`{${f.grids.join(',')}}`);
  }
  if (f.communities) {
    where.push(`and p.community_id = any(?::text[])`);
    params.push(`{${f.communities.join(',')}}`);
  }
  if (f.task) {
    where.push(`and p.workflow_id = ? and t.task->>'id' = ?`);
    params.push(f.task.workflowId, f.task.id);
  }
  if (f.grid) {
    where.push('and p.grid = ?');
    params.push(f.grid);
  }
  if (f.role) {
    where.push(`and t.task->>'role' = ?`);
    params.push(f.role);
  }
  const rows = await connection(db).execute<OpenTaskRow[]>(
    `select p.workflow_id, p.definition_key, p.definition_version, p.state_value, p.context, p.title, p.grid, p.community_id, t.task, c.member_id as claim_member
       from process_instance p
       cross join lateral jsonb_array_elements(p.tasks) as t(task)
       -- A claim counts only since the state was last entered: work that left and came back is free again.
       left join task_claim c on c.task_id = t.task->>'id'
            and c.at >= coalesce((select max(r.at) from transition_record r where r.workflow_id = p.workflow_id and r.to_state = t.task->>'state' and r.from_state <> r.to_state), c.at)
      where p.status = 'running' ${where.join(' ')}
      order by coalesce(t.task->>'dueAt', '9999') , p.workflow_id
      limit 1000`,
    params,
  );
  return rows.map((r) => ({
    workflowId: r.workflow_id,
    definitionKey: r.definition_key,
    definitionVersion: r.definition_version,
    stateValue: r.state_value,
    context: r.context,
    title: r.title,
    grid: r.grid,
    community: r.community_id,
    task: r.task,
    claimMember: r.claim_member,
  }));
}

/** Gives a task to a member (claimed by themselves, or handed on by `by`); the latest claim wins. */
export async function saveTaskClaim(db: ReadModelDb, p: { taskId: string; workflowId: string; memberId: string; by: string }): Promise<void> {
  await connection(db).execute(
    `insert into task_claim (task_id, workflow_id, member_id, by, at) values (?, ?, ?, ?, now())
     on conflict (task_id) do update set member_id = excluded.member_id, by = excluded.by, at = excluded.at`,
    [p.taskId, p.workflowId, p.memberId, p.by],
  );
}

/** The ids of the tasks of one instance a member holds by a claim still in force (see `openTasks`). */
export async function claimedTaskIds(db: ReadModelDb, p: { workflowId: string; memberId: string }): Promise<string[]> {
  const rows = await connection(db).execute<{ task_id: string }[]>(
    `select c.task_id from task_claim c
      where c.workflow_id = ? and c.member_id = ?
        and c.at >= coalesce((select max(r.at) from transition_record r
                               where r.workflow_id = c.workflow_id and r.to_state = split_part(c.task_id, '#', 2) and r.from_state <> r.to_state), c.at)`,
    [p.workflowId, p.memberId],
  );
  return rows.map((r) => r.task_id);
}

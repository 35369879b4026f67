import { connection, type ReadModelDb } from './db';
import type { InstanceFields } from './instances';
import type { ProjectionInput } from '../../workflows/messages';

/** One step of an instance (event, timer, reminder) as `transition_record` keeps it. */
export type ProjectedStep = ProjectionInput['steps'][number];

/** The `process_instance` row a batch of steps leaves behind. */
export type ProjectedInstance = InstanceFields<string>;

/**
 * Writes a batch of steps and the instance row they leave, in one statement (so in one transaction,
 * with one round trip: a BEGIN, an insert per step, the upsert and a COMMIT cost the worker and
 * PostgreSQL four or more). A step of a seq already stored is overwritten (a local activity lost with
 * its workflow task runs again, and the step taken again is the one the workflow keeps); the
 * instance row never moves back to an older seq. Given `records`, a record of this workflow at one of
 * the batch's seqs under a key the batch did not write is removed: the lost attempt's step wrote it.
 */
export async function projectSteps(db: ReadModelDb, p: { instance: ProjectedInstance; steps: ProjectedStep[]; records?: string[] }): Promise<void> {
  const i = p.instance;
  // The steps travel as one JSON array; `data` as text, so a step's JSON null stays a JSON null.
  const steps = p.steps.map((s) => ({ seq: s.seq, at: s.at, event: s.event, from_state: s.from, to_state: s.to, actor: s.actor ?? null, data: s.data === undefined ? null : JSON.stringify(s.data), late: s.late }));
  // A data-modifying WITH runs once and to completion whether or not the main statement reads it.
  await connection(db).execute(
    `with steps as (
       insert into transition_record (workflow_id, seq, at, event, from_state, to_state, actor, data, late, definition_version)
       select ?, s.seq, s.at, s.event, s.from_state, s.to_state, s.actor, s.data::jsonb, s.late, ?
       from jsonb_to_recordset(?::jsonb) as s(seq int, at timestamptz, event text, from_state text, to_state text, actor text, data text, late boolean)
       on conflict (workflow_id, seq) do update set
         at = excluded.at, event = excluded.event, from_state = excluded.from_state, to_state = excluded.to_state,
         actor = excluded.actor, data = excluded.data, late = excluded.late, definition_version = excluded.definition_version
       returning 1
     ), stale as (
       delete from process_record r
       where ?::boolean and r.workflow_id = ? and r.id not in (select jsonb_array_elements_text(?::jsonb))
         and substr(r.id, length(r.workflow_id) + 2) ~ '^[0-9]+:[0-9]+$'
         and split_part(substr(r.id, length(r.workflow_id) + 2), ':', 1)::int in (select (s->>'seq')::int from jsonb_array_elements(?::jsonb) s)
       returning 1
     )
     insert into process_instance (workflow_id, definition_key, definition_version, business_key, title, grid, community_id, status, state,
       state_value, context, tasks, assignee, due_at, last_seq, started_at, updated_at, ended_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (workflow_id) do update set
       definition_version = excluded.definition_version, status = excluded.status, state = excluded.state,
       state_value = excluded.state_value, context = excluded.context, tasks = excluded.tasks,
       assignee = excluded.assignee, due_at = excluded.due_at, last_seq = excluded.last_seq,
       updated_at = excluded.updated_at, ended_at = excluded.ended_at
     where process_instance.last_seq <= excluded.last_seq`,
    [
      i.workflowId,
      i.definitionVersion,
      JSON.stringify(steps),
      p.records !== undefined,
      i.workflowId,
      JSON.stringify((p.records ?? []).map((key) => `${i.workflowId}#${key}`)),
      JSON.stringify(steps.map((s) => ({ seq: s.seq }))),
      i.workflowId,
      i.definitionKey,
      i.definitionVersion,
      i.businessKey,
      i.title,
      i.grid,
      i.community,
      i.status,
      i.state,
      JSON.stringify(i.stateValue),
      JSON.stringify(i.context),
      JSON.stringify(i.tasks),
      i.assignee,
      i.dueAt,
      i.lastSeq,
      i.startedAt,
      i.updatedAt,
      i.endedAt,
    ],
    'run',
  );
}

/**
 * Ends a running instance outside a step (cancelled, failed): its closing step is written, and the
 * row loses its tasks and due. An instance that already ended is left as it is, unless the row claims
 * a step at or after the closing step's seq: the workflow never took that step (its workflow task was
 * lost after the local activity projected it, say the step that would have completed the process), so
 * the closing step replaces it, and what that lost step and any after it recorded goes.
 */
export async function markInstanceEnded(
  db: ReadModelDb,
  p: { workflowId: string; status: 'cancelled' | 'failed'; at: string; definitionVersion: number; step: Omit<ProjectedStep, 'at' | 'late'> },
): Promise<void> {
  await db.em.fork().transactional(async (em) => {
    const conn = em.getConnection();
    // The transaction's own connection, as in projectSteps.
    const trx = em.getTransactionContext();
    await conn.execute(
      `insert into transition_record (workflow_id, seq, at, event, from_state, to_state, actor, data, late, definition_version)
       values (?, ?, ?, ?, ?, ?, ?, ?, false, ?)
       on conflict (workflow_id, seq) do update set
         at = excluded.at, event = excluded.event, from_state = excluded.from_state, to_state = excluded.to_state,
         actor = excluded.actor, data = excluded.data, late = excluded.late, definition_version = excluded.definition_version`,
      [p.workflowId, p.step.seq, p.at, p.step.event, p.step.from, p.step.to, p.step.actor ?? null, JSON.stringify(p.step.data ?? {}), p.definitionVersion],
      'run',
      trx,
    );
    // Nothing the workflow took comes after its closing step.
    await conn.execute(`delete from transition_record where workflow_id = ? and seq > ?`, [p.workflowId, p.step.seq], 'run', trx);
    await conn.execute(
      `delete from process_record where workflow_id = ? and substr(id, length(workflow_id) + 2) ~ '^[0-9]+:[0-9]+$'
         and split_part(substr(id, length(workflow_id) + 2), ':', 1)::int >= ?`,
      [p.workflowId, p.step.seq],
      'run',
      trx,
    );
    await conn.execute(
      `update process_instance set status = ?, state = ?, ended_at = ?, updated_at = ?, tasks = '[]', assignee = null, due_at = null, last_seq = ?
       where workflow_id = ? and (status = 'running' or last_seq >= ?)`,
      [p.status, p.step.to, p.at, p.at, p.step.seq, p.workflowId, p.step.seq],
      'run',
      trx,
    );
  });
}

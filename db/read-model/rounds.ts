import { connection, type ReadModelDb } from './db';
import type { InstanceStatus } from './instances';

/**
 * Visit rounds in the read model: the instances a registry fan-out started (schedule.forEach),
 * one per household and cycle, found by the household and cycle their input carries. The due-ness
 * of the next run and the coverage view (入户全覆盖) are computed from these rows.
 */
export interface RoundRow {
  workflowId: string;
  grid: string | null;
  household: string;
  /** The cycle the round was started for (input.cycle): 2026-W49, 2026-12. */
  cycle: string;
  status: InstanceStatus;
  state: string;
  dueAt: Date | null;
  endedAt: Date | null;
}

interface Row {
  workflow_id: string;
  grid: string | null;
  household: string;
  cycle: string;
  status: InstanceStatus;
  state: string;
  due_at: Date | null;
  ended_at: Date | null;
}

/**
 * The rounds of `definition` started from `startedFrom` on (a round that covers a cycle starts at
 * most a cycle before it ends), within `grids` when given, for `households` when given.
 */
export async function registryRounds(db: ReadModelDb, q: { definition: string; startedFrom: Date; grids?: string[]; households?: string[] }): Promise<RoundRow[]> {
  if (q.grids?.length === 0 || q.households?.length === 0) return [];
  const where = [`definition_key = ?`, `started_at >= ?`, `context->'input'->>'household' is not null`];
  const params: unknown[] = [q.definition, q.startedFrom];
  if (q.grids) {
    where.push('grid in (?)');
    params.push(q.grids);
  }
  if (q.households) {
    where.push(`context->'input'->>'household' in (?)`);
    params.push(q.households);
  }
  const rows = await connection(db).execute<Row[]>(
    `select workflow_id, grid, context->'input'->>'household' as household, coalesce(context->'input'->>'cycle', '') as cycle, status, state, due_at, ended_at
       from process_instance where ${where.join(' and ')} order by started_at`,
    params,
  );
  return rows.map((r) => ({ workflowId: r.workflow_id, grid: r.grid, household: r.household, cycle: r.cycle, status: r.status, state: r.state, dueAt: r.due_at, endedAt: r.ended_at }));
}

import { connection, type ReadModelDb } from './db';

/**
 * `process_link`: which process a parent's effect started. The origin (`<parent>#<effect key>`)
 * is claimed before the start, so a retried start finds the same process.
 */
export async function linkedProcess(db: ReadModelDb, origin: string): Promise<string | undefined> {
  return (await connection(db).execute<{ workflow_id: string }[]>(`select workflow_id from process_link where origin = ?`, [origin]))[0]?.workflow_id;
}

/** Claims `origin` for `workflowId`; the first claim wins and a later one changes nothing. */
export async function claimLink(db: ReadModelDb, p: { origin: string; workflowId: string; parentWorkflowId: string }): Promise<void> {
  await connection(db).execute(
    `insert into process_link (origin, workflow_id, parent_workflow_id, created_at) values (?, ?, ?, now()) on conflict (origin) do nothing`,
    [p.origin, p.workflowId, p.parentWorkflowId],
  );
}

/** The processes a process started, oldest first. */
export async function childrenOf(db: ReadModelDb, parentWorkflowId: string): Promise<string[]> {
  const rows = await connection(db).execute<{ workflow_id: string }[]>(
    `select workflow_id from process_link where parent_workflow_id = ? order by created_at, workflow_id`,
    [parentWorkflowId],
  );
  return rows.map((r) => r.workflow_id);
}

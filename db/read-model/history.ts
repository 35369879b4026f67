import { connection, type ReadModelDb } from './db';

/** One row of `transition_record`: a step an instance took. */
export interface StepRecord {
  seq: number;
  at: Date;
  event: string;
  from: string;
  to: string;
  actor: string | null;
  data: unknown;
  late: boolean;
  definitionVersion: number;
}

/** Every step of an instance, in order. */
export async function historyOf(db: ReadModelDb, workflowId: string): Promise<StepRecord[]> {
  const rows = await connection(db).execute<
    { seq: number; at: Date; event: string; from_state: string; to_state: string; actor: string | null; data: unknown; late: boolean; definition_version: number }[]
  >(`select seq, at, event, from_state, to_state, actor, data, late, definition_version from transition_record where workflow_id = ? order by seq`, [workflowId]);
  return rows.map((r) => ({ seq: r.seq, at: r.at, event: r.event, from: r.from_state, to: r.to_state, actor: r.actor, data: r.data, late: r.late, definitionVersion: r.definition_version }));
}

/** The seq of an instance's latest projected step; 0 before any. */
export async function lastSeqOf(db: ReadModelDb, workflowId: string): Promise<number> {
  return (await connection(db).execute<{ seq: number }[]>(`select coalesce(max(seq), 0) as seq from transition_record where workflow_id = ?`, [workflowId]))[0].seq;
}

/** A step of an issue a hotline ticket follows, after the last one its system was sent. */
export interface TicketStep {
  system: string;
  ticketId: string;
  workflowId: string;
  seq: number;
  at: Date;
  event: string;
  from: string;
  to: string;
  data: Record<string, unknown> | null;
  /** The issue the ticket's issue was merged into, if it was. */
  mergedInto: string | null;
}

/**
 * The next steps of the issues hotline tickets follow (`intake_subscription`, with the merge each
 * issue may have had, `issue_merge`), oldest first per ticket, at most `limit`.
 */
export async function ticketStepsToSend(db: ReadModelDb, limit = 500): Promise<TicketStep[]> {
  const rows = await connection(db).execute<
    { system: string; ticket_id: string; workflow_id: string; seq: number; at: Date; event: string; from_state: string; to_state: string; data: Record<string, unknown> | null; merged_into: string | null }[]
  >(
    `select s.system, s.ticket_id, s.workflow_id, t.seq, t.at, t.event, t.from_state, t.to_state, t.data, m.kept_workflow_id as merged_into
       from intake_subscription s
       join transition_record t on t.workflow_id = s.workflow_id and t.seq > s.last_seq
       left join issue_merge m on m.duplicate_workflow_id = s.workflow_id
      order by s.system, s.ticket_id, t.seq limit ?`,
    [limit],
  );
  return rows.map((r) => ({
    system: r.system,
    ticketId: r.ticket_id,
    workflowId: r.workflow_id,
    seq: r.seq,
    at: r.at,
    event: r.event,
    from: r.from_state,
    to: r.to_state,
    data: r.data,
    mergedInto: r.merged_into,
  }));
}

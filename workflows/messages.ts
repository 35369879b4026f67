import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { DefinitionDocument } from '../engine/document.schema';
import type { WorkCalendar } from '../engine/calendar';
import type { Instance } from '../engine/engine';
import type { Actor } from '../engine/access';
import { SEARCH_ATTRIBUTES } from '../infra/search-attributes';

/** Everything a process workflow needs; the definition travels whole so replay never reads the database. */
export interface RunProcessInput {
  /** `hash`: the document's content hash (engine/compile-cache.ts); absent in earlier histories. */
  definition: { key: string; version: number; document: DefinitionDocument; hash?: string };
  /** The working-day calendar as it was when the instance started; absent in early histories. */
  calendar?: WorkCalendar;
  businessKey: string;
  grid?: string | null;
  /** The community of a process without a grid outside the default one; a grid key names its own. */
  community?: string;
  input: Record<string, unknown>;
  day?: string;
  startedBy?: string;
  /** Present after continue-as-new. */
  carried?: CarriedState;
  /** Continue as new after this many steps even if Temporal has not suggested it (tests, soak runs). */
  continueAsNewAfterSteps?: number;
  /**
   * The workflow code's paths this run was started on. 1: every path current when it began (event
   * access rules, bookkeeping as local activities, event signals closed), so the run records no patch
   * marker: each costs a history event and, for its `TemporalChangeVersion` search attribute, an
   * upsert and a visibility write per run. Absent in earlier histories, which keep deciding by their
   * markers as they ran.
   */
  revision?: 1;
}

export interface CarriedState {
  instance: Instance;
  startedAt: number;
  /** Recent request ids and their results, so a retried event is applied once. */
  requests: [string, EventResult][];
  runs: number;
}

export interface EventRequest {
  type: string;
  data?: Record<string, unknown>;
  requestId?: string;
  /** The sender as the history shows it (a member id, a workflow id). */
  actor?: string;
  /** The sender as the access rules see it; an event without one is refused. */
  by?: Actor;
}

/** What became of an event one process sent another. */
export interface DeliveryOutcome {
  outcome: 'applied' | 'refused';
  reason?: string;
}

export interface EventResult {
  state: string;
  status: ProcessStatus;
  seq: number;
}

export type ProcessStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface TaskSnapshot {
  id: string;
  state: string;
  role: string;
  assignee?: string;
  title: string;
  dueAt?: string;
  overdue: boolean;
  events: string[];
}

export interface ProcessSnapshot {
  definition: { key: string; version: number };
  businessKey: string;
  grid: string | null;
  status: ProcessStatus;
  state: string;
  value: unknown;
  context: Record<string, unknown>;
  accepts: string[];
  tasks: TaskSnapshot[];
  deadlines: { kind: string; id: string; state: string; at: string }[];
  seq: number;
  startedAt: string;
  runs: number;
  /** Entry time of each active state node and the senders of the latest events: what the access rules read. */
  entered?: Record<string, number>;
  actors?: Record<string, string[]>;
}

export interface ProcessResult {
  state: string;
  status: ProcessStatus;
  context: Record<string, unknown>;
}

/** Applies an event and answers with the new state; the validator refuses what the state does not accept. */
export const sendEventUpdate = defineUpdate<EventResult, [EventRequest]>('gridflow.sendEvent');
/** Fire-and-forget form of the same, for other processes and scripts. */
export const eventSignal = defineSignal<[EventRequest]>('gridflow.event');
export const snapshotQuery = defineQuery<ProcessSnapshot>('gridflow.snapshot');
export interface MigrateRequest {
  definition: { key: string; version: number; document: DefinitionDocument; hash?: string };
  /** Current leaf state -> target state (name or dotted path); unmapped states keep their name. */
  mapping: Record<string, string>;
  actor?: string;
}

export interface MigrateResult {
  from: { version: number; state: string };
  to: { version: number; state: string };
}

/** Moves a running instance to another version of its definition (see engine.migrateInstance). */
export const migrateUpdate = defineUpdate<MigrateResult, [MigrateRequest]>('gridflow.migrate');
export const MIGRATION_REFUSED = 'MigrationRefused';

/** Sent just before a cancellation so the history says who cancelled and why. */
export const cancelReasonSignal = defineSignal<[{ reason: string; actor?: string }]>('gridflow.cancelReason');

/** Application failure type of a refused event; details carry code, accepts and errors. */
export const EVENT_REJECTED = 'EventRejected';
export interface EventRejectedDetails {
  code: string;
  accepts: string[];
  errors: { path: string; message: string }[];
}

export const searchAttributeKeys = {
  definition: defineSearchAttributeKey(SEARCH_ATTRIBUTES.definition, SearchAttributeType.KEYWORD),
  grid: defineSearchAttributeKey(SEARCH_ATTRIBUTES.grid, SearchAttributeType.KEYWORD),
  community: defineSearchAttributeKey(SEARCH_ATTRIBUTES.community, SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey(SEARCH_ATTRIBUTES.state, SearchAttributeType.KEYWORD),
};

/** What the projection activity writes to the read model after each batch of steps. */
export interface ProjectionInput {
  workflowId: string;
  definition: { key: string; version: number };
  businessKey: string;
  title: string;
  grid: string | null;
  startedAt: string;
  snapshot: {
    status: ProcessStatus;
    state: string;
    value: unknown;
    context: Record<string, unknown>;
    tasks: TaskSnapshot[];
    seq: number;
  };
  steps: {
    seq: number;
    at: string;
    event: string;
    from: string;
    to: string;
    actor?: string;
    data?: Record<string, unknown>;
    late: boolean;
  }[];
  /**
   * The record keys these steps' effects wrote. A record this workflow holds at one of these steps'
   * seqs under another key came from a workflow task that was lost after its local activities ran
   * (the step at that seq is now another), and the projection removes it. Left out, nothing is removed.
   */
  records?: string[];
}

/** Input of the launcher workflow a definition's schedule starts. */
export interface LaunchInput {
  definition: string;
  /**
   * The instant the run was scheduled for; a schedule leaves it out (the launcher reads the
   * scheduled time Temporal records). An operator may launch the run of another time.
   */
  at?: number;
}

export interface LaunchResult {
  /** The day the run is for: its business keys carry it. */
  day: string;
  started: string[];
  existing: string[];
  /** Why nothing was started (a holiday the schedule skips, a retired definition). */
  skipped?: string;
  /** Why the run started later than scheduled (moved to the next working day). */
  moved?: string;
}

/** The calendar rule applied to one run (see engine/schedule-rule.ts). */
export type LaunchPlan =
  | { action: 'run'; day: string; at: number }
  | { action: 'skip'; day: string; reason: string }
  | { action: 'move'; day: string; at: number; to: string; reason: string };

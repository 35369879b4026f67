import type { Actor } from '../engine/access';
import type { DeliveryOutcome } from '../workflows/messages';

/**
 * What the workflow's effects ask of the services that start and reach processes. The port lives
 * with the services that implement it, so services never import from activities/ (activities sit
 * above services and take it from here).
 */
export interface ProcessStarter {
  /** Starts (or finds) a process; the same key always gives the same workflow. */
  startLinked(p: { parentWorkflowId: string; key: string; definition: string; input: Record<string, unknown>; grid: string | null; community?: string }): Promise<{ workflowId: string }>;
  /**
   * Delivers an event to another process exactly once per request id and says whether the target
   * applied it; the target checks the sender against its access rules like any other event.
   */
  deliverEvent(p: { workflowId: string; type: string; data?: Record<string, unknown>; requestId: string; actor: string; by: Actor }): Promise<DeliveryOutcome>;
}

/** A start or an event that can never succeed (unknown definition, refused input): the activity does not retry it. */
export class PermanentEffectError extends Error {}

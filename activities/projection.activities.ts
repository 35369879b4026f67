import { metricMeter } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { ProjectionInput } from '../workflows/messages';
import { markInstanceEnded, projectSteps } from '../db/read-model';
import { communityOfContext } from '../engine/community';

/**
 * Writes a batch of steps to the read model. Idempotent: history rows are keyed by
 * (workflow, seq) and the instance row never moves back, so a retried activity changes nothing.
 * The workflow runs it as a local activity, which runs again when the workflow task that ran it
 * was lost (a worker killed mid-task): the step taken again is the one the workflow keeps, so a
 * row of the same seq is overwritten rather than kept. Replays never run it.
 */
export function createProjectionActivities({ orm }: { orm: MikroORM }) {
  return {
    async recordSteps(p: ProjectionInput): Promise<void> {
      const first = p.snapshot.tasks[0];
      if (p.snapshot.status !== 'running' && p.steps.some((s) => s.to === p.snapshot.state && s.from !== s.to)) {
        // Exported with the worker's Temporal SDK metrics; a retried projection may count twice.
        metricMeter.createCounter('gridflow_processes_ended', 'processes', 'Processes ended, by definition and status').add(1, { definition: p.definition.key, status: p.snapshot.status });
      }
      const last = p.steps[p.steps.length - 1];
      await projectSteps(orm, {
        steps: p.steps,
        records: p.records,
        instance: {
          workflowId: p.workflowId,
          definitionKey: p.definition.key,
          definitionVersion: p.definition.version,
          businessKey: p.businessKey,
          title: p.title,
          grid: p.grid,
          community: communityOfContext(p.snapshot.context),
          status: p.snapshot.status,
          state: p.snapshot.state,
          stateValue: p.snapshot.value,
          context: p.snapshot.context,
          tasks: p.snapshot.tasks,
          assignee: first?.role ?? null,
          dueAt: first?.dueAt ?? null,
          lastSeq: p.snapshot.seq,
          startedAt: p.startedAt,
          updatedAt: last?.at ?? p.startedAt,
          endedAt: p.snapshot.status === 'running' ? null : (last?.at ?? p.startedAt),
        },
      });
    },

    /** Marks an instance ended outside a step (cancelled). */
    async markEnded(p: {
      workflowId: string;
      status: 'cancelled' | 'failed';
      at: string;
      definitionVersion: number;
      step: { seq: number; event: string; from: string; to: string; actor?: string; data?: Record<string, unknown> };
    }): Promise<void> {
      await markInstanceEnded(orm, p);
    },
  };
}

import { metricMeter } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { ProjectionInput } from '../workflows/messages';

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
      await orm.em.fork().transactional(async (em) => {
        const conn = em.getConnection();
        // Without the transaction context, execute() takes another pool connection outside the
        // transaction: ten concurrent projections then hold every connection in BEGIN and wait forever.
        const trx = em.getTransactionContext();
        for (const s of p.steps) {
          await conn.execute(
            `insert into transition_record (workflow_id, seq, at, event, from_state, to_state, actor, data, late, definition_version)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             on conflict (workflow_id, seq) do update set
               at = excluded.at, event = excluded.event, from_state = excluded.from_state, to_state = excluded.to_state,
               actor = excluded.actor, data = excluded.data, late = excluded.late, definition_version = excluded.definition_version`,
            [p.workflowId, s.seq, s.at, s.event, s.from, s.to, s.actor ?? null, s.data === undefined ? null : JSON.stringify(s.data), s.late, p.definition.version],
            'run',
            trx,
          );
        }
        const last = p.steps[p.steps.length - 1];
        await conn.execute(
          `insert into process_instance (workflow_id, definition_key, definition_version, business_key, title, grid, status, state,
             state_value, context, tasks, assignee, due_at, last_seq, started_at, updated_at, ended_at)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           on conflict (workflow_id) do update set
             definition_version = excluded.definition_version, status = excluded.status, state = excluded.state,
             state_value = excluded.state_value, context = excluded.context, tasks = excluded.tasks,
             assignee = excluded.assignee, due_at = excluded.due_at, last_seq = excluded.last_seq,
             updated_at = excluded.updated_at, ended_at = excluded.ended_at
           where process_instance.last_seq <= excluded.last_seq`,
          [
            p.workflowId,
            p.definition.key,
            p.definition.version,
            p.businessKey,
            p.title,
            p.grid,
            p.snapshot.status,
            p.snapshot.state,
            JSON.stringify(p.snapshot.value),
            JSON.stringify(p.snapshot.context),
            JSON.stringify(p.snapshot.tasks),
            first?.role ?? null,
            first?.dueAt ?? null,
            p.snapshot.seq,
            p.startedAt,
            last?.at ?? p.startedAt,
            p.snapshot.status === 'running' ? null : (last?.at ?? p.startedAt),
          ],
          'run',
          trx,
        );
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
      await orm.em.fork().transactional(async (em) => {
        const conn = em.getConnection();
        // Without the transaction context, execute() takes another pool connection outside the
        // transaction: ten concurrent projections then hold every connection in BEGIN and wait forever.
        const trx = em.getTransactionContext();
        await conn.execute(
          `insert into transition_record (workflow_id, seq, at, event, from_state, to_state, actor, data, late, definition_version)
           values (?, ?, ?, ?, ?, ?, ?, ?, false, ?) on conflict (workflow_id, seq) do nothing`,
          [p.workflowId, p.step.seq, p.at, p.step.event, p.step.from, p.step.to, p.step.actor ?? null, JSON.stringify(p.step.data ?? {}), p.definitionVersion],
          'run',
          trx,
        );
        await conn.execute(
          `update process_instance set status = ?, ended_at = ?, updated_at = ?, tasks = '[]', assignee = null, due_at = null, last_seq = ?
           where workflow_id = ? and status = 'running'`,
          [p.status, p.at, p.at, p.step.seq, p.workflowId],
          'run',
          trx,
        );
      });
    },
  };
}

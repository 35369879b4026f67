import { ApplicationFailure, Context } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Notice } from '../engine/engine';
import type { Actor } from '../engine/access';
import { communityOfGrid, DEFAULT_COMMUNITY } from '../engine/community';
import { insertRecord } from '../db/read-model';
import { PermanentEffectError, type ProcessStarter } from '../services/effect-ports';
import type { DeliveryOutcome, LaunchPlan, LaunchResult } from '../workflows/messages';

/** Effect actions of the library: each has a stable id, so retries and replays write once. */
export interface DataProviders {
  run(name: string, params: Record<string, unknown>, ctx: { grid: string | null; community?: string; workflowId?: string }): Promise<Record<string, unknown>>;
}

export interface Launcher {
  /** What the definition's calendar rule does with a run fired at `at`. */
  plan(definition: string, at: number): Promise<LaunchPlan>;
  launch(definition: string, at: number, day?: string): Promise<LaunchResult>;
}

/** Who holds a role: a grid's full-time worker for "grid-worker" (or who stands in on the notice's day), the party secretary for the community. */
export interface Recipients {
  resolveRole(grid: string | null, role: string, organization?: string, at?: string, community?: string): Promise<{ id: string }[]>;
}

/** The grid chat outbox: one delivery per notice, keyed by the notice's stable id. */
export interface Outbox {
  enqueue(p: { id: string; workflowId: string; grid: string | null; at: string; notice: Notice }): Promise<void>;
}

/** What the effect activities need; the worker's composition root provides it. */
export interface EffectDeps {
  orm: MikroORM;
  processes: ProcessStarter;
  providers: DataProviders;
  launcher: Launcher;
  recipients: Recipients;
  delivery: Outbox;
}

export function createEffectActivities({ orm, processes, providers, launcher, recipients, delivery }: EffectDeps) {
  return {
    async notify(p: { workflowId: string; key: string; grid: string | null; community?: string; at: string; notice: Notice }): Promise<void> {
      const conn = orm.em.getConnection();
      for (const role of p.notice.to) {
        // One row per person holding the role; a role nobody holds here (the street office) keeps one row for the role.
        const community = p.community ?? (p.grid ? communityOfGrid(p.grid) : undefined) ?? DEFAULT_COMMUNITY;
        const members = await recipients.resolveRole(p.grid, role, p.notice.organization, p.at, community);
        // A notice to the partner of an issue no organisation owns goes to nobody.
        if (role === 'partner' && members.length === 0) continue;
        const targets = members.length ? members.map((m) => m.id) : [null];
        for (const memberId of targets) {
          await conn.execute(
            `insert into notification (id, workflow_id, member_id, at, kind, role, grid, community_id, title, body, urgent, created_at)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()) on conflict (id) do nothing`,
            [`${p.workflowId}#${p.key}#${memberId ?? role}`, p.workflowId, memberId, p.at, p.notice.kind, role, p.grid, community, p.notice.title, p.notice.body, p.notice.urgent],
          );
        }
      }
      await delivery.enqueue({ id: `${p.workflowId}#${p.key}`, workflowId: p.workflowId, grid: p.grid, at: p.at, notice: p.notice });
    },

    async record(p: { workflowId: string; key: string; grid: string | null; at: string; kind: string; data: Record<string, unknown> }): Promise<void> {
      await insertRecord(orm, { id: `${p.workflowId}#${p.key}`, workflowId: p.workflowId, kind: p.kind, at: p.at, grid: p.grid, data: p.data });
    },

    async startProcess(p: { parentWorkflowId: string; key: string; definition: string; input: Record<string, unknown>; grid: string | null; community?: string }): Promise<{ workflowId: string }> {
      // A process starts others in its own community only: a grid key of another one (say, in a
      // review's minutes) would put work, notices and tasks on that community's people.
      const own = p.community ?? DEFAULT_COMMUNITY;
      const target = p.grid ? communityOfGrid(p.grid) : own;
      if (target !== own) {
        throw ApplicationFailure.nonRetryable(`${p.parentWorkflowId} belongs to community ${own} and may not start ${p.definition} in ${p.grid ?? 'another community'}`, 'OtherCommunity');
      }
      try {
        return await processes.startLinked(p);
      } catch (e) {
        if (e instanceof PermanentEffectError) throw ApplicationFailure.nonRetryable(e.message, 'UnknownDefinition');
        throw e;
      }
    },

    /** The schedule launcher's fan-out: one start per grid for `day` (default: the day of `at`), idempotent by business key. */
    async launchInstances(p: { definition: string; at: number; day?: string }): Promise<LaunchResult> {
      // Heartbeats while the fan-out runs (the workflow gives it a heartbeat timeout of a minute).
      let context: Context | undefined;
      try {
        context = Context.current();
      } catch {
        context = undefined; // called outside an activity (a test): nothing to heartbeat
      }
      const beat = context ? setInterval(() => context?.heartbeat(), 10_000) : undefined;
      try {
        return await launcher.launch(p.definition, p.at, p.day);
      } finally {
        if (beat) clearInterval(beat);
      }
    },

    /** The calendar rule of the definition's schedule, applied to a run fired at `at`; recorded in history, so replays agree. */
    async planLaunch(p: { definition: string; at: number }): Promise<LaunchPlan> {
      const plan = await launcher.plan(p.definition, p.at);
      // Only what the workflow needs: history keeps it small.
      if (plan.action === 'skip') return { action: 'skip', day: plan.day, reason: plan.reason };
      if (plan.action === 'move') return { action: 'move', day: plan.day, at: plan.at, to: plan.to, reason: plan.reason };
      return { action: 'run', day: plan.day, at: plan.at };
    },

    /** Runs a named data provider for a `fetch` action; its result comes back to the process as an event. */
    async fetchData(p: { workflowId: string; grid: string | null; community?: string; provider: string; params: Record<string, unknown> }): Promise<Record<string, unknown>> {
      return providers.run(p.provider, p.params, { grid: p.grid, workflowId: p.workflowId, ...(p.community ? { community: p.community } : {}) });
    },

    async sendEvent(p: { fromWorkflowId: string; key: string; to: string; type: string; data?: Record<string, unknown>; by: Actor }): Promise<DeliveryOutcome> {
      return processes.deliverEvent({ workflowId: p.to, type: p.type, data: p.data, requestId: `${p.fromWorkflowId}#${p.key}`, actor: p.fromWorkflowId, by: p.by });
    },
  };
}

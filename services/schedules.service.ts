import { ScheduleNotFoundError, type Client, type ScheduleOptions } from '@temporalio/client';
import type { ScheduleSpec } from '../definitions/document.schema';
import { formatLocal, localDate, parseDuration, DEFAULT_ZONE } from '../definitions/time';
import type { LaunchInput, LaunchResult } from '../workflows/messages';
import type { DefinitionService } from './definitions.service';
import { notFound } from './errors';
import type { ProcessService } from './processes.service';

const OVERLAP = { skip: 'SKIP', 'buffer-one': 'BUFFER_ONE', 'allow-all': 'ALLOW_ALL' } as const;

export interface ScheduleView {
  id: string;
  definition: string;
  cron: string;
  timezone: string;
  fanOut: ScheduleSpec['fanOut'];
  overlap: string;
  catchupWindow: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; startedAt: string; workflowId: string }[];
}

/**
 * One Temporal Schedule per recurring definition, created or updated from the definition's
 * `schedule` block at start-up. Schedule ids are `<prefix><definition key>`.
 */
export class ScheduleService {
  constructor(
    private readonly deps: {
      client: Client;
      definitions: DefinitionService;
      processes: ProcessService;
      taskQueue: string;
      gridIds: () => Promise<string[]>;
      /** Keeps test runs' schedules apart; empty in production. */
      prefix?: string;
    },
  ) {}

  private idOf(key: string) {
    return `${this.deps.prefix ?? ''}${key}`;
  }

  private options(key: string, spec: ScheduleSpec): ScheduleOptions {
    return {
      scheduleId: this.idOf(key),
      spec: { cronExpressions: [spec.cron], timezone: spec.timezone ?? DEFAULT_ZONE },
      action: {
        type: 'startWorkflow',
        workflowType: 'launchScheduled',
        workflowId: `launch/${this.idOf(key)}`,
        taskQueue: this.deps.taskQueue,
        args: [{ definition: key } satisfies LaunchInput],
      },
      policies: {
        overlap: OVERLAP[spec.overlap ?? 'skip'],
        catchupWindow: parseDuration(spec.catchupWindow ?? '1h'),
        pauseOnFailure: false,
      },
      memo: { definition: key, fanOut: spec.fanOut },
    };
  }

  /** Creates missing schedules and brings existing ones in line with their definitions. */
  async ensure(): Promise<{ created: string[]; updated: string[] }> {
    const created: string[] = [];
    const updated: string[] = [];
    for (const { key } of await this.deps.definitions.list()) {
      const def = await this.deps.definitions.get(key);
      const spec = def.document.schedule;
      if (!spec) continue;
      const options = this.options(key, spec);
      const handle = this.deps.client.schedule.getHandle(options.scheduleId);
      try {
        await handle.describe();
        await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action as never, policies: { ...prev.policies, ...options.policies } }));
        updated.push(options.scheduleId);
      } catch (e) {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
        try {
          await this.deps.client.schedule.create(options);
          created.push(options.scheduleId);
        } catch (err) {
          // Another process created it in between: that is the same schedule.
          if ((err as Error).name !== 'ScheduleAlreadyRunning') throw err;
          updated.push(options.scheduleId);
        }
      }
    }
    return { created, updated };
  }

  private async keyOf(id: string): Promise<{ key: string; spec: ScheduleSpec }> {
    const prefix = this.deps.prefix ?? '';
    const key = id.startsWith(prefix) ? id.slice(prefix.length) : id;
    const known = await this.deps.definitions.keys();
    if (known.includes(key)) {
      const def = await this.deps.definitions.get(key);
      if (def.document.schedule) return { key, spec: def.document.schedule };
    }
    const ids = [];
    for (const k of known) if ((await this.deps.definitions.get(k)).document.schedule) ids.push(this.idOf(k));
    throw notFound(`schedule "${id}" does not exist; schedules: ${ids.join(', ') || 'none'}`);
  }

  async list(): Promise<{ items: ScheduleView[] }> {
    const items: ScheduleView[] = [];
    for (const { key } of await this.deps.definitions.list()) {
      const def = await this.deps.definitions.get(key);
      if (!def.document.schedule) continue;
      try {
        items.push(await this.view(key, def.document.schedule));
      } catch (e) {
        // Published since start-up: the schedule comes with the next start (or ensure()).
        if ((e as { status?: number }).status !== 404) throw e;
        items.push({ id: this.idOf(key), definition: key, created: false } as unknown as ScheduleView);
      }
    }
    return { items };
  }

  private async view(key: string, spec: ScheduleSpec): Promise<ScheduleView> {
    const zone = spec.timezone ?? DEFAULT_ZONE;
    const desc = await this.deps.client.schedule.getHandle(this.idOf(key)).describe().catch((e) => {
      if (e instanceof ScheduleNotFoundError) throw notFound(`schedule "${this.idOf(key)}" is not created yet; restart gridflow to create it`);
      throw e;
    });
    return {
      id: this.idOf(key),
      definition: key,
      cron: spec.cron,
      timezone: zone,
      fanOut: spec.fanOut,
      overlap: spec.overlap ?? 'skip',
      catchupWindow: spec.catchupWindow ?? '1h',
      paused: desc.state.paused,
      ...(desc.state.note ? { note: desc.state.note } : {}),
      nextRuns: desc.info.nextActionTimes.slice(0, 5).map((d) => formatLocal(d.getTime(), zone)),
      recentRuns: desc.info.recentActions.slice(-5).map((a) => ({
        scheduledAt: formatLocal(a.scheduledAt.getTime(), zone),
        startedAt: formatLocal(a.takenAt.getTime(), zone),
        workflowId: a.action.workflow.workflowId,
      })),
    };
  }

  async get(id: string): Promise<ScheduleView> {
    const { key, spec } = await this.keyOf(id);
    return this.view(key, spec);
  }

  async trigger(id: string): Promise<void> {
    await this.keyOf(id);
    // ALLOW_ALL: a manual trigger runs even while a scheduled launch is still going.
    await this.deps.client.schedule.getHandle(id).trigger('ALLOW_ALL');
  }

  async setPaused(id: string, paused: boolean, note: string): Promise<ScheduleView> {
    const { key, spec } = await this.keyOf(id);
    const handle = this.deps.client.schedule.getHandle(id);
    if (paused) await handle.pause(note);
    else await handle.unpause(note);
    return this.view(key, spec);
  }

  /** The launcher's work: start the definition's instances for the day of `at`. Idempotent. */
  async launch(definition: string, at: number): Promise<LaunchResult> {
    const def = await this.deps.definitions.get(definition);
    const spec = def.document.schedule;
    const day = localDate(at, def.compiled.zone);
    const grids = spec?.fanOut === 'community' || def.document.grid === 'none' ? [undefined] : await this.deps.gridIds();
    const started: string[] = [];
    const existing: string[] = [];
    for (const grid of grids) {
      const res = await this.deps.processes.start({ definition, grid, input: { date: day } }, `schedule:${definition}`);
      (res.created ? started : existing).push(res.workflowId);
    }
    return { day, started, existing };
  }
}

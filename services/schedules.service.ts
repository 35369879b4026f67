import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { ScheduleSpec } from '../engine/document.schema';
import type { HouseholdRound, RegistryFanOut } from '../engine/schedule-fanout';
import { calendarRuleOf, plannedRuns, planRun, type CalendarRule, type RunPlan } from '../engine/schedule-rule';
import { DEFAULT_ZONE, formatLocal, localDate, parseDuration } from '../engine/time';
import type { WorkCalendar } from '../engine/working-days';
import type { LaunchInput, LaunchResult } from '../workflows/messages';
import { calendarWarnings } from './calendar-check';
import type { DefinitionService, DefinitionStatus } from './definitions.service';
import { conflict, notFound } from './errors';
import type { ProcessService } from './processes.service';

const OVERLAP = { skip: 'SKIP', 'buffer-one': 'BUFFER_ONE', 'allow-all': 'ALLOW_ALL' } as const;
const NEXT_RUNS = 5;

/** Who a registry fan-out visits on a day: the households not yet visited in their cycle (RegistryService). */
export interface RegistryRounds {
  /** Rounds to start, and the workflow ids of rounds the cycle already has. */
  due(definition: string, spec: RegistryFanOut, day: string, zone: string): Promise<{ rounds: HouseholdRound[]; existing: string[] }>;
}

export interface ScheduleView {
  id: string;
  definition: string;
  /** Whether the Temporal Schedule exists; publishing, pausing and retiring reconcile it at once. */
  created: boolean;
  /** The definition's lifecycle: a paused definition's schedule is paused, a retired one's deleted. */
  status: DefinitionStatus;
  cron: string;
  timezone: string;
  fanOut: ScheduleSpec['fanOut'];
  /** A registry-driven schedule: one instance per household due a visit, not per grid. */
  forEach?: ScheduleSpec['forEach'];
  overlap: string;
  catchupWindow: string;
  /** What the schedule does on holidays, ordinary weekends and make-up working days. */
  calendar: CalendarRule;
  paused: boolean;
  note?: string;
  /** When instances will start, after the calendar rule (a moved run at its new time). */
  nextRuns: string[];
  /** Fires of the cron up to the last of nextRuns that the rule skips or moves, with why. */
  adjusted: { scheduled: string; action: 'skip' | 'move'; for: string; reason: string }[];
  recentRuns: { scheduledAt: string; startedAt: string; workflowId: string }[];
}

/** What reconciling one definition did to its schedule. */
export interface ScheduleChange {
  id: string;
  action: 'created' | 'updated' | 'deleted' | 'none';
}

/**
 * One Temporal Schedule per recurring definition, kept in line with the definition: publishing,
 * pausing, resuming and retiring reconcile it at once (`reconcile`), and every process that
 * serves gridflow reconciles them all when it starts (`ensure`), so a deployment without
 * `npm start` has them too. Schedule ids are `<prefix><definition key>`.
 */
export class ScheduleService {
  constructor(
    private readonly deps: {
      client: Client;
      definitions: DefinitionService;
      processes: ProcessService;
      calendar: WorkCalendar;
      taskQueue: string;
      gridIds: () => Promise<string[]>;
      /** Every community: a community-level schedule starts one instance in each. */
      communityIds?: () => Promise<string[]>;
      /** How many starts a fan-out has in flight at once (default 16). */
      fanOutConcurrency?: number;
      /** The register's due households, for schedules with forEach.registry. */
      rounds?: RegistryRounds;
      /** Keeps test runs' schedules apart; empty in production. */
      prefix?: string;
    },
  ) {}

  private idOf(key: string) {
    return `${this.deps.prefix ?? ''}${key}`;
  }

  private options(key: string, spec: ScheduleSpec, status: { status: DefinitionStatus; note: string | null }): ScheduleOptions {
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
      ...(status.status === 'paused' ? { state: { paused: true, note: status.note ?? `definition ${key} is paused` } } : {}),
    };
  }

  /**
   * Brings one definition's schedule in line with its latest version and its status: created or
   * updated while it has a `schedule` block and is not retired (paused while the definition is),
   * deleted otherwise. A schedule paused by hand (POST /api/schedules/:id/pause) stays paused,
   * unless the definition is being resumed (`unpause`).
   */
  async reconcile(key: string, opts: { unpause?: boolean } = {}): Promise<ScheduleChange> {
    const def = await this.deps.definitions.get(key);
    const status = await this.deps.definitions.status(key);
    const id = this.idOf(key);
    const handle = this.deps.client.schedule.getHandle(id);
    const spec = def.document.schedule;
    if (!spec || status.status === 'retired') {
      try {
        await handle.delete();
      } catch (e) {
        if (e instanceof ScheduleNotFoundError) return { id, action: 'none' };
        throw e;
      }
      await this.gone(handle);
      return { id, action: 'deleted' };
    }
    const options = this.options(key, spec, status);
    try {
      const desc = await handle.describe();
      await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action as never, policies: { ...prev.policies, ...options.policies } }));
      if (status.status === 'paused' && !desc.state.paused) {
        await handle.pause(options.state?.note);
        await this.pausedIs(handle, true);
      }
      if (status.status === 'active' && opts.unpause && desc.state.paused) {
        await handle.unpause(status.note ?? `definition ${key} resumed`);
        await this.pausedIs(handle, false);
      }
      return { id, action: 'updated' };
    } catch (e) {
      if (!(e instanceof ScheduleNotFoundError)) throw e;
    }
    try {
      await this.deps.client.schedule.create(options);
      return { id, action: 'created' };
    } catch (e) {
      // Another process created it in between: that is the same schedule.
      if (!(e instanceof ScheduleAlreadyRunning)) throw e;
      return { id, action: 'updated' };
    }
  }

  /**
   * Waits (briefly, 5 s at most) until the schedule reads as `done` says: Temporal applies a delete
   * or a pause after answering it, and a read at once can still show the state before (seen in CI).
   * `done` gets the schedule's description, or undefined once it no longer exists.
   */
  private async settled(handle: ReturnType<Client['schedule']['getHandle']>, done: (desc: ScheduleDescription | undefined) => boolean): Promise<void> {
    for (let i = 0; i < 50; i++) {
      let desc: ScheduleDescription | undefined;
      try {
        desc = await handle.describe();
      } catch (e) {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
      }
      if (done(desc)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Until a deleted schedule no longer answers: a reconcile right after (a resume after a retire) then creates it anew. */
  private gone(handle: ReturnType<Client['schedule']['getHandle']>): Promise<void> {
    return this.settled(handle, (desc) => desc === undefined);
  }

  private pausedIs(handle: ReturnType<Client['schedule']['getHandle']>, paused: boolean): Promise<void> {
    return this.settled(handle, (desc) => desc === undefined || desc.state.paused === paused);
  }

  /** Reconciles every definition's schedule. */
  async ensure(): Promise<{ created: string[]; updated: string[]; deleted: string[] }> {
    const out = { created: [] as string[], updated: [] as string[], deleted: [] as string[] };
    for (const key of await this.deps.definitions.keys()) {
      const change = await this.reconcile(key);
      if (change.action !== 'none') out[change.action].push(change.id);
    }
    return out;
  }

  private async keyOf(id: string): Promise<{ key: string; spec: ScheduleSpec; status: DefinitionStatus }> {
    const prefix = this.deps.prefix ?? '';
    const key = id.startsWith(prefix) ? id.slice(prefix.length) : id;
    const known = await this.deps.definitions.keys();
    if (known.includes(key)) {
      const def = await this.deps.definitions.get(key);
      const { status } = await this.deps.definitions.status(key);
      if (def.document.schedule && status !== 'retired') return { key, spec: def.document.schedule, status };
    }
    const ids = [];
    for (const item of await this.scheduled()) ids.push(this.idOf(item.key));
    throw notFound(`schedule "${id}" does not exist; schedules: ${ids.join(', ') || 'none'}`);
  }

  /** Definitions with a schedule block that are not retired. */
  private async scheduled(): Promise<{ key: string; spec: ScheduleSpec; status: DefinitionStatus }[]> {
    const statuses = await this.deps.definitions.statuses();
    const out = [];
    for (const key of await this.deps.definitions.keys()) {
      const status = statuses.get(key)?.status ?? 'active';
      const spec = (await this.deps.definitions.get(key)).document.schedule;
      if (spec && status !== 'retired') out.push({ key, spec, status });
    }
    return out;
  }

  /** Every schedule, with its next runs after the calendar rule; `warnings` when the calendar runs out. */
  async list(now = Date.now()): Promise<{ items: ScheduleView[]; warnings: string[] }> {
    const items: ScheduleView[] = [];
    for (const { key, spec, status } of await this.scheduled()) items.push(await this.view(key, spec, status, now));
    return { items, warnings: calendarWarnings(this.deps.calendar, now) };
  }

  private async view(key: string, spec: ScheduleSpec, status: DefinitionStatus, now = Date.now()): Promise<ScheduleView> {
    const zone = spec.timezone ?? DEFAULT_ZONE;
    const desc = await this.deps.client.schedule
      .getHandle(this.idOf(key))
      .describe()
      .catch((e) => {
        if (e instanceof ScheduleNotFoundError) return undefined;
        throw e;
      });
    const planned = plannedRuns(spec, this.deps.calendar, now, NEXT_RUNS);
    return {
      id: this.idOf(key),
      definition: key,
      created: desc !== undefined,
      status,
      cron: spec.cron,
      timezone: zone,
      fanOut: spec.fanOut,
      ...(spec.forEach ? { forEach: spec.forEach } : {}),
      overlap: spec.overlap ?? 'skip',
      catchupWindow: spec.catchupWindow ?? '1h',
      calendar: calendarRuleOf(spec),
      paused: desc?.state.paused ?? status === 'paused',
      ...(desc?.state.note ? { note: desc.state.note } : {}),
      nextRuns: [...new Set(planned.runs.map((r) => formatLocal(r.at, zone)))],
      adjusted: planned.adjusted.map((a) => ({
        scheduled: formatLocal(a.scheduled, zone),
        action: a.action,
        for: a.day,
        reason: a.reason,
      })),
      recentRuns: (desc?.info.recentActions ?? []).slice(-5).map((a) => ({
        scheduledAt: formatLocal(a.scheduledAt.getTime(), zone),
        startedAt: formatLocal(a.takenAt.getTime(), zone),
        workflowId: a.action.workflow.workflowId,
      })),
    };
  }

  async get(id: string): Promise<ScheduleView> {
    const { key, spec, status } = await this.keyOf(id);
    return this.view(key, spec, status);
  }

  private async existing(id: string) {
    const { key, spec, status } = await this.keyOf(id);
    const handle = this.deps.client.schedule.getHandle(this.idOf(key));
    try {
      await handle.describe();
    } catch (e) {
      if (!(e instanceof ScheduleNotFoundError)) throw e;
      // Publishing reconciles at once, so this is a schedule deleted outside gridflow.
      throw conflict(`schedule "${id}" of definition "${key}" is missing in Temporal; publish the definition again (or restart gridflow) to create it`);
    }
    return { key, spec, status, handle };
  }

  async trigger(id: string): Promise<void> {
    const { handle } = await this.existing(id);
    // ALLOW_ALL: a manual trigger runs even while a scheduled launch is still going.
    await handle.trigger('ALLOW_ALL');
  }

  async setPaused(id: string, paused: boolean, note: string): Promise<ScheduleView> {
    const { key, spec, status, handle } = await this.existing(id);
    if (paused) await handle.pause(note);
    else await handle.unpause(note);
    // The view it answers with reads the schedule again: wait until that shows the change.
    await this.pausedIs(handle, paused);
    return this.view(key, spec, status);
  }

  /**
   * The launcher's plan for a run the cron fired at `at`: run it, skip it or move it, by the
   * calendar rule of the definition's latest version.
   */
  async plan(definition: string, at: number): Promise<RunPlan> {
    const def = await this.deps.definitions.get(definition);
    const spec = def.document.schedule;
    const zone = spec?.timezone ?? def.compiled.zone;
    if (!spec) return { action: 'run', day: localDate(at, zone), at, kind: 'workday' };
    return planRun(calendarRuleOf(spec), at, zone, this.deps.calendar);
  }

  /**
   * The launcher's work: start the definition's instances for `day` (default: the day of `at`).
   * Idempotent: the business keys name the day, so a second launch finds what the first started.
   */
  async launch(definition: string, at: number, day?: string): Promise<LaunchResult> {
    const def = await this.deps.definitions.get(definition);
    const spec = def.document.schedule;
    const forDay = day ?? localDate(at, spec?.timezone ?? def.compiled.zone);
    const { status } = await this.deps.definitions.status(definition);
    // Retired while a moved run waited: it starts nothing.
    if (status === 'retired') return { day: forDay, started: [], existing: [], skipped: `definition "${definition}" is retired` };
    const registry = spec?.forEach?.registry;
    if (registry) return this.launchRounds(definition, registry, forDay, spec?.timezone ?? def.compiled.zone);
    const perCommunity = spec?.fanOut === 'community' || def.document.grid === 'none';
    const targets: { grid?: string; community?: string }[] = perCommunity
      ? (this.deps.communityIds ? await this.deps.communityIds() : [undefined]).map((community) => (community ? { community } : {}))
      : (await this.deps.gridIds()).map((grid) => ({ grid }));
    const results = await inParallel(targets, this.deps.fanOutConcurrency ?? 16, (t) => this.deps.processes.start({ definition, ...t, input: { date: forDay } }, `schedule:${definition}`));
    const started: string[] = [];
    const existing: string[] = [];
    // In the order of the targets, whatever order the starts finished in.
    for (const res of results) (res.created ? started : existing).push(res.workflowId);
    return { day: forDay, started, existing };
  }

  /**
   * One instance per household of the register that is due a visit on `day`, in its grid, with
   * only what identifies the round in its input (never a name, phone or address: the register
   * keeps those). The key names the household and the cycle, so a second run in the cycle finds
   * the first one's rounds.
   */
  private async launchRounds(definition: string, registry: RegistryFanOut, day: string, zone: string): Promise<LaunchResult> {
    if (!this.deps.rounds) throw new Error(`definition "${definition}" fans out over the registry, but this process was wired without it`);
    const due = await this.deps.rounds.due(definition, registry, day, zone);
    const started: string[] = [];
    const existing: string[] = [...due.existing];
    const results = await inParallel(due.rounds, this.deps.fanOutConcurrency ?? 16, (r) => {
      const input = { date: day, household: r.household, categories: r.categories, cycle: r.cycle, period: r.period, dueDate: r.dueDate };
      return this.deps.processes.start({ definition, grid: r.grid, input }, `schedule:${definition}`);
    });
    for (const res of results) (res.created ? started : existing).push(res.workflowId);
    return { day, started, existing };
  }
}

/**
 * `fn` over `items` with at most `limit` calls in flight, answering in the items' order. The first
 * failure rejects once the calls in flight have settled; the launch is idempotent, so a retry
 * finds what this one started.
 */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
  return out;
}

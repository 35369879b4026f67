import crypto from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { checkData, type PathError } from '../engine/data-schema';
import { MigrationRefused, allowedEvents, migrateInstance, startInstance, type Instance } from '../engine/engine';
import type { Actor } from '../engine/access';
import { addDays } from '../engine/time';
import { mayReach, mayReachProcess, type Principal } from './principal';
import { COMMUNITY_ID, communityOfContext, communitySegment, DEFAULT_COMMUNITY, processCommunity, describeCommunities, gridKeyProblem, localGrid } from '../engine/community';
import type { WorkCalendar } from '../engine/calendar';
import { DEFAULT_ZONE, formatLocal, isoWeek, localDate } from '../engine/time';
import { PermanentEffectError, type ProcessStarter } from './effect-ports';
import {
  EVENT_REJECTED,
  cancelReasonSignal,
  migrateUpdate,
  type MigrateResult,
  searchAttributeKeys,
  sendEventUpdate,
  snapshotQuery,
  type DeliveryOutcome,
  type EventRejectedDetails,
  type EventResult,
  type ProcessSnapshot,
  type ProcessStatus,
  type RunProcessInput,
} from '../workflows/messages';
import type { DefinitionService, LoadedDefinition } from './definitions.service';
import type { ProviderService } from './providers.service';
import type { ActorService } from './actors.service';
import { metrics } from '../infra/metrics';
import * as readModel from '../db/read-model';
import type { GridScope, InstanceRecord, ProcessFilters } from '../db/read-model';
import { ProblemError, badRequest, conflict, forbidden, notFound, unavailable } from './errors';

export interface StartRequest {
  definition: string;
  version?: number;
  businessKey?: string;
  grid?: string;
  /** The community of a process without a grid; a grid key names its own (engine/community.ts). Default: the default community. */
  community?: string;
  input?: Record<string, unknown>;
}

export interface StartResult {
  created: boolean;
  workflowId: string;
  definition: { key: string; version: number };
  state: string;
  status: ProcessStatus;
}

export interface ProcessSummary {
  workflowId: string;
  definition: string;
  definitionVersion: number;
  title: string;
  grid: string | null;
  businessKey: string;
  status: ProcessStatus;
  state: string;
  assignee?: string;
  dueAt?: string;
  overdue: boolean;
  startedAt: string;
  updatedAt: string;
  endedAt?: string;
}

export interface ListFilters extends ProcessFilters {
  limit: number;
  cursor?: string;
  /** The grids the caller may see (community-level processes are only for 'all'), or a partner's organisation. */
  grids?: GridScope;
}

const QUERY_DEADLINE_MS = 3000;
/** How long an event waits for a worker to apply it before the API answers 503 (the event stays queued). */
const UPDATE_DEADLINE_MS = 30_000;
/** How many times an Update the server aborted before accepting it is sent again (see `abortedBeforeAccepted`). */
const ABORTED_UPDATE_ATTEMPTS = 5;

/**
 * The server aborts an Update it has not yet accepted when the workflow task carrying it fails: most
 * often because the task closed the run while another event (a timer firing, a signal) arrived, which
 * the server refuses as "UnhandledCommand". Nothing of the Update is in the history, so sending it again
 * is safe; the worker replays the run without it first. (Server 1.27+ answers FAILED_PRECONDITION.)
 */
export function abortedBeforeAccepted(e: unknown): boolean {
  const cause = (e as { cause?: { code?: number; details?: string } } | undefined)?.cause;
  return cause?.code === 9 && /unexpected workflow task failure/i.test(String(cause.details));
}
// Read-model rows of every definition are listed together, in the one default zone.
const iso = (d: Date | string) => formatLocal(new Date(d).getTime(), DEFAULT_ZONE);

function summaryOf(row: InstanceRecord, now = Date.now()): ProcessSummary {
  const due = row.dueAt ? new Date(row.dueAt) : null;
  return {
    workflowId: row.workflowId,
    definition: row.definitionKey,
    definitionVersion: row.definitionVersion,
    title: row.title,
    grid: row.grid,
    businessKey: row.businessKey,
    status: row.status,
    state: row.state,
    ...(row.assignee ? { assignee: row.assignee } : {}),
    ...(due ? { dueAt: iso(due) } : {}),
    overdue: row.status === 'running' && due !== null && due.getTime() < now,
    startedAt: iso(row.startedAt),
    updatedAt: iso(row.updatedAt),
    ...(row.endedAt ? { endedAt: iso(row.endedAt) } : {}),
  };
}

function encodeCursor(row: InstanceRecord): string {
  return Buffer.from(JSON.stringify([new Date(row.updatedAt).toISOString(), row.workflowId])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      return [v[0], v[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('cursor is not one this API issued; pass nextCursor from a previous page', [{ path: 'cursor', message: 'unrecognised cursor' }]);
}

function rejectionMessage(e: unknown): string {
  let cur: unknown = e;
  while (cur) {
    if (cur instanceof ApplicationFailure) return cur.message;
    cur = (cur as { cause?: unknown }).cause;
  }
  return String((e as Error)?.message ?? e);
}

/** Unwraps an update failure into the refusal the workflow reported, if it was one. */
function rejectionOf(e: unknown): { message: string; details: EventRejectedDetails } | undefined {
  let cur: unknown = e;
  while (cur) {
    if (cur instanceof ApplicationFailure && cur.type === EVENT_REJECTED) {
      return { message: cur.message, details: (cur.details?.[0] ?? { code: 'not-accepted', accepts: [], errors: [] }) as EventRejectedDetails };
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** How many processes this API started recently it remembers the place of, and for how long (see `ProcessService.placed`). */
const REMEMBERED_STARTS = 2000;
const REMEMBERED_START_MS = 60_000;

/** Starting, listing, reading and driving process instances: Temporal for the live truth, PostgreSQL for the read model. */
export class ProcessService implements ProcessStarter {
  /**
   * Where the processes this API process started lately belong, until the read model has their row.
   * An event sent right after a start (a user's first tap) arrives before the worker has run the first
   * workflow task; without this, each such check asked Temporal to describe the workflow. A minute
   * at most: a row missing later is a read model that lost it, and the workflow says who owns it.
   */
  private readonly placed = new Map<string, { grid: string | null; community: string; at: number }>();

  constructor(
    private readonly deps: {
      orm: MikroORM;
      client: Client;
      definitions: DefinitionService;
      providers: ProviderService;
      actors: ActorService;
      calendar: WorkCalendar;
      taskQueue: string;
      gridExists?: (grid: string) => Promise<boolean>;
      communityExists?: (community: string) => Promise<boolean>;
      temporalUi?: { url: string; namespace: string };
    },
  ) {}

  /** Next value of the per-definition, per-year counter behind `{seq}`. */
  private async nextSeq(key: string, year: number): Promise<number> {
    const rows = await this.deps.orm.em.getConnection().execute<{ value: number }[]>(
      `insert into business_key_counter (key, year, value) values (?, ?, 1)
       on conflict (key, year) do update set value = business_key_counter.value + 1 returning value`,
      [key, year],
    );
    return rows[0].value;
  }

  /**
   * The workflow id: `<definition>/<key>`, with the community right after the definition outside
   * the default community (`daily-patrol/linyuan/grid-03/2026-12-02`); a grid then renders as its
   * local id, since the community is already named.
   */
  private async businessKeyFor(def: LoadedDefinition, req: StartRequest, input: Record<string, unknown>, day: string, community = DEFAULT_COMMUNITY): Promise<string> {
    const segment = communitySegment(community);
    const prefix = segment ? `${def.key}/${segment}/` : `${def.key}/`;
    if (req.businessKey) return req.businessKey.startsWith(prefix) ? req.businessKey : `${prefix}${req.businessKey}`;
    const template = def.document.businessKey;
    if (!template) return `${prefix}${crypto.randomUUID()}`;
    const seq = template.includes('{seq}') ? String(await this.nextSeq(def.key, Number(day.slice(0, 4)))).padStart(6, '0') : '';
    const filled = template.replace(/\{([a-zA-Z0-9_.]+)\}/g, (_, name: string) => {
      switch (name) {
        case 'grid':
          return req.grid ? (segment ? localGrid(req.grid) : req.grid) : 'community';
        case 'day':
          return day;
        case 'week':
          return isoWeek(day);
        case 'month':
          return typeof input.month === 'string' ? input.month : day.slice(0, 7);
        case 'year':
          return day.slice(0, 4);
        case 'seq':
          return seq;
        default: {
          const v = name.startsWith('input.') ? input[name.slice(6)] : undefined;
          return v === undefined || v === null ? '' : String(v);
        }
      }
    });
    return `${prefix}${filled}`;
  }

  /**
   * What a person may not choose when starting: the business key of a definition that renders its
   * own, a day outside the definition's start window (admin excepted), and inputs the engine fills.
   */
  private checkCaller(def: LoadedDefinition, req: StartRequest, day: string, caller: Principal): void {
    const errors: PathError[] = [];
    if (req.businessKey !== undefined && def.document.businessKey) {
      errors.push({ path: 'businessKey', message: `"${def.key}" renders its business key from "${def.document.businessKey}"; leave businessKey out` });
    }
    const prefill = def.document.prefill;
    if (prefill && req.input?.[prefill.into] !== undefined) {
      errors.push({ path: `input.${prefill.into}`, message: `"${prefill.into}" is filled by the engine (${prefill.provider}) when the process starts; leave it out` });
    }
    const window = def.document.startWindow;
    if (window && caller.role !== 'admin') {
      const today = localDate(Date.now(), def.compiled.zone);
      const first = addDays(today, -window.daysBefore);
      const last = addDays(today, window.daysAfter);
      if (day < first || day > last) errors.push({ path: 'input.date', message: `"${def.key}" starts for a day from ${first} to ${last}; ${day} is outside that window` });
    }
    if (errors.length) throw badRequest(`cannot start "${def.key}": ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  }

  /** Checks a start request against its definition without touching anything. */
  private checkStart(def: LoadedDefinition, req: StartRequest): { day: string } {
    const errors: PathError[] = [];
    const gridRule = def.document.grid ?? 'optional';
    if (gridRule === 'required' && !req.grid) errors.push({ path: 'grid', message: `definition "${def.key}" runs per grid: give "grid", e.g. "grid-01"` });
    if (gridRule === 'none' && req.grid) errors.push({ path: 'grid', message: `definition "${def.key}" belongs to the community, not a grid: leave "grid" out` });
    const gridProblem = req.grid ? gridKeyProblem(req.grid, req.community) : undefined;
    if (gridProblem) errors.push({ path: 'grid', message: gridProblem });
    if (req.community !== undefined && !COMMUNITY_ID.test(req.community)) errors.push({ path: 'community', message: `"${req.community}" is not a community id (kebab-case, e.g. "linyuan")` });
    const schema = def.document.input ?? { type: 'object' as const, properties: {} };
    errors.push(...checkData(schema, req.input ?? {}, 'input'));
    if (errors.length) throw badRequest(`cannot start "${def.key}": ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
    const date = (req.input as { date?: unknown } | undefined)?.date;
    return { day: typeof date === 'string' ? date : localDate(Date.now(), def.compiled.zone) };
  }

  /**
   * Starts an instance. A person's start (`caller`) may not name a rendered key, a day outside the
   * window or a prefilled input, and an existing instance is only shown to a caller who may read it.
   */
  async start(req: StartRequest, actor = 'api', caller?: Principal): Promise<StartResult> {
    // The community's own version of the definition when it has one, else the street's template.
    const community = processCommunity(req.grid, req.community);
    const def = await this.deps.definitions.get(req.definition, req.version, community);
    const { day } = this.checkStart(def, req);
    if (caller) {
      this.checkCaller(def, req, day, caller);
      const lifecycle = await this.deps.definitions.status(def.key);
      if (lifecycle.status === 'retired') {
        throw conflict(`definition "${def.key}" is retired${lifecycle.note ? ` ("${lifecycle.note}")` : ''} and starts no new processes; resume it (POST /api/definitions/${def.key}/resume) to start one`);
      }
    }
    if (caller && !mayReach(caller, req.grid ?? null, community)) {
      throw forbidden(`${req.grid ? `grid "${req.grid}" of ` : ''}community ${community} is not yours; you work in ${describeCommunities(caller)}. Its own staff, or the street office above it, start its processes`);
    }
    if (req.grid && this.deps.gridExists && !(await this.deps.gridExists(req.grid))) {
      throw badRequest(`grid "${req.grid}" does not exist in the community registry`, [{ path: 'grid', message: 'unknown grid; see GET /api/grids' }]);
    }
    if (!req.grid && community !== DEFAULT_COMMUNITY && this.deps.communityExists && !(await this.deps.communityExists(community))) {
      throw badRequest(`community "${community}" does not exist`, [{ path: 'community', message: 'see GET /api/communities' }]);
    }
    // Defaults the definition's input declares, so the instance shows what it was started for.
    const input: Record<string, unknown> = { ...(req.input ?? {}) };
    const declared = def.document.input?.properties ?? {};
    if ('date' in declared && input.date === undefined) input.date = day;
    if ('month' in declared && input.month === undefined) input.month = day.slice(0, 7);
    const workflowId = await this.businessKeyFor(def, req, input, day, community);
    const prefill = def.document.prefill;
    if (prefill && input[prefill.into] === undefined) {
      input[prefill.into] = await this.deps.providers.run(prefill.provider, { ...(prefill.params ?? {}), day }, { grid: req.grid ?? null, community });
    }
    const args: RunProcessInput = {
      definition: { key: def.key, version: def.version, document: def.document, hash: def.hash },
      calendar: this.deps.calendar,
      businessKey: workflowId,
      grid: req.grid ?? null,
      // Named only where the grid does not say it, so a default start's input is what it always was.
      ...(!req.grid && community !== DEFAULT_COMMUNITY ? { community } : {}),
      input,
      day,
      startedBy: actor,
      revision: 1,
    };
    try {
      await this.deps.client.workflow.start('runProcess', {
        taskQueue: this.deps.taskQueue,
        workflowId,
        args: [args],
        // A business key names one run for ever: a finished patrol is not started again either.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: searchAttributeKeys.definition, value: def.key },
          { key: searchAttributeKeys.grid, value: req.grid ?? 'community' },
          { key: searchAttributeKeys.community, value: community },
          { key: searchAttributeKeys.state, value: '' },
        ],
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        if (caller) {
          const found = await this.gridOf(workflowId);
          if (!found || !mayReachProcess(caller, found)) throw notFound(`process "${workflowId}" does not exist`);
        }
        const existing = await this.current(workflowId);
        return { created: false, workflowId, definition: existing.definition, state: existing.state, status: existing.status };
      }
      throw e;
    }
    metrics.processesStarted.inc({ definition: def.key });
    this.placed.set(workflowId, { grid: req.grid ?? null, community, at: Date.now() });
    if (this.placed.size > REMEMBERED_STARTS) this.placed.delete(this.placed.keys().next().value as string);
    // The workflow's first state is what the pure engine gives for the same definition.
    const initial = startInstance(def.compiled, { input, grid: req.grid, community, day, businessKey: workflowId, at: Date.now() });
    return { created: true, workflowId, definition: { key: def.key, version: def.version }, state: initial.to, status: initial.instance.status };
  }

  private row(workflowId: string): Promise<InstanceRecord | undefined> {
    return readModel.findInstance(this.deps.orm, workflowId);
  }

  /** Live snapshot from the workflow; undefined when it has closed or no worker answers in time. */
  private async live(workflowId: string): Promise<ProcessSnapshot | undefined> {
    try {
      const snap = await this.deps.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        this.deps.client.workflow.getHandle(workflowId).query(snapshotQuery),
      );
      return snap.status === 'running' ? snap : undefined;
    } catch {
      // Not found, closed, or no worker running: the read model answers instead.
      return undefined;
    }
  }

  private async current(workflowId: string): Promise<{ definition: { key: string; version: number }; state: string; status: ProcessStatus }> {
    const snap = await this.live(workflowId);
    if (snap) return { definition: snap.definition, state: snap.state, status: snap.status };
    const row = await this.row(workflowId);
    if (row) return { definition: { key: row.definitionKey, version: row.definitionVersion }, state: row.state, status: row.status };
    const desc = await this.deps.client.workflow.getHandle(workflowId).describe();
    const status: ProcessStatus = desc.status.name === 'RUNNING' ? 'running' : desc.status.name === 'COMPLETED' ? 'completed' : desc.status.name === 'CANCELLED' ? 'cancelled' : 'failed';
    return { definition: { key: workflowId.split('/')[0], version: 0 }, state: '', status };
  }

  async list(f: ListFilters): Promise<{ items: ProcessSummary[]; nextCursor: string | null }> {
    const { limit, cursor, grids, ...filters } = f;
    const after = cursor ? decodeCursor(cursor) : undefined;
    // One row more than the page tells whether there is a next one.
    const rows = await readModel.listInstances(this.deps.orm, { filters, scope: grids ?? 'all', after: after && { updatedAt: after[0], workflowId: after[1] }, limit: limit + 1 });
    const page = rows.slice(0, f.limit);
    return { items: page.map((r) => summaryOf(r)), nextCursor: rows.length > f.limit ? encodeCursor(page[page.length - 1]) : null };
  }

  /** The same workflow in the Temporal UI, when the UI's address is known. */
  private temporalUrl(workflowId: string): string | undefined {
    const ui = this.deps.temporalUi;
    return ui ? `${ui.url.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}` : undefined;
  }

  /** The grid a process belongs to and the organisation that owns its work, for object-level checks; undefined when it does not exist. */
  async gridOf(workflowId: string): Promise<{ grid: string | null; owner: string | null; community: string } | undefined> {
    const row = await readModel.placeOfInstance(this.deps.orm, workflowId);
    if (row) {
      this.placed.delete(workflowId);
      return row;
    }
    // Started here and not yet projected: no workflow task has completed, so no step has named an owner.
    const mine = this.placed.get(workflowId);
    if (mine && Date.now() - mine.at < REMEMBERED_START_MS) return { grid: mine.grid, owner: null, community: mine.community };
    // No row: no step projected yet (the usual case: an event sent right after the start, before a
    // worker has run the first workflow task), or a read model that lost it. The search attributes
    // set at the start say where it belongs, so a check never waves it through.
    let desc: WorkflowExecutionDescription;
    try {
      desc = await this.deps.client.workflow.getHandle(workflowId).describe();
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return undefined;
      throw e;
    }
    const grid = desc.typedSearchAttributes.get(searchAttributeKeys.grid);
    const gridKey = grid && grid !== 'community' ? grid : null;
    const started = { grid: gridKey, owner: null, community: processCommunity(gridKey, desc.typedSearchAttributes.get(searchAttributeKeys.community)) };
    // Started, scheduled and at most a started workflow task: none has completed, so no step has
    // been taken and no owner named. Asking the workflow would only wait for that task to finish.
    if (desc.historyLength <= 3) return started;
    const snap = await this.live(workflowId);
    if (!snap) return started;
    const id = (snap.context?.owner as { id?: unknown } | null | undefined)?.id;
    return { grid: snap.grid, owner: typeof id === 'string' ? id : null, community: communityOfContext(snap.context) };
  }

  async history(workflowId: string) {
    const rows = await readModel.historyOf(this.deps.orm, workflowId);
    return rows.map((r) => ({
      seq: r.seq,
      at: iso(r.at),
      event: r.event,
      from: r.from,
      to: r.to,
      actor: r.actor,
      ...(r.data ? { data: r.data } : {}),
      late: r.late,
      version: r.definitionVersion,
    }));
  }

  /** The events `actor` may send to a live instance now (accepted in its state and allowed by the rules). */
  private async mayNowSend(snap: ProcessSnapshot, actor: Actor): Promise<string[]> {
    const def = await this.deps.definitions.get(snap.definition.key, snap.definition.version);
    const inst: Instance = { value: snap.value, context: snap.context, status: 'running', seq: snap.seq, entered: snap.entered ?? {}, deadlines: [], actors: snap.actors ?? {} };
    return allowedEvents(def.compiled, inst, actor, Date.now());
  }

  async get(workflowId: string, caller?: Actor) {
    const row = await this.row(workflowId);
    // Ended instances are final in the read model: no need to wake a worker for them.
    const snap = row && row.status !== 'running' ? undefined : await this.live(workflowId);
    if (!row && !snap) {
      // Started a moment ago and not yet projected, or unknown.
      throw notFound(`process "${workflowId}" does not exist`);
    }
    const [history, children] = await Promise.all([this.history(workflowId), this.children(workflowId)]);
    const now = Date.now();
    if (snap) {
      const task = snap.tasks[0];
      const summary: ProcessSummary = {
        ...(row ? summaryOf(row, now) : ({} as ProcessSummary)),
        workflowId,
        definition: snap.definition.key,
        definitionVersion: snap.definition.version,
        grid: snap.grid,
        businessKey: snap.businessKey,
        status: snap.status,
        state: snap.state,
        ...(task ? { assignee: task.role } : {}),
        ...(task?.dueAt ? { dueAt: task.dueAt } : {}),
        overdue: snap.tasks.some((t) => t.dueAt !== undefined && Date.parse(t.dueAt) < now),
        startedAt: snap.startedAt,
        updatedAt: row ? iso(row.updatedAt) : snap.startedAt,
      };
      if (!task) {
        delete summary.assignee;
        delete summary.dueAt;
      }
      const youMaySend = caller ? await this.mayNowSend(snap, caller) : snap.accepts;
      return { ...summary, live: true, temporalUrl: this.temporalUrl(workflowId), context: snap.context, accepts: snap.accepts, youMaySend, tasks: snap.tasks, deadlines: snap.deadlines, children, history };
    }
    const r = row as InstanceRecord;
    return { ...summaryOf(r, now), live: false, temporalUrl: this.temporalUrl(workflowId), context: r.context, accepts: [] as string[], youMaySend: [] as string[], tasks: r.status === 'running' ? r.tasks : [], deadlines: [], children, history };
  }

  /** The caller as the access rules see them, or the member a manager acts for (audited). */
  actorOf(caller: Principal, workflowId: string, onBehalfOf?: string, event?: string): Promise<Actor> {
    return this.deps.actors.of(caller, workflowId, onBehalfOf, event);
  }

  /** Sends an event as `by`; the workflow checks the definition's access rules and answers with the new state. */
  async sendEvent(workflowId: string, req: { type: string; data?: Record<string, unknown>; requestId?: string }, by: Actor, shownAs?: string): Promise<EventResult> {
    const handle = this.deps.client.workflow.getHandle(workflowId);
    const actor = shownAs ?? (by.by ? `${by.id} (by ${by.by.id})` : by.id);
    const deadline = Date.now() + UPDATE_DEADLINE_MS;
    // One name for every attempt, so that the server recognises an attempt it did accept.
    const updateId = req.requestId ?? crypto.randomUUID();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.deps.client.withDeadline(deadline, () =>
            handle.executeUpdate(sendEventUpdate, { args: [{ type: req.type, data: req.data, requestId: req.requestId, actor, by }], updateId }),
          );
        } catch (e) {
          if (!abortedBeforeAccepted(e) || attempt >= ABORTED_UPDATE_ATTEMPTS || Date.now() > deadline) throw e;
          metrics.eventsRetried.inc({ definition: workflowId.split('/')[0] });
          await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        }
      }
    } catch (e) {
      // Still aborted after every attempt: the event was not taken, whatever the read model shows.
      if (abortedBeforeAccepted(e)) throw unavailable(`process "${workflowId}" could not take "${req.type}" now (its workflow task failed ${ABORTED_UPDATE_ATTEMPTS} times); the event was not recorded, send it again`);
      const rejection = rejectionOf(e);
      if (rejection) {
        metrics.eventsRefused.inc({ definition: workflowId.split('/')[0], reason: rejection.details.code });
        if (rejection.details.code === 'invalid-data') throw badRequest(rejection.message, rejection.details.errors);
        if (rejection.details.code === 'forbidden') throw forbidden(rejection.message);
        throw conflict(rejection.message, { accepts: rejection.details.accepts });
      }
      if (e instanceof WorkflowNotFoundError || (e instanceof WorkflowUpdateFailedError && /completed|closed|not found/i.test(e.message))) {
        const row = await this.row(workflowId);
        if (row) throw conflict(`process "${workflowId}" has ended (${row.status}) in state "${row.state}"; it accepts no events`, { accepts: [] });
        throw notFound(`process "${workflowId}" does not exist`);
      }
      if (e instanceof ProblemError) throw e;
      // An instance that has just ended (cancelled a moment ago, say) answers in many ways; the read
      // model says what it is.
      const ended = await this.row(workflowId).catch(() => undefined);
      if (ended && ended.status !== 'running') {
        throw conflict(`process "${workflowId}" has ended (${ended.status}) in state "${ended.state}"; it accepts no events`, { accepts: [] });
      }
      // "workflow execution already completed" arrives as a gRPC NOT_FOUND service error.
      if (/already completed|workflow not found|not found/i.test(String((e as Error).message))) {
        const row = await this.row(workflowId);
        if (row) throw conflict(`process "${workflowId}" has ended (${row.status}) in state "${row.state}"; it accepts no events`, { accepts: [] });
        throw notFound(`process "${workflowId}" does not exist`);
      }
      throw e;
    }
  }

  async cancel(workflowId: string, reason: string, actor = 'api'): Promise<void> {
    const handle = this.deps.client.workflow.getHandle(workflowId);
    try {
      const desc = await handle.describe();
      if (desc.status.name !== 'RUNNING') {
        const row = await this.row(workflowId);
        throw conflict(`process "${workflowId}" has already ended (${row?.status ?? desc.status.name.toLowerCase()})`);
      }
      // Signal then cancel: history keeps them in this order, so the workflow knows why it ends.
      await handle.signal(cancelReasonSignal, { reason, actor });
      await handle.cancel();
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw notFound(`process "${workflowId}" does not exist`);
      throw e;
    }
  }

  /** ProcessStarter: a process started by another; the parent's effect key makes it idempotent. */
  async startLinked(p: { parentWorkflowId: string; key: string; definition: string; input: Record<string, unknown>; grid: string | null; community?: string }): Promise<{ workflowId: string }> {
    let def: LoadedDefinition;
    try {
      def = await this.deps.definitions.get(p.definition, undefined, processCommunity(p.grid, p.community));
    } catch (e) {
      if (e instanceof ProblemError && e.status === 404) throw new PermanentEffectError(e.message);
      throw e;
    }
    const origin = `${p.parentWorkflowId}#${p.key}`;
    const linked = () => readModel.linkedProcess(this.deps.orm, origin);
    let workflowId = await linked();
    if (!workflowId) {
      // Claim the business key before starting, so a retry after a crash finds the same one.
      const day = localDate(Date.now(), def.compiled.zone);
      const community = processCommunity(p.grid, p.community);
      const candidate = await this.businessKeyFor(def, { definition: def.key, grid: p.grid ?? undefined, input: p.input }, p.input, day, community);
      await readModel.claimLink(this.deps.orm, { origin, workflowId: candidate, parentWorkflowId: p.parentWorkflowId });
      workflowId = (await linked()) as string;
    }
    const clean = Object.fromEntries(Object.entries(p.input).filter(([, v]) => v !== undefined && v !== null));
    try {
      await this.start({ definition: def.key, version: def.version, grid: p.grid ?? undefined, ...(p.grid ? {} : { community: p.community }), input: clean, businessKey: workflowId }, p.parentWorkflowId);
    } catch (e) {
      // Bad data from the parent can never succeed: report it as permanent, not as a retry.
      if (e instanceof ProblemError && e.status < 500) throw new PermanentEffectError(`cannot start ${def.key} for ${p.parentWorkflowId}: ${e.message}`);
      throw e;
    }
    return { workflowId };
  }

  /**
   * Moves running instances of version `from` to version `to`. Each instance's state is mapped
   * (`mapping`, else the same name); a dry run reports what would move, where its timers would
   * fall and what blocks it, and changes nothing. A real run is refused while anything is blocked,
   * and is audited.
   */
  /**
   * Moves running instances of `from` to `to`: of one community when the route names it, and only
   * of its own community when `to` is a community's own version (never another's onto it).
   */
  async migrate(req: { definition: string; from: number; to: number; mapping: Record<string, string>; workflowIds?: string[]; dryRun: boolean; community?: string }, actor = 'api') {
    const [a, b] = await Promise.all([this.deps.definitions.get(req.definition, req.from), this.deps.definitions.get(req.definition, req.to)]);
    if (req.from === req.to) throw badRequest('from and to are the same version', [{ path: 'to', message: 'name another version' }]);
    if (b.community && req.community && b.community !== req.community) {
      throw badRequest(`version ${b.version} of "${b.key}" is community ${b.community}'s own; instances of ${req.community} cannot move onto it`, [{ path: 'to', message: `a template version or one of ${req.community}` }]);
    }
    const only = b.community ?? req.community;
    const rows = await readModel.runningInstances(this.deps.orm, { definition: a.key, version: a.version, workflowIds: req.workflowIds, ...(only ? { communities: [only] } : {}) });
    if (req.workflowIds) {
      const found = new Set(rows.map((r) => r.workflowId));
      const missing = req.workflowIds.filter((id) => !found.has(id));
      if (missing.length) throw badRequest(`not running on ${a.key} v${a.version}: ${missing.join(', ')}`, missing.map((id) => ({ path: 'workflowIds', message: `${id} is not a running instance of version ${a.version}` })));
    }
    const now = Date.now();
    const moves: { workflowId: string; from: string; to: string; deadlines: { kind: string; id: string; at: string }[] }[] = [];
    const blocked: { workflowId: string; state: string; reason: string }[] = [];
    for (const row of rows) {
      const inst: Instance = { value: row.stateValue, context: row.context, status: 'running', seq: row.lastSeq, entered: {}, deadlines: [] };
      try {
        const step = migrateInstance(a.compiled, b.compiled, inst, req.mapping, now);
        moves.push({ workflowId: row.workflowId, from: step.from, to: step.to, deadlines: step.instance.deadlines.map((d) => ({ kind: d.kind, id: d.id, at: formatLocal(d.at, b.compiled.zone) })) });
      } catch (e) {
        if (!(e instanceof MigrationRefused)) throw e;
        blocked.push({ workflowId: row.workflowId, state: row.state, reason: e.message });
      }
    }
    const plan = { definition: a.key, from: a.version, to: b.version, mapping: req.mapping };
    if (req.dryRun) return { ...plan, dryRun: true, moves, blocked };
    if (blocked.length) {
      throw conflict(`migration refused: ${blocked.length} instance(s) have no state to go to; complete the mapping (a dry run lists them)`, { blocked });
    }
    const moved: (MigrateResult & { workflowId: string })[] = [];
    const failed: { workflowId: string; reason: string }[] = [];
    for (const m of moves) {
      try {
        const res = await this.deps.client.workflow.getHandle(m.workflowId).executeUpdate(migrateUpdate, {
          args: [{ definition: { key: b.key, version: b.version, document: b.document, hash: b.hash }, mapping: req.mapping, actor }],
        });
        moved.push({ workflowId: m.workflowId, ...res });
      } catch (e) {
        failed.push({ workflowId: m.workflowId, reason: rejectionMessage(e) });
      }
    }
    await this.deps.orm.em.getConnection().execute(
      `insert into audit_log (at, actor, action, subject, data) values (now(), ?, 'migrate', ?, ?)`,
      [actor, `definition:${a.key}`, JSON.stringify({ ...plan, moved, failed })],
    );
    return { ...plan, dryRun: false, moved, failed };
  }

  /** Processes another process started (a patrol's issues, a meeting's action items). */
  children(parentWorkflowId: string): Promise<string[]> {
    return readModel.childrenOf(this.deps.orm, parentWorkflowId);
  }

  /** ProcessStarter: an event from another process, checked by the target like any other; a refusal is an outcome, not a retry. */
  async deliverEvent(p: { workflowId: string; type: string; data?: Record<string, unknown>; requestId: string; actor: string; by: Actor }): Promise<DeliveryOutcome> {
    try {
      await this.sendEvent(p.workflowId, { type: p.type, data: p.data, requestId: p.requestId }, p.by, p.actor);
      return { outcome: 'applied' };
    } catch (e) {
      if (e instanceof ProblemError && e.status < 500) return { outcome: 'refused', reason: e.message };
      throw e;
    }
  }
}


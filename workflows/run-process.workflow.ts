import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  type RetryPolicy,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { compiledDefinition } from '../engine/compile-cache';
import {
  EventRejected,
  MigrationRefused,
  applyEvent,
  migrateInstance,
  acceptedEvents,
  fireDue,
  nextDeadline,
  noteStep,
  startInstance,
  stateName,
  tasksOf,
  unreachable,
  type Effect,
  type EngineEvent,
  type Instance,
  type Step,
} from '../engine/engine';
import type { Actor } from '../engine/access';
import { communityOfGrid, DEFAULT_COMMUNITY } from '../engine/community';
import { redactEvent, redactInput } from '../engine/redact';
import { formatLocal } from '../engine/time';
import { keptTimer } from './kept-timer';
import { serialQueue } from './serial';
import {
  EVENT_REJECTED,
  MIGRATION_REFUSED,
  cancelReasonSignal,
  migrateUpdate,
  eventSignal,
  searchAttributeKeys,
  sendEventUpdate,
  snapshotQuery,
  type EventRejectedDetails,
  type EventRequest,
  type EventResult,
  type ProcessResult,
  type ProcessSnapshot,
  type ProcessStatus,
  type RunProcessInput,
  type TaskSnapshot,
} from './messages';

// Transient failures (database restarting) retry until they succeed: nothing is dropped.
const retry: RetryPolicy = { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 };
const scheduled = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry });
const { notify, startProcess, sendEvent, markEnded, fetchData } = scheduled;
/**
 * A step's own bookkeeping (its projection and `record` rows) runs as local activities: in the
 * worker, inside the workflow task that took the step, so an event costs one workflow task and no
 * activity task. Both are idempotent by key, which covers a local activity's at-least-once runs.
 */
const bookkeeping = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds', retry });

const REMEMBERED_REQUESTS = 500;
/** Events from people and other processes are checked against the definition's access rules. */
const WHO_MAY_ACT = 'who-may-act';
/** Event signals are no longer applied: every event is an Update with a sender. */
const SIGNALS_CLOSED = 'event-signals-closed';
/** Histories recorded before it scheduled the projection and records as ordinary activities. */
const LOCAL_BOOKKEEPING = 'local-bookkeeping';

function unsigned(type: string): EventRejected {
  return new EventRejected('forbidden', `event "${type}" names no sender; events reach a process through the API or another process, which say who sends them`, []);
}

function toFailure(e: unknown): unknown {
  if (e instanceof EventRejected) {
    const details: EventRejectedDetails = { code: e.code, accepts: e.accepts, errors: e.errors };
    return ApplicationFailure.create({ message: e.message, type: EVENT_REJECTED, nonRetryable: true, details: [details] });
  }
  return e;
}

/**
 * Runs one process instance of any definition. The XState machine is stepped with pure functions;
 * this workflow owns the deadlines (a table woken by `condition` with a timeout), runs effect
 * actions as awaited activities, and projects every step to the read model (a local activity, in
 * the same workflow task as the step).
 */
export async function runProcess(args: RunProcessInput): Promise<ProcessResult> {
  let def = compiledDefinition(args.definition, args.calendar);
  // The definition version in force; a migration replaces it.
  let current = args.definition;
  const { workflowId } = workflowInfo();
  const grid = args.grid ?? null;
  // A grid key names its community; a process without a grid is told (engine/community.ts).
  const community = args.community ?? (grid ? communityOfGrid(grid) : undefined) ?? DEFAULT_COMMUNITY;
  // Effects name the community only outside the default one, so default histories keep their inputs.
  const where = community === DEFAULT_COMMUNITY ? {} : { community };
  const zone = def.zone;
  const iso = (ms: number) => formatLocal(ms, zone);

  let instance: Instance;
  let startedAt: number;
  const runs = (args.carried?.runs ?? 0) + 1;
  let status: ProcessStatus = 'running';
  let stepsThisRun = 0;
  const requests = new Map<string, EventResult>(args.carried?.requests ?? []);
  // Bumped on every change, so the main loop re-reads the deadline table.
  let version = 0;

  // One step at a time: events, timers and their effects never interleave.
  const { run: serial, settled } = serialQueue();

  const tasks = (): TaskSnapshot[] =>
    tasksOf(def, instance).map((t) => ({
      id: `${workflowId}#${t.state}`,
      state: t.state,
      role: t.role,
      ...(t.assignee ? { assignee: t.assignee } : {}),
      title: t.title,
      dueAt: t.dueAt === undefined ? undefined : iso(t.dueAt),
      overdue: t.dueAt !== undefined && Date.now() > t.dueAt,
      events: t.events,
    }));

  const result = (): EventResult => ({ state: stateName(instance.value), status, seq: instance.seq });

  // Results of `fetch` effects, applied as events once the step that asked for them is recorded.
  let fetched: EngineEvent[] = [];
  // Events other processes refused, recorded in this process's history after the step that sent them.
  let refusals: Step[] = [];

  /** This process as the sender of an event to another, with the person whose event caused it. */
  const asSender = (step: Step): Actor => ({
    kind: 'process',
    id: workflowId,
    role: current.key,
    grids: grid === null ? 'all' : [grid],
    ...where,
    ...(step.by ? { by: step.by } : {}),
  });

  // A run started on revision 1 takes today's paths without a marker; older histories decide by
  // their markers (a patch is asked only where the run has no revision, so their commands replay).
  const revised = args.revision !== undefined;
  const localBookkeeping = () => revised || patched(LOCAL_BOOKKEEPING);
  // Replays of older histories keep their ActivityTaskScheduled commands.
  const bookkeeper = () => (localBookkeeping() ? bookkeeping : scheduled);

  async function runEffect(effect: Effect, step: Step): Promise<void> {
    try {
      await effectActivity(effect, step);
    } catch (e) {
      // Transient failures retry inside the activity; what reaches here is permanent (an unknown
      // definition to start, say). The step stands; the failure is logged with its effect key.
      if (!(e instanceof ActivityFailure)) throw e;
      log.error('effect failed', { effect: effect.type, key: effect.key, error: String(e.cause?.message ?? e.message) });
    }
  }

  async function effectActivity(effect: Effect, step: Step): Promise<void> {
    const at = iso(step.at);
    switch (effect.type) {
      case 'notify':
        await notify({ workflowId, key: effect.key, grid, ...where, at, notice: effect.params });
        break;
      case 'record': {
        const p = effect.params;
        await bookkeeper().record({ workflowId, key: effect.key, grid, at, kind: p.kind, data: p.data ?? {} });
        break;
      }
      case 'startProcess': {
        const p = effect.params;
        await startProcess({ parentWorkflowId: workflowId, key: effect.key, definition: p.definition, input: p.input ?? {}, grid: p.grid ?? grid, ...where });
        break;
      }
      case 'sendEvent': {
        const p = effect.params;
        const outcome = await sendEvent({ fromWorkflowId: workflowId, key: effect.key, to: p.to, type: p.type, data: p.data, by: asSender(step) });
        // Histories from before the rules have no outcome: the event was signalled and not checked.
        if (outcome && outcome.outcome === 'refused') {
          const last = refusals.length ? refusals[refusals.length - 1].instance : instance;
          refusals.push(noteStep(last, Date.now(), `@refused:${p.type}`, { to: p.to, reason: outcome.reason }, workflowId));
        }
        break;
      }
      case 'fetch': {
        const p = effect.params;
        const data = await fetchData({ workflowId, grid, ...where, provider: p.provider, params: p.params ?? {} });
        fetched.push({ type: p.send, data, at: Date.now(), actor: `provider:${p.provider}` });
        break;
      }
      default:
        unreachable(effect);
    }
  }

  async function commit(steps: Step[]): Promise<void> {
    if (steps.length === 0) return;
    instance = steps[steps.length - 1].instance;
    if (instance.status === 'completed') status = 'completed';
    version++;
    stepsThisRun += steps.length;
    for (const step of steps) for (const effect of step.effects) await runEffect(effect, step);
    await bookkeeper().recordSteps({
      workflowId,
      definition: { key: current.key, version: current.version },
      businessKey: args.businessKey,
      title: current.document.title,
      grid,
      startedAt: iso(startedAt),
      // The read model gets personal fields masked; only the (encrypted) workflow state holds them.
      snapshot: { status, state: stateName(instance.value), value: instance.value, context: { ...instance.context, input: redactInput(current.document, instance.context.input) }, tasks: tasks(), seq: instance.seq },
      steps: steps.map((s) => ({ seq: s.seq, at: iso(s.at), event: s.event, from: s.from, to: s.to, actor: s.actor, data: redactEvent(current.document, s.event, s.data) as Record<string, unknown> | undefined, late: s.late })),
      records: steps.flatMap((s) => s.effects.filter((e) => e.type === 'record').map((e) => e.key)),
    });
    // Earlier runs kept the state in a search attribute, rewriting Temporal's visibility row on every
    // step: 40% of what the dev server wrote per event (bench/README.md). The read model answers by state.
    if (!localBookkeeping()) upsertSearchAttributes([{ key: searchAttributeKeys.state, value: stateName(instance.value) }]);
    if (refusals.length) {
      const notes = refusals;
      refusals = [];
      await commit(notes);
    }
    const results = fetched;
    fetched = [];
    for (const ev of results) {
      try {
        await commit([applyEvent(def, instance, { ...ev, at: Date.now() }, 'system')]);
      } catch (e) {
        if (!(e instanceof EventRejected)) throw e;
        log.warn('fetched data refused by the machine', { type: ev.type, error: e.message });
      }
    }
  }

  // The step an Update's validator computed, for its handler when nothing has happened in between
  // (the same activation and state): the machine then steps once per event, not twice.
  let validated: { request: string; instance: Instance; at: number; step: Step } | undefined;

  async function apply(req: EventRequest): Promise<EventResult> {
    if (req.requestId && requests.has(req.requestId)) return requests.get(req.requestId) as EventResult;
    const ev: EngineEvent = { type: req.type, data: req.data, at: Date.now(), actor: req.actor };
    let step: Step;
    try {
      // Events recorded before the rules existed replay as they ran; every newer one is checked. A run
      // that records its bookkeeping locally is newer than the rules and needs no marker of theirs
      // (each patch's first use in a run costs a marker and a search-attribute upsert).
      if (localBookkeeping() || patched(WHO_MAY_ACT)) {
        if (!req.by) throw unsigned(req.type);
        ev.by = req.by;
      }
      const kept = validated;
      validated = undefined;
      const same = kept !== undefined && ev.by !== undefined && kept.instance === instance && kept.at === ev.at && kept.request === JSON.stringify(req);
      step = same ? kept.step : applyEvent(def, instance, ev);
    } catch (e) {
      throw toFailure(e);
    }
    await commit([step]);
    const res = result();
    if (req.requestId) {
      requests.set(req.requestId, res);
      if (requests.size > REMEMBERED_REQUESTS) requests.delete(requests.keys().next().value as string);
    }
    return res;
  }

  // The instance, and the commit of its first step, must exist before the handlers are set:
  // setHandler delivers buffered updates at once, and they must queue behind the start.
  let started: Promise<void> = Promise.resolve();
  if (args.carried) {
    instance = args.carried.instance;
    startedAt = args.carried.startedAt;
  } else {
    startedAt = Date.now();
    const first = startInstance(def, { input: args.input, grid: grid ?? undefined, community, day: args.day, businessKey: args.businessKey, at: startedAt, actor: args.startedBy });
    instance = first.instance;
    started = serial(() => commit([first]));
  }

  setHandler(snapshotQuery, (): ProcessSnapshot => ({
    definition: { key: current.key, version: current.version },
    businessKey: args.businessKey,
    grid,
    status,
    state: stateName(instance.value),
    value: instance.value,
    context: { ...instance.context, input: redactInput(current.document, instance.context.input) },
    accepts: acceptedEvents(def, instance),
    tasks: tasks(),
    deadlines: instance.deadlines.map((d) => ({ kind: d.kind, id: d.id, state: d.stateId, at: iso(d.at) })),
    seq: instance.seq,
    startedAt: iso(startedAt),
    runs,
    entered: instance.entered,
    actors: instance.actors ?? {},
  }));

  setHandler(sendEventUpdate, (req) => serial(() => apply(req)), {
    validator: (req) => {
      if (req.requestId && requests.has(req.requestId)) return;
      validated = undefined;
      try {
        if (!req.by) throw unsigned(req.type);
        const at = Date.now();
        const step = applyEvent(def, instance, { type: req.type, data: req.data, at, actor: req.actor, by: req.by });
        validated = { request: JSON.stringify(req), instance, at, step };
      } catch (e) {
        throw toFailure(e);
      }
    },
  });

  let cancelReason: { reason: string; actor?: string } | undefined;
  setHandler(cancelReasonSignal, (r) => {
    cancelReason = r;
  });

  setHandler(
    migrateUpdate,
    (req) =>
      serial(async () => {
        const target = compiledDefinition(req.definition, args.calendar);
        const fromVersion = current.version;
        let step: Step;
        try {
          step = migrateInstance(def, target, instance, req.mapping, Date.now());
        } catch (e) {
          if (e instanceof MigrationRefused) throw ApplicationFailure.create({ message: e.message, type: MIGRATION_REFUSED, nonRetryable: true });
          throw e;
        }
        step = { ...step, actor: req.actor ?? 'migration', data: { ...step.data, fromVersion, toVersion: req.definition.version } };
        def = target;
        current = req.definition;
        await commit([step]);
        return { from: { version: fromVersion, state: step.from }, to: { version: current.version, state: step.to } };
      }),
    {
      validator: (req) => {
        if (req.definition.key !== current.key) throw ApplicationFailure.create({ message: `this instance runs "${current.key}", not "${req.definition.key}"`, type: MIGRATION_REFUSED, nonRetryable: true });
        if (status !== 'running') throw ApplicationFailure.create({ message: `the instance has ended (${status})`, type: MIGRATION_REFUSED, nonRetryable: true });
      },
    },
  );

  // Async, so allHandlersFinished waits for the step a signal started before the run closes.
  setHandler(eventSignal, async (req) => {
    // Events come through the API's Update, whose sender the API vouches for; a raw signal could name
    // anyone, so new ones are dropped (signals recorded before this replay as they ran).
    if (revised || patched(SIGNALS_CLOSED)) {
      log.warn('event signal ignored: send events through the API', { type: req.type });
      return;
    }
    await serial(() => apply(req)).catch((e) => log.warn('event refused', { type: req.type, error: String((e as Error).message) }));
  });

  // Revision 1 keeps the next deadline's timer while steps leave it where it was (a patrol's
  // check-ins); earlier runs armed a new one each time round the loop.
  const deadlineTimer = keptTimer();

  try {
    await started;

    const fire = () =>
      serial(async () => {
        const fired = fireDue(def, instance, Date.now());
        instance = fired.instance;
        version++;
        await commit(fired.steps);
      });
    while (status === 'running') {
      const seen = version;
      const due = nextDeadline(instance);
      if (revised) {
        if (await deadlineTimer.wait(due?.at, () => version !== seen)) await fire();
      } else if (due) {
        const changed = await condition(() => version !== seen, Math.max(due.at - Date.now(), 1));
        if (!changed) await fire();
      } else {
        await condition(() => version !== seen);
      }
      const limit = args.continueAsNewAfterSteps;
      if (status === 'running' && (workflowInfo().continueAsNewSuggested || (limit !== undefined && stepsThisRun >= limit))) {
        await condition(allHandlersFinished);
        await settled();
        if (status !== 'running') break;
        await continueAsNew<typeof runProcess>({
          ...args,
          definition: current,
          carried: { instance, startedAt, requests: [...requests.entries()], runs },
        });
      }
    }
    // Let the step that ended the process finish its effects and projection, and in-flight
    // updates answer, before the run closes.
    await settled();
    await condition(allHandlersFinished);
    return { state: stateName(instance.value), status, context: instance.context };
  } catch (e) {
    if (isCancellation(e)) {
      status = 'cancelled';
      const state = stateName(instance.value);
      await CancellationScope.nonCancellable(() =>
        markEnded({
          workflowId,
          status: 'cancelled',
          at: iso(Date.now()),
          step: { seq: instance.seq + 1, event: '@cancel', from: state, to: state, actor: cancelReason?.actor, data: { reason: cancelReason?.reason ?? '' } },
          definitionVersion: current.version,
        }),
      );
    }
    throw e;
  }
}

import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine, type AnyStateNode, type StateValue } from 'xstate';
import { MAX_MICROSTEPS, metaOf, type CompiledDefinition, type Context } from './compile';
import { checkData, type PathError } from './data-schema';
import type { NoticeSpec, StateConfig, TimeSpec } from './document.schema';
import { addWorkingDays, addWorkingDaysAt, parseWorkingDays } from './working-days';
import { typedEffects, type Effect, type EffectBody, type Notice } from './effects';
import { describeGuard, EFFECT_TYPES, readPath, renderTemplate, resolveValue, type EffectType, type Role } from './expressions';
import { addDays, atLocal, formatLocal, localDate, parseDuration } from './time';
import { checkAccess, checkReach, identities, type AccessContext, type Actor } from './access';
import { communityOfContext, DEFAULT_COMMUNITY } from './community';
import { checkEvidence } from './evidence';

/**
 * The pure engine: start an instance, apply an event, fire due deadlines. The Temporal workflow,
 * the simulator and the API all step definitions through these functions, so they agree on what a
 * definition does. Times are epoch milliseconds supplied by the caller.
 */

export interface EngineEvent {
  type: string;
  data?: Record<string, unknown>;
  at: number;
  actor?: string;
  /** Who sends it; the engine checks the definition's access rules when it is given. */
  by?: Actor;
}

export type DeadlineKind = 'timer' | 'reminder' | 'escalation';

export interface Deadline {
  /** Unique within the instance: state, kind, id and the step that entered the state. */
  key: string;
  kind: DeadlineKind;
  stateId: string;
  id: string;
  at: number;
  /** The event a timer sends. */
  send?: string;
}

/** Durable engine state of one instance: plain JSON, carried across continue-as-new. */
export interface Instance {
  value: unknown;
  context: Context;
  status: 'running' | 'completed';
  seq: number;
  /** Entry time of each active state node. */
  entered: Record<string, number>;
  deadlines: Deadline[];
  /** Identities behind the latest event of each type, for separation of duties; absent in early instances. */
  actors?: Record<string, string[]>;
}

export * from './effects';

export interface Step {
  seq: number;
  at: number;
  /** The event type, `@start`, or `@reminder:<id>` / `@escalation:<id>` for a notice. */
  event: string;
  data?: Record<string, unknown>;
  actor?: string;
  /** Who sent the event, when the engine checked it (see access.ts). */
  by?: Actor;
  from: string;
  to: string;
  /** The event completed a task after its due time. */
  late: boolean;
  effects: Effect[];
  instance: Instance;
}

export interface TaskView {
  stateId: string;
  state: string;
  role: string;
  assignee?: string;
  title: string;
  dueAt?: number;
  events: string[];
}

export type RejectionCode = 'ended' | 'not-accepted' | 'invalid-data' | 'guard' | 'forbidden' | 'too-late';

export class EventRejected extends Error {
  constructor(
    readonly code: RejectionCode,
    message: string,
    readonly accepts: string[],
    readonly errors: PathError[] = [],
  ) {
    super(message);
    this.name = 'EventRejected';
  }
}

export interface StartOptions {
  input: Record<string, unknown>;
  grid?: string;
  /** The community of a process without a grid, when it is not the default one (engine/community.ts). */
  community?: string;
  /** The business day (`YYYY-MM-DD`) wall-clock times refer to; defaults to the start date. */
  day?: string;
  businessKey: string;
  at: number;
  actor?: string;
}

/** Leaf state names of a state value: `{ open: 'patrolling' }` -> `patrolling`. */
export function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.values(value as Record<string, unknown>).map(stateName).join(',');
  }
  return '';
}

// The last snapshot resolved, by the identity of what it was resolved from: a step reads the
// instance's snapshot several times (accepted events, checks, due times, the transition, tasks).
let resolved: { machine: AnyStateMachine; value: unknown; context: Context; snapshot: AnyMachineSnapshot } | undefined;

function snapshotOf(def: CompiledDefinition, inst: Instance): AnyMachineSnapshot {
  if (resolved && resolved.machine === def.machine && resolved.value === inst.value && resolved.context === inst.context) return resolved.snapshot;
  const snapshot = def.machine.resolveState({ value: inst.value as StateValue, context: inst.context });
  resolved = { machine: def.machine, value: inst.value, context: inst.context, snapshot };
  return snapshot;
}

/**
 * XState's `transition` and `initialTransition` build an inert actor on every call, and its
 * constructor computes the machine's initial snapshot: as much work as the step itself. The engine
 * never lets XState execute an action (they are collected and returned) and its machines neither
 * invoke nor spawn, so one inert scope per machine serves every step.
 */
const scopes = new WeakMap<AnyStateMachine, AnyActorScope>();

function inertScope(machine: AnyStateMachine): AnyActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = { self, defer: () => undefined, id: '', logger: () => undefined, sessionId: '', stopChild: () => undefined, system: self.system, emit: () => undefined, actionExecutor: () => undefined };
    scopes.set(machine, scope);
  }
  return scope;
}

type Actions = { type: string; params?: unknown }[];

/** XState's `transition(machine, snapshot, event)`: the next snapshot and the actions to execute. */
function transition(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: { type: string }): [AnyMachineSnapshot, Actions] {
  const scope = inertScope(machine);
  const actions: Actions = [];
  scope.actionExecutor = (action) => void actions.push(action);
  try {
    return [machine.transition(snapshot, event, scope), actions];
  } catch (e) {
    throw unsettled(e, machine, `on ${event.type} in state "${stateName(snapshot.value)}"`);
  } finally {
    scope.actionExecutor = () => undefined;
  }
}

/**
 * XState's error when a step passes MAX_MICROSTEPS (engine/compile.ts), as a refusal that says what
 * loops and who can mend it; the process stays where it was. Any other error passes unchanged.
 */
function unsettled(e: unknown, machine: AnyStateMachine, where: string): unknown {
  if (!(e instanceof Error) || !e.message.startsWith('Infinite loop detected')) return e;
  return new EventRejected(
    'not-accepted',
    `definition "${machine.id}" does not settle ${where}: its always transitions ran more than ${MAX_MICROSTEPS} times in a row without reaching a waiting state (a cycle whose guards stay true); nothing was recorded, and operations must correct the definition`,
    [],
  );
}

/** XState's `initialTransition(machine, input)`. */
function initialTransition(machine: AnyStateMachine, input: unknown): [AnyMachineSnapshot, Actions] {
  const scope = inertScope(machine);
  const actions: Actions = [];
  scope.actionExecutor = (action) => void actions.push(action);
  try {
    return [machine.getInitialSnapshot(scope, input), actions];
  } catch (e) {
    throw unsettled(e, machine, 'at its start');
  } finally {
    scope.actionExecutor = () => undefined;
  }
}

/**
 * The active state nodes of a snapshot, read from its value against the machine's tree: each
 * node with the keys of its value, then their subtrees one by one; the machine first. This is the
 * order XState resolves a state value in (`machine.resolveState`), which the engine's snapshots
 * come from, so deadlines and tasks keep the order they always had.
 */
function activeNodes(snapshot: AnyMachineSnapshot): AnyStateNode[] {
  const nodes = new Set<AnyStateNode>([snapshot.machine.root]);
  const walk = (node: AnyStateNode, value: StateValue) => {
    if (typeof value === 'string') {
      nodes.add(node).add(childOf(node, value));
      return;
    }
    const keys = Object.keys(value);
    nodes.add(node);
    for (const key of keys) nodes.add(childOf(node, key));
    for (const key of keys) walk(childOf(node, key), value[key] as StateValue);
  };
  walk(snapshot.machine.root, snapshot.value as StateValue);
  return [...nodes];
}

function childOf(node: AnyStateNode, key: string): AnyStateNode {
  const child = (node.states as Record<string, AnyStateNode>)[key];
  if (!child) throw new Error(`state "${key}" does not exist in "${node.id}"`);
  return child;
}

/**
 * The active nodes after a step from `prevNodes`, in the order XState keeps them after a
 * transition: those that stay keep their place and those entered follow in document order; a
 * machine that has finished lists them in reverse document order (the order it exits them in).
 * Entry times and deadlines are recorded in this order, as they always were.
 */
function nodesAfterStep(prevNodes: AnyStateNode[], next: AnyMachineSnapshot): AnyStateNode[] {
  const active = activeNodes(next);
  if (next.status === 'done') return active.sort((a, b) => b.order - a.order);
  const stayed = new Set(prevNodes.filter((n) => active.includes(n)));
  const entered = active.filter((n) => !stayed.has(n)).sort((a, b) => a.order - b.order);
  return [...stayed, ...entered];
}

/** The event as the machine sees it; `due` is the due time of the task it answers, if any. */
function xstateEvent(def: CompiledDefinition, ev: EngineEvent, inst?: Instance) {
  const due = inst ? currentDue(def, inst) : undefined;
  return { type: ev.type, data: ev.data ?? {}, at: formatLocal(ev.at, def.zone), actor: ev.actor, ...(due === undefined ? {} : { due: formatLocal(due, def.zone) }) };
}

function currentDue(def: CompiledDefinition, inst: Instance): number | undefined {
  for (const node of activeNodes(snapshotOf(def, inst))) {
    // An unknown entry time (a read-model row) means an unknown due time.
    const entry = inst.entered[node.id];
    const due = entry === undefined || !metaOf(node).task ? undefined : taskDue(def, node, entry, inst.context);
    if (due !== undefined) return due;
  }
  return undefined;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** A date without a time means the end of that working day. */
export const END_OF_DAY = '18:00';

function shift(def: CompiledDefinition, base: number, duration: string, sign: 1 | -1): number {
  const wd = parseWorkingDays(duration);
  if (wd === undefined) return base + sign * parseDuration(duration);
  if (sign < 0) throw new Error(`"${duration}": working days count forward only; use hours or days with before`);
  return addWorkingDaysAt(base, wd, def.zone, def.calendar);
}

/**
 * Resolves when a time spec falls for a state entered at `entry`, given the instance's context
 * and, for `before` / `of: due`, the task's due time.
 */
export function resolveWhen(def: CompiledDefinition, given: TimeSpec, entry: number, context: Context, dueAt?: number): number {
  const spec: TimeSpec = pickSpec(given, context);
  if (spec.ref !== undefined) {
    const v = readPath({ context }, spec.ref);
    if (typeof v === 'string' && DATE_ONLY.test(v)) return atLocal(v, END_OF_DAY, def.zone);
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  }
  if (spec.before !== undefined) {
    if (dueAt === undefined) throw new Error('"before" needs a task due time in the same state');
    return shift(def, dueAt, spec.before, -1);
  }
  if (spec.after !== undefined) {
    const base = spec.of === 'due' ? dueAt : entry;
    if (base === undefined) throw new Error('"of: due" needs a task due time in the same state');
    return shift(def, base, spec.after, 1);
  }
  if (spec.at !== undefined) {
    const baseDay = spec.on === 'entry-day' ? localDate(entry, def.zone) : String(context.day ?? localDate(entry, def.zone));
    let day = addDays(baseDay, spec.addDays ?? 0);
    if (spec.addWorkingDays !== undefined) day = addWorkingDays(day, spec.addWorkingDays, def.calendar);
    return atLocal(day, spec.at, def.zone);
  }
  throw new Error('a time needs one of after, at, before, or a ref that is set');
}

/** The time spec in force: a set `ref` first, then the case for a context value, then its urgent override. */
function pickSpec(given: TimeSpec, context: Context): TimeSpec {
  const decided = given.ref !== undefined ? readPath({ context }, given.ref) : undefined;
  let base: TimeSpec = given;
  if (given.cases && (decided === undefined || decided === null || decided === '')) {
    const v = readPath({ context }, given.cases.ref);
    const chosen = typeof v === 'string' ? given.cases.values[v] : undefined;
    if (chosen) base = chosen;
  }
  return base.urgent && context.urgency === 'urgent' ? { ...base.urgent } : base;
}

function taskDue(def: CompiledDefinition, node: AnyStateNode, entry: number, context: Context): number | undefined {
  const due = metaOf(node).task?.due;
  return due ? resolveWhen(def, due, entry, context) : undefined;
}

function scheduleFor(def: CompiledDefinition, node: AnyStateNode, entry: number, seq: number, context: Context): Deadline[] {
  const meta = metaOf(node);
  const dueAt = taskDue(def, node, entry, context);
  const out: Deadline[] = [];
  const key = (kind: DeadlineKind, id: string) => `${node.id}#${kind}:${id}@${seq}`;
  for (const t of meta.timers ?? []) {
    out.push({ key: key('timer', t.id), kind: 'timer', stateId: node.id, id: t.id, send: t.send, at: resolveWhen(def, t.when, entry, context, dueAt) });
  }
  for (const [kind, list] of [['reminder', meta.reminders], ['escalation', meta.escalations]] as const) {
    for (const n of list ?? []) {
      out.push({ key: key(kind, n.id), kind, stateId: node.id, id: n.id, at: resolveWhen(def, n.when, entry, context, dueAt) });
    }
  }
  return out;
}

function timeSpecsOf(node: AnyStateNode): TimeSpec[] {
  const meta = metaOf(node);
  return [meta.task?.due, ...(meta.timers ?? []).map((t) => t.when), ...(meta.reminders ?? []).map((n) => n.when), ...(meta.escalations ?? []).map((n) => n.when)].filter(
    (x): x is TimeSpec => x !== undefined,
  );
}

function timesDependOnChange(node: AnyStateNode, before: Context, after: Context): boolean {
  for (const spec of timeSpecsOf(node)) {
    if (spec.urgent && before.urgency !== after.urgency) return true;
    if (spec.cases && JSON.stringify(readPath({ context: before }, spec.cases.ref)) !== JSON.stringify(readPath({ context: after }, spec.cases.ref))) return true;
    if (spec.ref && JSON.stringify(readPath({ context: before }, spec.ref)) !== JSON.stringify(readPath({ context: after }, spec.ref))) return true;
  }
  return false;
}

function sortDeadlines(list: Deadline[]): Deadline[] {
  // Stable: deadlines at the same instant keep the order the document declares them in.
  return list.map((d, i) => [d, i] as const).sort((a, b) => a[0].at - b[0].at || a[1] - b[1]).map(([d]) => d);
}

/** `2小时30分钟`, `3天2小时`, `45秒`: how long something has been late, in Chinese. */
export function humanizeDuration(ms: number): string {
  const abs = Math.max(0, ms);
  if (abs < 60_000) return `${Math.round(abs / 100) / 10}秒`;
  const minutes = Math.floor(abs / 60_000);
  if (minutes < 60) return `${minutes}分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}小时${minutes % 60}分钟` : `${hours}小时`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}天${hours % 24}小时` : `${days}天`;
}

/** What a reminder or escalation is about: the state's task, its due time and how late it is. */
function lateness(def: CompiledDefinition, inst: Instance, d: Deadline): Record<string, unknown> | undefined {
  const node = def.nodes.get(d.stateId);
  const task = node ? metaOf(node).task : undefined;
  if (!node || !task) return undefined;
  const due = taskDue(def, node, inst.entered[d.stateId] ?? d.at, inst.context);
  return { task: task.title, due: due === undefined ? undefined : formatLocal(due, def.zone), for: due === undefined ? '' : humanizeDuration(d.at - due) };
}

function renderNotice(def: CompiledDefinition, kind: Notice['kind'], to: Role | Role[], template: string, urgent: boolean | undefined, scope: { context: Context; event?: unknown; late?: unknown }): Notice {
  const t = def.doc.templates?.[template] ?? { title: template, body: '' };
  const full = { ...scope, instance: scope.context };
  const roles = Array.isArray(to) ? to : [to];
  const organization = roles.includes('partner') ? ownerOf(scope.context) : null;
  return {
    kind,
    to: roles,
    ...(organization ? { organization } : {}),
    title: renderTemplate(t.title, full),
    body: renderTemplate(t.body, full),
    urgent: urgent ?? false,
  };
}

const isEffectType = (type: string): type is EffectType => (EFFECT_TYPES as readonly string[]).includes(type);

/** The effect actions of a transition, typed and numbered; XState's own actions (assign) are left out. */
function effectsOf(def: CompiledDefinition, actions: { type: string; params?: unknown }[], seq: number, context: Context, event: unknown): Effect[] {
  const effects: Effect[] = [];
  const push = (body: EffectBody) => effects.push({ key: `${seq}:${effects.length}`, ...body });
  for (const action of actions) {
    const type = action.type;
    if (!isEffectType(type)) continue;
    const params = (action.params ?? {}) as Record<string, unknown>;
    if (type === 'notify') {
      push({ type, params: { ...renderNotice(def, 'info', params.to as Role | Role[], String(params.template), params.urgent as boolean | undefined, { context, event }) } });
      continue;
    }
    const { forEach, ...rest } = params;
    // A forEach over nothing (an unset list) is no effect at all, not one effect.
    const each = 'forEach' in params;
    const items = !each ? [undefined] : Array.isArray(forEach) ? forEach : [];
    for (const item of items) {
      const resolved = (each ? resolveValue(rest, { item }) : rest) as Record<string, unknown>;
      for (const body of typedEffects(type, resolved)) push(body);
    }
  }
  return effects;
}

/**
 * Moves an instance from `prev` to `next`, keeping entry times and deadlines of the nodes that stay.
 * `nextNodes` are next's active nodes in the order their deadlines are scheduled in.
 */
function advance(def: CompiledDefinition, prev: Instance | undefined, prevNodes: AnyStateNode[], next: AnyMachineSnapshot, nextNodes: AnyStateNode[], at: number, seq: number): Instance {
  const before = new Set(prevNodes.map((n) => n.id));
  const after = new Set(nextNodes.map((n) => n.id));
  const context = next.context as Context;
  const entered: Record<string, number> = {};
  let deadlines = (prev?.deadlines ?? []).filter((d) => after.has(d.stateId));
  for (const node of nextNodes) {
    if (before.has(node.id) && prev) {
      entered[node.id] = prev.entered[node.id] ?? at;
      // A state whose times read the context (a decided due date, the urgency) reschedules when
      // those fields change, keeping its entry time.
      if (timesDependOnChange(node, prev.context, context)) {
        deadlines = deadlines.filter((d) => d.stateId !== node.id).concat(scheduleFor(def, node, entered[node.id], seq, context));
      }
    } else {
      entered[node.id] = at;
      deadlines = deadlines.concat(scheduleFor(def, node, at, seq, context));
    }
  }
  const done = next.status === 'done';
  return {
    value: next.value,
    context,
    status: done ? 'completed' : 'running',
    seq,
    entered,
    deadlines: done ? [] : sortDeadlines(deadlines),
    ...(prev?.actors ? { actors: prev.actors } : {}),
  };
}

/** Starts an instance: the initial transition, its entry effects and its deadlines. */
export function startInstance(def: CompiledDefinition, opts: StartOptions): Step {
  const context: Context = {
    input: opts.input,
    grid: opts.grid ?? null,
    // Only outside the default community, so a default instance's context is what it always was.
    ...(opts.community && opts.community !== DEFAULT_COMMUNITY ? { community: opts.community } : {}),
    day: opts.day ?? localDate(opts.at, def.zone),
    businessKey: opts.businessKey,
  };
  const [snapshot, actions] = initialTransition(def.machine, context);
  const instance = advance(def, undefined, [], snapshot, nodesAfterStep([], snapshot), opts.at, 1);
  return {
    seq: 1,
    at: opts.at,
    event: '@start',
    data: opts.input,
    actor: opts.actor,
    from: '',
    to: stateName(snapshot.value),
    late: false,
    effects: effectsOf(def, actions, 1, instance.context, { type: '@start' }),
    instance,
  };
}

/** Events a client may send now, ignoring guards (the state has a transition for them). */
export function acceptedEvents(def: CompiledDefinition, inst: Instance): string[] {
  if (inst.status !== 'running') return [];
  const snapshot = snapshotOf(def, inst);
  const events = new Set<string>();
  for (const node of activeNodes(snapshot)) for (const e of def.sendable.get(node.id) ?? []) events.add(e);
  return [...events].sort();
}

function rawState(def: CompiledDefinition, node: AnyStateNode): StateConfig | undefined {
  let cur: StateConfig | undefined = def.doc.machine as StateConfig;
  for (const part of node.path) cur = cur?.states?.[part];
  return cur;
}

/** The document's guards on `type` in the active states, as text: `context.checkIns >= 1`. */
function guardText(def: CompiledDefinition, snapshot: AnyMachineSnapshot, type: string): string {
  const texts: string[] = [];
  for (const node of activeNodes(snapshot)) {
    const on = rawState(def, node)?.on?.[type];
    for (const t of Array.isArray(on) ? on : [on]) {
      if (!t || typeof t === 'string' || !t.guard) continue;
      texts.push(typeof t.guard === 'string' ? t.guard : describeGuard(t.guard.type, t.guard.params));
    }
  }
  return texts.length ? texts.join(' or ') : 'its guard';
}

/**
 * Checks an event without applying it. Throws EventRejected naming the state, the event and what
 * would be accepted.
 */
export type EventSource = 'client' | 'timer' | 'system';

export function checkEvent(def: CompiledDefinition, inst: Instance, ev: EngineEvent, source: EventSource = 'client'): void {
  checked(def, inst, ev, source);
}

/** checkEvent, answering the instance's snapshot and the event as the machine sees it, for the step. */
function checked(def: CompiledDefinition, inst: Instance, ev: EngineEvent, source: EventSource): { snapshot: AnyMachineSnapshot; xev: ReturnType<typeof xstateEvent> } {
  const state = stateName(inst.value);
  const outOfReach = source === 'client' && ev.by ? checkReach({ definition: def.doc.key, grid: typeof inst.context.grid === 'string' ? inst.context.grid : null, community: communityOfContext(inst.context) }, ev.by) : undefined;
  if (outOfReach) throw new EventRejected(outOfReach.code, outOfReach.message, []);
  if (inst.status !== 'running') {
    throw new EventRejected('ended', `process has ended in state "${state}"; it accepts no events`, []);
  }
  const accepts = acceptedEvents(def, inst);
  const snapshot = snapshotOf(def, inst);
  if (source === 'client' && ev.by && def.internalEvents.has(ev.type)) {
    throw new EventRejected('forbidden', `event "${ev.type}" is sent by the engine (a timer or a fetch), never by a person or another process`, accepts);
  }
  if (source === 'client' && !accepts.includes(ev.type)) {
    const why = def.internalEvents.has(ev.type) ? ' (it is sent by the engine: a timer or a fetch)' : '';
    throw new EventRejected(
      'not-accepted',
      `event "${ev.type}" is not accepted in state "${state}"${why}; accepted: ${accepts.join(', ') || 'none'}`,
      accepts,
    );
  }
  if (source === 'client' && ev.by) {
    const denial = checkAccess(accessContext(def, inst, ev.type, ev.at), ev.by);
    if (denial) throw new EventRejected(denial.code, denial.message, accepts);
  }
  const schema = def.doc.events?.[ev.type];
  // Evidence references are checked against the evidence block; the event's own schema checks the rest.
  const takesEvidence = def.doc.evidence?.[ev.type] !== undefined;
  const { evidence, ...rest } = ev.data ?? {};
  const evidenceErrors = takesEvidence || evidence !== undefined ? checkEvidence(ev.type, def.doc.evidence?.[ev.type], evidence) : [];
  if (schema || evidenceErrors.length) {
    const errors = [...evidenceErrors, ...(schema ? checkData(schema, rest, 'data', (ref) => readPath({ context: inst.context }, ref)) : [])];
    if (errors.length) {
      throw new EventRejected('invalid-data', `event "${ev.type}" has invalid data: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, accepts, errors);
    }
  }
  const xev = xstateEvent(def, ev, inst);
  if (!snapshot.can(xev)) {
    throw new EventRejected('guard', `event "${ev.type}" is refused in state "${state}": requires ${guardText(def, snapshot, ev.type)}`, accepts);
  }
  return { snapshot, xev };
}

/** Applies an accepted event. Throws EventRejected when it is not accepted (see checkEvent). */
export function applyEvent(def: CompiledDefinition, inst: Instance, ev: EngineEvent, source: EventSource = 'client'): Step {
  const { snapshot, xev } = checked(def, inst, ev, source);
  const prevNodes = activeNodes(snapshot);
  const lateTasks = prevNodes.filter((n) => {
    const due = taskDue(def, n, inst.entered[n.id] ?? ev.at, inst.context);
    return due !== undefined && ev.at > due;
  });
  const [next, actions] = transition(def.machine, snapshot, xev);
  const seq = inst.seq + 1;
  const instance = advance(def, inst, prevNodes, next, nodesAfterStep(prevNodes, next), ev.at, seq);
  const who = ev.by ? identities(ev.by) : ev.actor && source === 'client' ? [ev.actor] : undefined;
  if (who) instance.actors = { ...(inst.actors ?? {}), [ev.type]: who };
  const stillActive = new Set(activeNodes(next).map((n) => n.id));
  return {
    seq,
    at: ev.at,
    event: ev.type,
    data: ev.data,
    actor: ev.actor,
    ...(ev.by ? { by: ev.by } : {}),
    from: stateName(inst.value),
    to: stateName(next.value),
    late: lateTasks.some((n) => !stillActive.has(n.id)),
    effects: effectsOf(def, actions, seq, instance.context, xev),
    instance,
  };
}

/** The earliest pending deadline, if any. */
export function nextDeadline(inst: Instance): Deadline | undefined {
  return inst.status === 'running' ? inst.deadlines[0] : undefined;
}

function noticeSpec(def: CompiledDefinition, d: Deadline): NoticeSpec | undefined {
  const meta = metaOf(def.nodes.get(d.stateId) as AnyStateNode);
  const list = d.kind === 'reminder' ? meta.reminders : meta.escalations;
  return list?.find((n) => n.id === d.id);
}

/**
 * Fires every deadline due at or before `now`, in time order. A timer whose event the state no
 * longer accepts (its guard fails) is dropped; each reminder or escalation becomes a step that
 * changes no state and carries one notice.
 */
export function fireDue(def: CompiledDefinition, inst: Instance, now: number): { steps: Step[]; instance: Instance } {
  const steps: Step[] = [];
  let current = inst;
  for (;;) {
    const d = nextDeadline(current);
    if (!d || d.at > now) break;
    const rest = { ...current, deadlines: current.deadlines.slice(1) };
    if (d.kind === 'timer') {
      try {
        const step = applyEvent(def, rest, { type: d.send as string, at: d.at, actor: 'timer' }, 'timer');
        steps.push(step);
        current = step.instance;
      } catch (e) {
        if (!(e instanceof EventRejected)) throw e;
        current = rest;
      }
      continue;
    }
    const spec = noticeSpec(def, d);
    const seq = rest.seq + 1;
    current = { ...rest, seq };
    const state = stateName(current.value);
    const effects: Effect[] = spec
      ? [{ key: `${seq}:0`, type: 'notify', params: { ...renderNotice(def, d.kind, spec.to as Role | Role[], spec.template, spec.urgent, { context: current.context, late: lateness(def, current, d) }) } }]
      : [];
    steps.push({ seq, at: d.at, event: `@${d.kind}:${d.id}`, actor: 'timer', from: state, to: state, late: false, effects, instance: current });
  }
  return { steps, instance: current };
}

/** A task's role now: `roleBy` a context value when it names one, else `role`. */
function taskRole(task: { role: string; roleBy?: { ref: string; values: Record<string, string> } }, context: Context): string {
  if (!task.roleBy) return task.role;
  const v = readPath({ context }, task.roleBy.ref);
  return (typeof v === 'string' ? task.roleBy.values[v] : undefined) ?? task.role;
}

/** Open human tasks of the active states. */
export function tasksOf(def: CompiledDefinition, inst: Instance): TaskView[] {
  if (inst.status !== 'running') return [];
  const snapshot = snapshotOf(def, inst);
  const events = acceptedEvents(def, inst);
  const tasks: TaskView[] = [];
  for (const node of activeNodes(snapshot)) {
    const task = metaOf(node).task;
    if (!task) continue;
    const assignee = typeof task.assignee === 'string' ? task.assignee : task.assignee ? readPath({ context: inst.context }, task.assignee.$ref) : undefined;
    tasks.push({
      stateId: node.id,
      state: node.key,
      role: taskRole(task, inst.context),
      ...(typeof assignee === 'string' && assignee ? { assignee } : {}),
      title: task.title,
      dueAt: taskDue(def, node, inst.entered[node.id], inst.context),
      events,
    });
  }
  return tasks;
}

/** A dotted state path of a document (`open.patrolling`) as an XState state value. */
function pathToValue(path: string): StateValue {
  const parts = path.split('.');
  let value: StateValue = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) value = { [parts[i]]: value };
  return value;
}

export class MigrationRefused extends Error {}

/**
 * Moves a running instance to another version of its definition: its leaf state is mapped to a
 * state of the target (by `mapping`, else the state of the same name), its context is kept (new
 * context fields get their defaults), and every active state counts as entered now, so timers and
 * due times are recomputed from the migration time.
 */
export function migrateInstance(
  from: CompiledDefinition,
  to: CompiledDefinition,
  inst: Instance,
  mapping: Record<string, string>,
  at: number,
): Step {
  if (inst.status !== 'running') throw new MigrationRefused(`the instance has ended in state "${stateName(inst.value)}"`);
  const state = stateName(inst.value);
  if (state.includes(',')) throw new MigrationRefused(`instances in parallel states ("${state}") can not be migrated`);
  const targetName = mapping[state] ?? state;
  const paths = new Map<string, string>();
  for (const node of to.nodes.values()) if (node.path.length && Object.keys(node.states).length === 0) paths.set(node.key, node.path.join('.'));
  const path = targetName.includes('.') ? targetName : paths.get(targetName);
  const node = path ? to.nodes.get(`${to.machine.id}.${path}`) : undefined;
  if (!path || !node || Object.keys(node.states).length > 0) {
    throw new MigrationRefused(
      mapping[state]
        ? `mapping "${state}" -> "${targetName}" names no leaf state of the target; leaf states: ${[...paths.keys()].sort().join(', ')}`
        : `state "${state}" does not exist in the target version; map it to one of: ${[...paths.keys()].sort().join(', ')}`,
    );
  }
  if (node.type === 'final') throw new MigrationRefused(`"${targetName}" is a final state; map running instances to a state that can still move`);
  const defaults = (to.doc.machine.context ?? {}) as Context;
  const context: Context = { ...JSON.parse(JSON.stringify(defaults)), ...inst.context };
  const snapshot = to.machine.resolveState({ value: pathToValue(path), context });
  const seq = inst.seq + 1;
  const instance = advance(to, undefined, [], snapshot, activeNodes(snapshot), at, seq);
  if (inst.actors) instance.actors = inst.actors;
  return {
    seq,
    at,
    event: '@migrate',
    data: { mapping: { [state]: node.key } },
    actor: 'migration',
    from: state,
    to: node.key,
    late: false,
    effects: [],
    instance,
  };
}

/** The organisation that owns the work, when a decision named one (`context.owner.id`). */
export function ownerOf(context: Context): string | null {
  const id = (context.owner as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' ? id : null;
}

/** What the access rules need to know about an instance now, for one event type. */
export function accessContext(def: CompiledDefinition, inst: Instance, type: string, at: number): AccessContext {
  const tasks: { state: string; role: string }[] = [];
  if (inst.status === 'running') {
    for (const node of activeNodes(snapshotOf(def, inst))) {
      const task = metaOf(node).task;
      if (task) tasks.push({ state: node.key, role: taskRole(task, inst.context) });
    }
  }
  let due: number | undefined;
  try {
    due = currentDue(def, inst);
  } catch {
    // Without entry times (a read-model row) a due relative to entry cannot be known: no beforeDue check.
    due = undefined;
  }
  return {
    definition: def.doc.key,
    event: type,
    state: stateName(inst.value),
    grid: typeof inst.context.grid === 'string' ? inst.context.grid : null,
    community: communityOfContext(inst.context),
    owner: ownerOf(inst.context),
    context: inst.context,
    rule: def.doc.access?.[type],
    tasks,
    actors: inst.actors ?? {},
    dueAt: due,
    at,
    zone: def.zone,
  };
}

/** The events `actor` may send now: accepted in the state and allowed by the access rules (guards aside). */
export function allowedEvents(def: CompiledDefinition, inst: Instance, actor: Actor, at: number): string[] {
  return acceptedEvents(def, inst).filter((type) => checkAccess(accessContext(def, inst, type, at), actor) === undefined);
}

/** A step that changes no state and only records something (an event another process refused). */
export function noteStep(inst: Instance, at: number, event: string, data: Record<string, unknown>, actor?: string): Step {
  const seq = inst.seq + 1;
  const state = stateName(inst.value);
  return { seq, at, event, data, actor, from: state, to: state, late: false, effects: [], instance: { ...inst, seq } };
}

import { assign, setup, type AnyStateMachine, type AnyStateNode } from 'xstate';
import type { ActionRef, DefinitionDocument, GuardRef, StateConfig, StateMeta, TransitionConfig } from './document.schema';
import { compare, readPath, resolveValue, type COMPARE_OPS } from './expressions';
import type { WorkCalendar } from './calendar';
import { DEFAULT_ZONE, atLocal, formatLocal, localDate } from './time';
import { addWorkingDaysAt, workingDaysBetween } from './working-days';

/** A calendar with no holidays: plain Monday to Friday. */
export const NO_HOLIDAYS: WorkCalendar = { name: 'mon-fri', zone: DEFAULT_ZONE, years: {} } as WorkCalendar;

export type Context = Record<string, unknown>;

export interface CompiledDefinition {
  doc: DefinitionDocument;
  machine: AnyStateMachine;
  zone: string;
  /** Working-day calendar for `wd` durations; without one, Monday to Friday are working days. */
  calendar: WorkCalendar;
  /** Events only the definition's own timers send; clients may not send them. */
  internalEvents: ReadonlySet<string>;
  /** By state node id: the events a person or process may send to that node (its own, less XState's and the engine's). */
  sendable: ReadonlyMap<string, readonly string[]>;
  /** Every state node by its XState id (`daily-patrol.open.assigned`). */
  nodes: ReadonlyMap<string, AnyStateNode>;
}

type Args = { context: Context; event: Record<string, unknown> };
type Params = Record<string, unknown>;

function dynamicParams(raw: Params | undefined) {
  if (!raw) return undefined;
  return ({ context, event }: Args) => resolveValue(raw, { context, event, instance: context }) as Params;
}

function convertAction(ref: ActionRef) {
  if (typeof ref === 'string') return { type: ref };
  return { type: ref.type, params: dynamicParams(ref.params) };
}

function convertActions(refs: ActionRef | ActionRef[] | undefined) {
  if (refs === undefined) return undefined;
  return (Array.isArray(refs) ? refs : [refs]).map(convertAction);
}

function convertGuard(ref: GuardRef | undefined) {
  if (ref === undefined) return undefined;
  if (typeof ref === 'string') return { type: ref };
  return { type: ref.type, params: dynamicParams(ref.params) };
}

function convertTransition(t: TransitionConfig): unknown {
  if (Array.isArray(t)) return t.map(convertTransition);
  if (typeof t === 'string') return t;
  return { ...t, actions: convertActions(t.actions), guard: convertGuard(t.guard) };
}

function convertState(state: StateConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...state };
  if (state.entry) out.entry = convertActions(state.entry);
  if (state.exit) out.exit = convertActions(state.exit);
  if (state.always) out.always = convertTransition(state.always);
  if (state.on) out.on = Object.fromEntries(Object.entries(state.on).map(([e, t]) => [e, convertTransition(t)]));
  if (state.states) out.states = Object.fromEntries(Object.entries(state.states).map(([k, s]) => [k, convertState(s)]));
  return out;
}

const noop = () => undefined;

/**
 * `shift`: a date moved later by the working days between two instants (a paused clock): the
 * due date of a task suspended from Monday to Thursday moves three working days on.
 */
function shifted(spec: unknown, calendar: WorkCalendar, zone: string): string | null {
  const { date, from, to } = (spec ?? {}) as { date?: unknown; from?: unknown; to?: unknown };
  const instant = (v: unknown) => (typeof v === 'string' ? (/^\d{4}-\d{2}-\d{2}$/.test(v) ? atLocal(v, '18:00', zone) : Date.parse(v)) : Number.NaN);
  const [base, start, end] = [instant(date), instant(from), instant(to)];
  if ([base, start, end].some((x) => Number.isNaN(x))) return null;
  const days = workingDaysBetween(localDate(start, zone), localDate(end, zone), calendar);
  return formatLocal(days > 0 ? addWorkingDaysAt(base, days, zone, calendar) : base, zone);
}

function assignWith(calendar: WorkCalendar, zone: string) {
  return assign(({ context }: Args, params: Params) => {
      const next: Context = {};
      for (const [k, spec] of Object.entries((params.shift as Params | undefined) ?? {})) next[k] = shifted(spec, calendar, zone);
      for (const [k, v] of Object.entries((params.set as Params | undefined) ?? {})) next[k] = v;
      for (const [k, n] of Object.entries((params.increment as Params | undefined) ?? {})) {
        const current = typeof context[k] === 'number' ? (context[k] as number) : 0;
        next[k] = current + (typeof n === 'number' && Number.isFinite(n) ? n : 0);
      }
      for (const [k, v] of Object.entries((params.append as Params | undefined) ?? {})) {
        const current = Array.isArray(context[k]) ? (context[k] as unknown[]) : [];
        next[k] = [...current, v];
      }
      return next;
  });
}

const implementations = {
  actions: {
    // Effect actions are never executed by XState: `transition` hands them back and the workflow
    // runs each one as an activity.
    notify: noop,
    startProcess: noop,
    sendEvent: noop,
    record: noop,
    fetch: noop,
  },
  guards: {
    compare: (_: Args, p: Params) => compare(p.left, p.op as (typeof COMPARE_OPS)[number], p.right),
    exists: ({ context, event }: Args, p: Params) => present(readPath({ context, event, instance: context }, String(p.ref))),
    missing: ({ context, event }: Args, p: Params) => !present(readPath({ context, event, instance: context }, String(p.ref))),
  },
};

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
}

function collectNodes(node: AnyStateNode, into: Map<string, AnyStateNode>) {
  into.set(node.id, node);
  for (const child of Object.values(node.states) as AnyStateNode[]) collectNodes(child, into);
}

/** Meta of a state node, as the document declared it. */
export function metaOf(node: AnyStateNode): StateMeta {
  return (node.meta as StateMeta | undefined) ?? {};
}

/**
 * The most microsteps one step may take (XState's `maxIterations`; its default is no limit).
 * Validation refuses unguarded `always` cycles, but a guarded one whose guard never turns false
 * would otherwise spin for ever, in the worker's sandbox (which has no deadline, worker/sandbox.ts)
 * and in the API, which computes a start's first state. Past the cap XState throws: the step fails
 * and nothing is recorded. Real definitions take a handful of microsteps a step.
 */
export const MAX_MICROSTEPS = 1000;

/**
 * Builds the XState machine for a document that has passed validation. The initial context is
 * the machine's `context` merged with the instance fields the engine provides (grid, day,
 * businessKey, input).
 */
export function compileDefinition(doc: DefinitionDocument, calendar: WorkCalendar = NO_HOLIDAYS): CompiledDefinition {
  const { context: defaults, ...rest } = doc.machine;
  const config = convertState(rest as StateConfig);
  const machine = setup({
    // The library is typed loosely on purpose: documents are checked by validate.ts, not tsc.
    actions: { ...implementations.actions, assign: assignWith(calendar, doc.timezone ?? DEFAULT_ZONE) } as never,
    guards: implementations.guards as never,
  }).createMachine({
    ...(config as object),
    context: ({ input }: { input: Context }) => ({ ...structuredCloneJson(defaults ?? {}), ...input }),
    options: { maxIterations: MAX_MICROSTEPS },
  } as never) as unknown as AnyStateMachine;

  const nodes = new Map<string, AnyStateNode>();
  collectNodes(machine.root, nodes);
  const internalEvents = new Set<string>();
  for (const node of nodes.values()) for (const t of metaOf(node).timers ?? []) internalEvents.add(t.send);
  for (const send of fetchEvents(doc.machine as StateConfig)) internalEvents.add(send);
  // XState works a node's `ownEvents` out again on every read; a step asks for them several times.
  const sendable = new Map<string, readonly string[]>();
  for (const node of nodes.values()) sendable.set(node.id, (node.ownEvents as string[]).filter((e) => !e.startsWith('xstate.') && !e.startsWith('done.') && !internalEvents.has(e)));
  return { doc, machine, zone: doc.timezone ?? DEFAULT_ZONE, calendar, internalEvents, sendable, nodes };
}

/** Events that `fetch` actions bring back: the engine sends them, clients may not. */
function fetchEvents(state: StateConfig): string[] {
  const out: string[] = [];
  const visitActions = (refs: ActionRef | ActionRef[] | undefined) => {
    for (const a of refs === undefined ? [] : Array.isArray(refs) ? refs : [refs]) {
      if (typeof a === 'object' && a.type === 'fetch' && typeof a.params?.send === 'string') out.push(a.params.send);
    }
  };
  const visitTransition = (t: TransitionConfig | undefined) => {
    for (const x of t === undefined ? [] : Array.isArray(t) ? t : [t]) if (typeof x === 'object') visitActions(x.actions);
  };
  visitActions(state.entry);
  visitActions(state.exit);
  visitTransition(state.always);
  for (const t of Object.values(state.on ?? {})) visitTransition(t);
  for (const child of Object.values(state.states ?? {})) out.push(...fetchEvents(child));
  return out;
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

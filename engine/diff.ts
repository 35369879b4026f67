import type { DefinitionDocument, StateConfig, TransitionConfig } from './document.schema';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface Change {
  /** What changed: a state, a transition, a timer, a reminder, an escalation, a task, an event schema, a template, the schedule. */
  subject: 'state' | 'transition' | 'timer' | 'reminder' | 'escalation' | 'task' | 'event' | 'template' | 'schedule' | 'input' | 'access' | 'start-window' | 'label';
  kind: ChangeKind;
  /** The state's dotted path (`open.patrolling`), when the change is inside one. */
  state?: string;
  /** The event, timer id, reminder id, template name. */
  name?: string;
  before?: unknown;
  after?: unknown;
}

interface FlatState {
  type: string;
  on: Record<string, unknown>;
  task?: unknown;
  timers: Record<string, unknown>;
  reminders: Record<string, unknown>;
  escalations: Record<string, unknown>;
  leaf: boolean;
}

/** JSON with object keys sorted: stored documents come back from jsonb with their keys reordered. */
const json = (v: unknown): string => JSON.stringify(canonical(v ?? null));
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

function normalize(t: TransitionConfig | undefined): unknown {
  if (t === undefined) return undefined;
  return (Array.isArray(t) ? t : [t]).map((x) => (typeof x === 'string' ? { target: x } : x));
}

function flatten(states: Record<string, StateConfig>, prefix = '', out = new Map<string, FlatState>()): Map<string, FlatState> {
  for (const [key, s] of Object.entries(states)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const byId = <T extends { id: string }>(list: T[] | undefined) => Object.fromEntries((list ?? []).map((x) => [x.id, x]));
    out.set(path, {
      type: s.type ?? (s.states ? 'compound' : 'atomic'),
      on: Object.fromEntries(Object.entries(s.on ?? {}).map(([e, t]) => [e, normalize(t)])),
      task: s.meta?.task,
      timers: byId(s.meta?.timers),
      reminders: byId(s.meta?.reminders),
      escalations: byId(s.meta?.escalations),
      leaf: !s.states,
    });
    if (s.states) flatten(s.states, path, out);
  }
  return out;
}

function diffRecords(subject: Change['subject'], a: Record<string, unknown>, b: Record<string, unknown>, state?: string): Change[] {
  const changes: Change[] = [];
  for (const name of Object.keys(a)) {
    if (!(name in b)) changes.push({ subject, kind: 'removed', state, name, before: a[name] });
    else if (json(a[name]) !== json(b[name])) changes.push({ subject, kind: 'changed', state, name, before: a[name], after: b[name] });
  }
  for (const name of Object.keys(b)) if (!(name in a)) changes.push({ subject, kind: 'added', state, name, after: b[name] });
  return changes;
}

/** Structural differences between two versions of a definition, state by state. */
export function diffDefinitions(from: DefinitionDocument, to: DefinitionDocument): Change[] {
  const a = flatten(from.machine.states);
  const b = flatten(to.machine.states);
  const changes: Change[] = [];
  for (const [path, s] of a) {
    const t = b.get(path);
    if (!t) {
      changes.push({ subject: 'state', kind: 'removed', state: path });
      continue;
    }
    if (s.type !== t.type) changes.push({ subject: 'state', kind: 'changed', state: path, before: s.type, after: t.type });
    changes.push(...diffRecords('transition', s.on, t.on, path));
    if (json(s.task) !== json(t.task)) changes.push({ subject: 'task', kind: s.task === undefined ? 'added' : t.task === undefined ? 'removed' : 'changed', state: path, before: s.task, after: t.task });
    changes.push(...diffRecords('timer', s.timers, t.timers, path));
    changes.push(...diffRecords('reminder', s.reminders, t.reminders, path));
    changes.push(...diffRecords('escalation', s.escalations, t.escalations, path));
  }
  for (const path of b.keys()) if (!a.has(path)) changes.push({ subject: 'state', kind: 'added', state: path });
  changes.push(...diffRecords('transition', { ...(from.machine.on ?? {}) }, { ...(to.machine.on ?? {}) }, '(root)'));
  changes.push(...diffRecords('event', from.events ?? {}, to.events ?? {}));
  changes.push(...diffRecords('template', from.templates ?? {}, to.templates ?? {}));
  // Who may send each event: a rule added, removed or changed is a change running instances feel.
  changes.push(...diffRecords('access', from.access ?? {}, to.access ?? {}));
  if (json(from.startWindow) !== json(to.startWindow)) changes.push({ subject: 'start-window', kind: 'changed', before: from.startWindow, after: to.startWindow });
  if (json(from.schedule) !== json(to.schedule)) changes.push({ subject: 'schedule', kind: 'changed', before: from.schedule, after: to.schedule });
  if (json(from.input) !== json(to.input)) changes.push({ subject: 'input', kind: 'changed', before: from.input, after: to.input });
  // A renamed state or event changes what people read, not what runs; named "states.handling".
  const labels = (doc: DefinitionDocument) => Object.fromEntries(Object.entries(doc.labels ?? {}).flatMap(([block, names]) => Object.entries(names ?? {}).map(([code, name]) => [`${block}.${code}`, name])));
  changes.push(...diffRecords('label', labels(from), labels(to)));
  return changes;
}

/** Leaf state names of a document (what instances report as `state`), by dotted path. */
export function leafStates(doc: DefinitionDocument): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, s] of flatten(doc.machine.states)) if (s.leaf) out.set(path.split('.').at(-1) as string, path);
  return out;
}

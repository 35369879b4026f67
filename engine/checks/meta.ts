import { parseWorkingDays } from '../calendar';
import type { NoticeSpec, TimeSpec } from '../document.schema';
import { ROLES } from '../library';
import { parseClock, parseDuration } from '../time';
import { label, type CheckContext, type StateNode } from './context';
import { checkTemplateName } from './transitions';
import { list, suggest } from './words';

/** A state's meta: its task, its reminders and escalations, its timers, and the times they name. */

/** Whether the state has a task due time, which `before` and `of: due` count from; `due` is the due time itself. */
type DueKind = 'due' | 'has-due' | 'no-due';

const isRole = (role: string) => (ROLES as readonly string[]).includes(role);
const unknownRole = (role: string) => `unknown role "${role}"${suggest(role, ROLES)}; known: ${ROLES.join(', ')}`;

/** State by state, in document order: the task, then reminders, escalations and timers. */
export function checkStateMeta(ctx: CheckContext): void {
  for (const node of ctx.nodes) {
    if (!node.config.meta) continue;
    checkTask(ctx, node);
    checkNotices(ctx, node, 'reminders');
    checkNotices(ctx, node, 'escalations');
    checkTimers(ctx, node);
  }
}

/** A timer sends its event without data, so required fields would make the engine drop it. */
export function checkTimerEventData({ doc, nodes, error }: CheckContext): void {
  const timerEvents = new Map<string, string>();
  for (const node of nodes) {
    (node.config.meta?.timers ?? []).forEach((t, i) => timerEvents.set(t.send, `${node.docPath}.meta.timers.${i}.send`));
  }
  for (const [event, sendPath] of timerEvents) {
    const required = doc.events?.[event]?.required ?? [];
    if (required.length) {
      error(`events.${event}.required`, `event ${event} is sent by a timer (${sendPath}) without data, so required ${list(required)} can never be met and the timer would be dropped; remove required`);
    }
  }
}

const dueKind = (node: StateNode): DueKind => (node.config.meta?.task?.due !== undefined ? 'has-due' : 'no-due');

function checkTask(ctx: CheckContext, node: StateNode) {
  const task = node.config.meta?.task;
  if (!task) return;
  const base = `${node.docPath}.meta.task`;
  for (const [value, role] of Object.entries(task.roleBy?.values ?? {})) {
    if (!isRole(role)) ctx.error(`${base}.roleBy.values.${value}`, unknownRole(role));
  }
  if (!isRole(task.role)) ctx.error(`${base}.role`, unknownRole(task.role));
  if (task.due) checkWhen(ctx, task.due, `${base}.due`, node, 'due');
}

function checkNotices(ctx: CheckContext, node: StateNode, kind: 'reminders' | 'escalations') {
  const one = kind.slice(0, -1);
  const seen = new Set<string>();
  (node.config.meta?.[kind] ?? []).forEach((n: NoticeSpec, i) => {
    const path = `${node.docPath}.meta.${kind}.${i}`;
    if (seen.has(n.id)) ctx.error(`${path}.id`, `${one} id "${n.id}" is used twice in ${label(ctx, node)}; give each ${one} of a state its own id`);
    seen.add(n.id);
    checkWhen(ctx, n.when, `${path}.when`, node, dueKind(node));
    const to = Array.isArray(n.to) ? n.to.map((r, j) => [r, `${path}.to.${j}`]) : [[n.to, `${path}.to`]];
    for (const [role, rolePath] of to) {
      if (!isRole(role)) ctx.error(rolePath, unknownRole(role));
    }
    checkTemplateName(ctx, n.template, `${path}.template`);
    // The engine renders a reminder or escalation with context only: there is no event.
    const t = ctx.doc.templates?.[n.template];
    const eventRef = t && /\{\{\s*(event\.[^}\s]*)\s*\}\}/.exec(`${t.title} ${t.body}`)?.[1];
    if (eventRef) {
      ctx.warn(`${path}.template`, `template "${n.template}" reads ${eventRef}, but a ${one} has no event, so it renders empty; read context instead`);
    }
  });
}

/** Events handled in the node or an ancestor. */
function handledHere(node: StateNode): Set<string> {
  const out = new Set<string>();
  for (let n: StateNode | undefined = node; n; n = n.parent) for (const e of Object.keys(n.config.on ?? {})) out.add(e);
  return out;
}

function checkTimers(ctx: CheckContext, node: StateNode) {
  const seen = new Set<string>();
  (node.config.meta?.timers ?? []).forEach((t, i) => {
    const path = `${node.docPath}.meta.timers.${i}`;
    if (seen.has(t.id)) ctx.error(`${path}.id`, `timer id "${t.id}" is used twice in ${label(ctx, node)}; give each timer of a state its own id`);
    seen.add(t.id);
    checkWhen(ctx, t.when, `${path}.when`, node, dueKind(node));
    const handled = handledHere(node);
    if (handled.has(t.send)) return;
    const below = ctx.nodes.filter((n) => n.path.length > node.path.length && node.path.every((k, j) => n.path[j] === k) && n.config.on?.[t.send]);
    if (below.length) {
      ctx.warn(`${path}.send`, `timer "${t.id}" sends ${t.send}, which is handled only by ${list(below.map((n) => label(ctx, n)))}; in other child states it is dropped. Handle ${t.send} in ${label(ctx, node)} if it must always act`);
    } else {
      ctx.error(`${path}.send`, `timer "${t.id}" sends ${t.send}, but ${label(ctx, node)} does not handle it; add on.${t.send} to it or a parent state (it handles: ${list([...handled].sort())})`);
    }
  });
}

/** One time spec: exactly one of after/at/before, each parseable, and the due time it counts from exists. */
function checkWhen(ctx: CheckContext, spec: TimeSpec, path: string, node: StateNode, due: DueKind, nested = false) {
  const { error } = ctx;
  const given = (['after', 'at', 'before'] as const).filter((k) => spec[k] !== undefined);
  if (given.length > 1 || (given.length === 0 && spec.ref === undefined)) {
    const got = given.length ? `got ${given.join(' and ')}` : 'got none';
    error(path, `give exactly one of after, at, before (${got}), e.g. { after: "2h" } or { at: "18:00" }; with ref it is the fallback`);
  }
  const parse = (key: 'after' | 'at' | 'before', fn: (text: string) => number) => {
    const text = spec[key];
    if (text === undefined) return;
    try {
      fn(text);
    } catch (e) {
      error(`${path}.${key}`, (e as Error).message);
    }
  };
  parse('after', (t) => parseWorkingDays(t) ?? parseDuration(t));
  parse('at', parseClock);
  parse('before', (t) => {
    if (parseWorkingDays(t) !== undefined) throw new Error(`"${t}": working days count forward only; use hours or days with before, e.g. "1d"`);
    return parseDuration(t);
  });
  const needsDue = spec.before !== undefined ? '"before"' : spec.of === 'due' ? '"of: due"' : undefined;
  if (needsDue) {
    const key = spec.before !== undefined ? 'before' : 'of';
    if (due === 'due') error(`${path}.${key}`, `a task's due time can not be ${needsDue} itself; use after or at`);
    else if (due === 'no-due') error(`${path}.${key}`, `${needsDue} counts from the task's due time, but ${label(ctx, node)} has no meta.task.due; add one or use after or at`);
  }
  if (spec.of !== undefined && spec.after === undefined) error(`${path}.of`, '"of" only applies to "after"; remove it or use after: "1d"');
  for (const k of ['on', 'addDays', 'addWorkingDays'] as const) {
    if (spec[k] !== undefined && spec.at === undefined) error(`${path}.${k}`, `"${k}" only applies to "at"; remove it or use at: "HH:mm"`);
  }
  if (spec.urgent) {
    if (nested) error(`${path}.urgent`, '"urgent" can not be nested');
    else checkWhen(ctx, spec.urgent, `${path}.urgent`, node, due, true);
  }
  for (const [value, c] of Object.entries((spec as TimeSpec).cases?.values ?? {})) checkWhen(ctx, c, `${path}.cases.values.${value}`, node, due);
}

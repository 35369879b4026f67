import type { ZodType } from 'zod';
import type { ActionRef, GuardRef } from '../document.schema';
import { ACTION_TYPES, actionParams, GUARD_TYPES, guardParams } from '../library';
import { checkScoringRules } from '../scoring';
import { ancestry, type CheckContext, type StateNode, type Transition } from './context';
import { ENGINE_CONTEXT_KEYS } from './document';
import { allowedKeysAt, describeIssue, type Schema, type ZodIssue } from './schema-issues';
import { list, suggest } from './words';

/** Transitions and the library they reference: event names, targets, guards, actions and their params. */

const EVENT_FIELDS = ['type', 'data', 'at', 'actor', 'due'];
const REF = /^(event|context|instance|item)(\.[A-Za-z0-9_$-]+)*$/;
const EVENT_NAME = /^[A-Z][A-Z0-9_]*$/;

export function checkEventNames({ nodes, error }: CheckContext): void {
  for (const node of nodes) {
    for (const event of Object.keys(node.config.on ?? {})) {
      if (EVENT_NAME.test(event) || event.startsWith('xstate.')) continue;
      error(`${node.docPath}.on.${event}`, event === '*'
        ? 'wildcard transitions are not supported: they would accept any event a client sends; name each event'
        : `event name "${event}" is not valid: use SCREAMING_CASE, e.g. "${event.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'CHECK_IN'}"`);
    }
  }
}

/** Each transition in document order: its targets, then its guard, then its actions. */
export function checkTransitions(ctx: CheckContext): void {
  for (const t of ctx.transitions) {
    for (const target of t.targets) if (target.problem) ctx.error(target.path, target.problem);
    checkTargetsTogether(ctx, t);
    if (t.guard !== undefined) checkGuard(ctx, t.guard, `${t.path}.guard`, t.event);
    eachAction(t.actions, `${t.path}.actions`, (ref, path) => checkAction(ctx, ref, path, t.event));
  }
}

/** Entry and exit actions; they have no event, so they may not read event data. */
export function checkStateActions(ctx: CheckContext): void {
  for (const node of ctx.nodes) {
    eachAction(node.config.entry, `${node.docPath}.entry`, (ref, path) => checkAction(ctx, ref, path));
    eachAction(node.config.exit, `${node.docPath}.exit`, (ref, path) => checkAction(ctx, ref, path));
  }
}

/** An event the definition declares that no state handles is probably a typo. */
export function checkUnhandledEvents({ doc, nodes, warn }: CheckContext): void {
  const handledAnywhere = new Set(nodes.flatMap((n) => Object.keys(n.config.on ?? {})));
  for (const event of Object.keys(doc.events ?? {})) {
    if (!handledAnywhere.has(event)) {
      warn(`events.${event}`, `event ${event} is declared but no state handles it${suggest(event, [...handledAnywhere])}; handled events: ${list([...handledAnywhere].sort())}`);
    }
  }
}

/** Several targets are only valid in different regions of one parallel state. */
function checkTargetsTogether(ctx: CheckContext, t: Transition) {
  const resolved = t.targets.filter((x) => x.node);
  for (const [i, a] of resolved.entries()) {
    for (const b of resolved.slice(i + 1)) {
      const aChain = ancestry(a.node as StateNode);
      const bChain = ancestry(b.node as StateNode);
      const common = aChain.find((n) => bChain.includes(n));
      if (common === a.node || common === b.node || common?.kind !== 'parallel') {
        ctx.error(`${t.path}.target`, `targets "${a.value}" and "${b.value}" can not be active together: several targets must lie in different regions of one parallel state; give one target`);
        return;
      }
    }
  }
}

function eachAction(refs: ActionRef | ActionRef[] | undefined, path: string, visit: (ref: ActionRef, path: string) => void) {
  if (refs === undefined) return;
  if (Array.isArray(refs)) refs.forEach((r, i) => visit(r, `${path}.${i}`));
  else visit(refs, path);
}

/** `bare` is a reference by name only (`entry: notify`), which gives no params at all. */
function checkLibraryParams(ctx: CheckContext, kind: 'action' | 'guard', type: string, schema: ZodType, params: Record<string, unknown> | undefined, path: string, bare: boolean) {
  const result = schema.safeParse(params ?? {}, { reportInput: true });
  if (result.success) return;
  if (bare || params === undefined) {
    const keys = allowedKeysAt(schema as unknown as Schema, []) ?? [];
    ctx.error(bare ? path : `${path}.params`, `${kind} "${type}" needs params (${list(keys)}); write { type: ${type}, params: { ... } }`);
    return;
  }
  for (const issue of result.error.issues as unknown as ZodIssue[]) {
    // $ref paths get their own, more specific check (checkRefs).
    if (issue.code === 'invalid_format' && issue.path[issue.path.length - 1] === '$ref') continue;
    ctx.errors.push(...describeIssue(issue, [`${path}.params`], schema as unknown as Schema));
  }
}

function checkGuard(ctx: CheckContext, ref: GuardRef, path: string, event?: string) {
  const type = typeof ref === 'string' ? ref : ref.type;
  if (!(GUARD_TYPES as string[]).includes(type)) {
    ctx.error(typeof ref === 'string' ? path : `${path}.type`, `unknown guard "${type}"; known: ${GUARD_TYPES.join(', ')}${suggest(type, GUARD_TYPES)}`);
    return;
  }
  const params = typeof ref === 'string' ? undefined : ref.params;
  checkLibraryParams(ctx, 'guard', type, (guardParams as Record<string, ZodType>)[type], params, path, typeof ref === 'string');
  if (params) {
    checkRefs(ctx, params, `${path}.params`, event);
    if ((type === 'exists' || type === 'missing') && typeof params.ref === 'string') checkRef(ctx, params.ref, `${path}.params.ref`, event);
  }
}

function checkAction(ctx: CheckContext, ref: ActionRef, path: string, event?: string) {
  const { error } = ctx;
  const type = typeof ref === 'string' ? ref : ref.type;
  if (!(ACTION_TYPES as string[]).includes(type)) {
    error(typeof ref === 'string' ? path : `${path}.type`, `unknown action "${type}"; known: ${ACTION_TYPES.join(', ')}${suggest(type, ACTION_TYPES)}`);
    return;
  }
  const params = typeof ref === 'string' ? undefined : ref.params;
  checkLibraryParams(ctx, 'action', type, (actionParams as Record<string, ZodType>)[type], params, path, typeof ref === 'string');
  if (!params) return;
  checkRefs(ctx, params, `${path}.params`, event);
  if (type === 'notify' && typeof params.template === 'string') checkTemplateName(ctx, params.template, `${path}.params.template`);
  const fetched = params.params as Record<string, unknown> | undefined;
  if (type === 'fetch' && params.provider === 'monthly-scores' && fetched?.rules !== undefined) {
    for (const e of checkScoringRules(fetched.rules).errors) error(`${path}.params.params.rules${e.path ? `.${e.path}` : ''}`, e.message);
  }
  if (type === 'assign') {
    for (const op of ['set', 'increment', 'append']) {
      const fields = params[op];
      if (!fields || typeof fields !== 'object') continue;
      for (const key of Object.keys(fields)) {
        if (ENGINE_CONTEXT_KEYS.includes(key)) {
          error(`${path}.params.${op}.${key}`, `context key "${key}" is set by the engine (${ENGINE_CONTEXT_KEYS.join(', ')}) and may not be assigned; use another name`);
        }
      }
    }
  }
}

/** A template a notify, reminder or escalation names must be defined under templates. */
export function checkTemplateName(ctx: CheckContext, name: string, path: string): void {
  if (!ctx.templates.includes(name)) {
    ctx.error(path, `template "${name}" is not defined${suggest(name, ctx.templates)}; defined: ${list(ctx.templates)} (add it under templates)`);
  }
}

/** Every `{ $ref }` inside params. */
function checkRefs(ctx: CheckContext, value: unknown, path: string, event?: string) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkRefs(ctx, v, `${path}.${i}`, event));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') checkRef(ctx, v, `${path}.$ref`, event);
      else checkRefs(ctx, v, `${path}.${k}`, event);
    }
  }
}

function checkRef(ctx: CheckContext, ref: string, path: string, event?: string) {
  const { error } = ctx;
  if (!REF.test(ref)) {
    error(path, `reference "${ref}" must be a dotted path starting with event., context., instance. or item. (inside forEach), e.g. "context.checkIns" or "event.data.site"`);
    return;
  }
  const [scope, field, dataField] = ref.split('.');
  if (scope !== 'event' || field === undefined) return;
  if (!EVENT_FIELDS.includes(field)) {
    error(path, `reference "${ref}" reads nothing: an event has ${EVENT_FIELDS.join(', ')}; did you mean "event.data.${ref.split('.').slice(1).join('.')}"?`);
    return;
  }
  const properties = event ? ctx.doc.events?.[event]?.properties : undefined;
  if (field === 'data' && dataField !== undefined && properties && !(dataField in properties)) {
    const declared = Object.keys(properties);
    error(path, `event ${event} has no data field "${dataField}"${suggest(dataField, declared)}; declared: ${list(declared)}`);
  }
}

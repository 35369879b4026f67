import { LineCounter, parseDocument } from 'yaml';
import type { ZodType } from 'zod';
import { compileDefinition } from './compile';
import {
  definitionDocument,
  type ActionRef,
  type DefinitionDocument,
  type GuardRef,
  type NoticeSpec,
  type StateConfig,
  type TimeSpec,
  type TransitionConfig,
} from './document.schema';
import { ACTION_TYPES, actionParams, GUARD_TYPES, guardParams, ROLES } from './library';
import { parseWorkingDays } from './calendar';
import { parseClock, parseDuration, ZONE_OFFSETS } from './time';
import { checkScoringRules } from './scoring';
import { zeroDelayTimerCycles } from './timer-cycles';
import { checkScheduleFanOut } from './schedule-fanout';
import { checkLabels } from './labels';

/**
 * Checks a definition document before it is published: its shape (the zod schema), then what the
 * schema can not see (targets, reachability, library references, times, templates). Every issue
 * has a dotted path into the document and a message that says what is wrong and what would do.
 */

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  document?: DefinitionDocument;
}

/** Parses YAML or JSON text and validates it. YAML syntax errors come back as an error with path "$" and the line/column in the message. */
export function validateText(text: string): ValidationResult {
  const lines = new LineCounter();
  const parsed = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (parsed.errors.length) {
    const errors = parsed.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { path: '$', message: `YAML syntax error at line ${line}, column ${col}: ${e.message}; write valid YAML (or JSON)` };
    });
    return { valid: false, errors, warnings: [] };
  }
  let value: unknown;
  try {
    value = parsed.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { valid: false, errors: [{ path: '$', message: `YAML can not be read: ${(e as Error).message}; define anchors before their aliases` }], warnings: [] };
  }
  return validateDocument(value);
}

/** Validates an already-parsed value. */
export function validateDocument(value: unknown): ValidationResult {
  const parsed = definitionDocument.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const errors = (parsed.error.issues as unknown as ZodIssue[]).flatMap((i) => describeIssue(i, [], SCHEMA_ROOT));
    return { valid: false, errors, warnings: [] };
  }
  const { errors, warnings } = checkSemantics(parsed.data);
  return errors.length ? { valid: false, errors, warnings } : { valid: true, errors, warnings, document: parsed.data };
}

// ---------------------------------------------------------------------------------------------
// Schema issues: zod issues turned into messages that name the value and what would be valid.

type Key = string | number;

interface ZodIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  keys?: string[];
  values?: unknown[];
  expected?: string;
  errors?: ZodIssue[][];
  issues?: ZodIssue[];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  format?: string;
  pattern?: string;
}

/** Just enough of zod's internal definition objects to find the keys an object allows. */
interface SchemaDef {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  getter?: () => Schema;
  valueType?: Schema;
  element?: Schema;
  options?: Schema[];
  in?: Schema;
}
interface Schema {
  _zod: { def: SchemaDef };
}
const SCHEMA_ROOT = definitionDocument as unknown as Schema;

function unwrap(schema: Schema): Schema {
  let cur = schema;
  for (let i = 0; i < 20; i++) {
    const def = cur._zod.def;
    if ((def.type === 'optional' || def.type === 'nullable' || def.type === 'default') && def.innerType) cur = def.innerType;
    else if (def.type === 'lazy' && def.getter) cur = def.getter();
    else if (def.type === 'pipe' && def.in) cur = def.in;
    else break;
  }
  return cur;
}

/** The keys the object schema at `path` allows, when the path leads to one. */
function allowedKeysAt(schema: Schema, path: Key[]): string[] | undefined {
  const s = unwrap(schema);
  const def = s._zod.def;
  if (def.type === 'union') {
    for (const option of def.options ?? []) {
      const keys = allowedKeysAt(option, path);
      if (keys) return keys;
    }
    return undefined;
  }
  if (path.length === 0) return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
  const [head, ...rest] = path;
  if (def.type === 'object' && def.shape && typeof head === 'string' && def.shape[head]) return allowedKeysAt(def.shape[head], rest);
  if (def.type === 'record' && def.valueType) return allowedKeysAt(def.valueType, rest);
  if (def.type === 'array' && def.element && typeof head === 'number') return allowedKeysAt(def.element, rest);
  return undefined;
}

const KEY_ADVICE: Record<string, string> = {
  after: 'use meta.timers instead of after (the engine does not run XState delays; timers are durable)',
  invoke: 'invoke is not supported; use startProcess to start another process',
};

function pathText(path: Key[]): string {
  return path.length ? path.join('.') : '$';
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
  null: 'null',
};
const typeWord = (t: string) => TYPE_WORDS[t] ?? t;

/** Issues whose only complaint is the value's type at the union's own position. */
function isTypeMismatch(branch: ZodIssue[]): boolean {
  return branch.every(
    (i) => i.path.length === 0 && (i.code === 'invalid_type' || (i.code === 'invalid_union' && (i.errors ?? []).every(isTypeMismatch))),
  );
}

function expectedTypes(branches: ZodIssue[][]): string[] {
  const out = new Set<string>();
  for (const branch of branches) {
    for (const i of branch) {
      if (i.code === 'invalid_type' && i.expected) out.add(typeWord(i.expected));
      if (i.code === 'invalid_union') for (const t of expectedTypes(i.errors ?? [])) out.add(t);
    }
  }
  return [...out];
}

const depth = (branch: ZodIssue[]) => Math.max(0, ...branch.map((i) => i.path.length));

/**
 * Describes an issue of schema `root`, whose value sits at `prefix` in the document; `rel` is the
 * position within `root` of a union whose branch reported the issue. A failed union is described
 * by the branch that got furthest, not by "Invalid input".
 */
function describeIssue(issue: ZodIssue, prefix: Key[], root: Schema, rel: Key[] = []): ValidationIssue[] {
  const relPath: Key[] = [...rel, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  const path: Key[] = [...prefix, ...relPath];
  const at = pathText(path);
  switch (issue.code) {
    case 'invalid_union': {
      const branches = issue.errors ?? [];
      const informative = branches.filter((b) => !isTypeMismatch(b));
      if (!informative.length) {
        return [{ path: at, message: `expected ${either(expectedTypes(branches))}, got ${describe(issue.input)}` }];
      }
      const best = informative.reduce((a, b) => (depth(b) > depth(a) || (depth(b) === depth(a) && b.length < a.length) ? b : a));
      return best.flatMap((i) => describeIssue(i, prefix, root, relPath));
    }
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(root, relPath);
      return (issue.keys ?? []).map((key) => ({
        path: at,
        message: KEY_ADVICE[key]
          ? `unknown key "${key}": ${KEY_ADVICE[key]}`
          : `unknown key "${key}"${suggest(key, allowed ?? [])}${allowed ? `; allowed: ${allowed.join(', ')}` : ''}`,
      }));
    }
    case 'invalid_type': {
      const expected = typeWord(issue.expected ?? 'a value');
      if (path.length === 0 && root === SCHEMA_ROOT) {
        return [{ path: at, message: `expected a definition document (an object with key, title and machine), got ${describe(issue.input)}` }];
      }
      if (issue.input === undefined) return [{ path: at, message: `"${path[path.length - 1]}" is required: give ${expected}` }];
      return [{ path: at, message: `expected ${expected}, got ${describe(issue.input)}` }];
    }
    case 'invalid_value':
      return [{ path: at, message: `${describe(issue.input)} is not allowed; use one of: ${(issue.values ?? []).map(String).join(', ')}` }];
    case 'invalid_format': {
      const custom = !/^Invalid/.test(issue.message);
      return [{ path: at, message: `${describe(issue.input)} is not valid: ${custom ? issue.message : `it must match ${issue.pattern ?? issue.format}`}` }];
    }
    case 'invalid_key': {
      const parent = path[path.length - 2];
      const what = parent === 'states' ? 'state name' : parent === 'events' ? 'event name' : 'key';
      const why = (issue.issues ?? []).map((i) => (/^Invalid/.test(i.message) && i.pattern ? `it must match ${i.pattern}` : i.message));
      return [{ path: at, message: `${what} "${String(issue.input ?? path[path.length - 1])}" is not valid: ${why.join('; ') || issue.message}` }];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const n = Number(small ? issue.minimum : issue.maximum);
      const bound = small ? 'at least' : 'at most';
      let message: string;
      if (issue.origin === 'string') message = small && n === 1 ? 'must not be empty' : `needs ${bound} ${n} characters`;
      else if (issue.origin === 'array') message = small && n === 1 ? 'must not be an empty list' : `needs ${bound} ${n} items`;
      else message = `must be ${bound} ${n}`;
      return [{ path: at, message: `${message}, got ${describe(issue.input)}` }];
    }
    default:
      return [{ path: at, message: issue.message }];
  }
}

/** Edit distance counting a swap of two neighbours as one edit ("titel" is one from "title"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** ` (did you mean "notify"?)` when one option is a near miss of `word`. */
function suggest(word: string, options: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3));
  for (const option of options) {
    const d = distance(word.toLowerCase(), option.toLowerCase());
    if (d <= bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return best !== undefined && best !== word ? ` (did you mean "${best}"?)` : '';
}

const list = (items: Iterable<string>) => [...items].join(', ') || 'none';
const either = (items: string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : items[0] ?? 'a value');

// ---------------------------------------------------------------------------------------------
// Semantic checks on a document that has the right shape.

interface StateNode {
  key: string;
  /** State keys from the root: `['open', 'assigned']`; empty for the machine itself. */
  path: string[];
  docPath: string;
  config: StateConfig;
  parent?: StateNode;
  children: Map<string, StateNode>;
  /** The XState id: the configured `id`, else the machine id and the path joined by ".". */
  id: string;
  kind: 'root' | 'atomic' | 'compound' | 'parallel' | 'final';
}

interface Transition {
  source: StateNode;
  /** The event, or undefined for `always`. */
  event?: string;
  path: string;
  targets: { value: string; path: string; node?: StateNode }[];
  guard?: GuardRef;
  actions: ActionRef | ActionRef[] | undefined;
  reenter: boolean;
}

const ENGINE_CONTEXT_KEYS = ['input', 'grid', 'day', 'businessKey'];
const EVENT_FIELDS = ['type', 'data', 'at', 'actor', 'due'];
const REF = /^(event|context|instance|item)(\.[A-Za-z0-9_$-]+)*$/;
const TEMPLATE_PATH = /^(context|event|instance|late)(\.[A-Za-z0-9_$-]+)+$/;
const EVENT_NAME = /^[A-Z][A-Z0-9_]*$/;

function checkSemantics(doc: DefinitionDocument): { errors: ValidationIssue[]; warnings: ValidationIssue[] } {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const error = (path: string, message: string) => errors.push({ path, message });
  const warn = (path: string, message: string) => warnings.push({ path, message });
  const templates = Object.keys(doc.templates ?? {});
  const machineId = doc.machine.id;

  // --- Document level -------------------------------------------------------------------------
  if (doc.timezone !== undefined && ZONE_OFFSETS[doc.timezone] === undefined) {
    error('timezone', `unknown time zone "${doc.timezone}"; known: ${list(Object.keys(ZONE_OFFSETS))}`);
  }
  if (doc.schedule?.timezone !== undefined && ZONE_OFFSETS[doc.schedule.timezone] === undefined) {
    error('schedule.timezone', `unknown time zone "${doc.schedule.timezone}"; known: ${list(Object.keys(ZONE_OFFSETS))}`);
  }
  if (doc.input && doc.input.type !== 'object') {
    error('input.type', `input must be type: object (got ${doc.input.type}); describe its fields under properties`);
  }
  for (const [name, schema] of Object.entries(doc.events ?? {})) {
    if (schema.type !== 'object') {
      error(`events.${name}.type`, `event data must be type: object (got ${schema.type}); describe its fields under properties`);
    }
  }
  if (doc.businessKey !== undefined) checkBusinessKey(doc, error, warn);
  if (doc.access !== undefined) checkAccessBlock(doc, error, warn);
  if (doc.evidence !== undefined) checkEvidenceBlock(doc, error);
  for (const issue of checkScheduleFanOut(doc)) error(issue.path, issue.message);
  checkLabels(doc, error, warn);
  for (const key of Object.keys(doc.machine.context ?? {})) {
    if (ENGINE_CONTEXT_KEYS.includes(key)) {
      error(`machine.context.${key}`, `context key "${key}" is set by the engine when an instance starts (${ENGINE_CONTEXT_KEYS.join(', ')}); use another name`);
    }
  }
  for (const [name, t] of Object.entries(doc.templates ?? {})) {
    for (const field of ['title', 'body'] as const) {
      for (const m of t[field].matchAll(/\{\{(.*?)\}\}/g)) {
        const inner = m[1].trim();
        if (!TEMPLATE_PATH.test(inner)) {
          warn(`templates.${name}.${field}`, `placeholder "${m[0]}" renders nothing: a placeholder is a path starting with context., event., instance. or late. (in reminders and escalations: late.task, late.for, late.due), e.g. "{{context.grid}}"`);
        }
      }
    }
  }

  // --- The state tree -------------------------------------------------------------------------
  const nodes: StateNode[] = [];
  const ids = new Map<string, StateNode>();
  const ancestry = (node: StateNode) => {
    const chain: StateNode[] = [];
    for (let n: StateNode | undefined = node; n; n = n.parent) chain.push(n);
    return chain;
  };
  const label = (n: StateNode) => (n.path.length ? `state "${n.path.join('.')}"` : `machine "${machineId}"`);

  function build(key: string, config: StateConfig, docPath: string, parent?: StateNode): StateNode {
    const path = parent ? [...parent.path, key] : [];
    const hasChildren = Object.keys(config.states ?? {}).length > 0;
    const kind: StateNode['kind'] = !parent ? 'root' : config.type ?? (hasChildren ? 'compound' : 'atomic');
    const id = parent ? config.id ?? [machineId, ...path].join('.') : machineId;
    const node: StateNode = { key, path, docPath, config, parent, children: new Map(), id, kind };
    nodes.push(node);
    const clash = ids.get(id);
    if (clash) error(`${docPath}.id`, `id "${id}" is already the id of ${label(clash)}; ids must be unique`);
    else ids.set(id, node);
    if (parent && config.id !== undefined && config.id.includes('.')) {
      error(`${docPath}.id`, `id "${config.id}" contains "."; a target "#${config.id}" would be read as a path, so use e.g. "${config.id.replace(/\./g, '-')}"`);
    }
    for (const [childKey, child] of Object.entries(config.states ?? {})) {
      node.children.set(childKey, build(childKey, child, `${docPath}.states.${childKey}`, node));
    }
    return node;
  }
  const root = build('', doc.machine as StateConfig, 'machine');

  let structureErrors = 0;
  const structureError = (path: string, message: string) => {
    structureErrors++;
    error(path, message);
  };
  for (const node of nodes) {
    const { config, docPath } = node;
    const children = [...node.children.keys()];
    const meta = config.meta ?? {};
    if (node.kind === 'root' || node.kind === 'compound') {
      if (!children.length) {
        structureError(docPath, `${label(node)} is compound but has no states; add states or make it type: atomic`);
      } else if (config.initial === undefined) {
        structureError(docPath, `${label(node)} has child states but no initial; add initial: one of ${list(children)}`);
      } else if (!node.children.has(config.initial)) {
        structureError(`${docPath}.initial`, `initial "${config.initial}" is not a child of ${label(node)}${suggest(config.initial, children)}; children: ${list(children)}`);
      }
    }
    if (node.kind === 'parallel') {
      if (!children.length) structureError(docPath, `${label(node)} is parallel but has no states; add its regions under states`);
      if (config.initial !== undefined) structureError(`${docPath}.initial`, `${label(node)} is parallel and enters all its children; remove initial`);
    }
    if (node.kind === 'atomic') {
      if (children.length) structureError(`${docPath}.type`, `${label(node)} is type: atomic but has states; remove type or the states`);
      if (config.initial !== undefined) structureError(`${docPath}.initial`, `${label(node)} has no child states, so initial "${config.initial}" names nothing; remove it`);
    }
    if (node.kind === 'final') {
      const what = 'a final state ends, so it waits for nothing';
      if (config.states) structureError(`${docPath}.states`, `${label(node)} is type: final and may not have states; ${what}: remove them or make it compound`);
      if (config.initial !== undefined) structureError(`${docPath}.initial`, `${label(node)} is type: final and may not have initial; remove it`);
      if (config.on) error(`${docPath}.on`, `${label(node)} is type: final and may not have on; ${what}: remove on or make it a waiting state`);
      if (config.always) error(`${docPath}.always`, `${label(node)} is type: final and may not have always; ${what}: remove always`);
      for (const k of ['task', 'timers', 'reminders', 'escalations'] as const) {
        if (meta[k]) error(`${docPath}.meta.${k}`, `${label(node)} is type: final and may not have meta.${k}; ${what}: move it to a state before`);
      }
    }
  }

  // --- Transitions ----------------------------------------------------------------------------
  const transitions: Transition[] = [];
  function collect(source: StateNode, config: TransitionConfig, path: string, event?: string) {
    if (Array.isArray(config)) {
      config.forEach((t, i) => collect(source, t, `${path}.${i}`, event));
      return;
    }
    if (typeof config === 'string') {
      transitions.push({ source, event, path, targets: [{ value: config, path }], actions: undefined, reenter: false });
      return;
    }
    const targets = config.target === undefined ? [] : Array.isArray(config.target)
      ? config.target.map((value, i) => ({ value, path: `${path}.target.${i}` }))
      : [{ value: config.target, path: `${path}.target` }];
    transitions.push({ source, event, path, targets, guard: config.guard, actions: config.actions, reenter: config.reenter ?? false });
  }
  for (const node of nodes) {
    for (const [event, config] of Object.entries(node.config.on ?? {})) {
      const path = `${node.docPath}.on.${event}`;
      if (!EVENT_NAME.test(event) && !event.startsWith('xstate.')) {
        error(path, event === '*'
          ? 'wildcard transitions are not supported: they would accept any event a client sends; name each event'
          : `event name "${event}" is not valid: use SCREAMING_CASE, e.g. "${event.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'CHECK_IN'}"`);
      }
      collect(node, config, path, event);
    }
    if (node.config.always) collect(node, node.config.always, `${node.docPath}.always`);
  }

  function resolveTarget(source: StateNode, target: string): { node?: StateNode; problem?: string } {
    const forms = `a target is a sibling ("name"), a child (".name") or an id path ("#${machineId}.path")`;
    if (target === '') return { problem: `empty target; ${forms}` };
    let start: StateNode;
    let segments: string[];
    if (target.startsWith('#')) {
      const [id, ...rest] = target.slice(1).split('.');
      const byId = ids.get(id);
      if (!byId) {
        const usable = [...ids.keys()].filter((k) => !k.includes('.'));
        return { problem: `target "${target}" names no state: no state has id "${id}"${suggest(id, usable)}; ids: ${list(usable)}` };
      }
      start = byId;
      segments = rest;
    } else if (target.startsWith('.')) {
      start = source;
      segments = target.slice(1).split('.');
    } else if (!source.parent) {
      return { problem: `target "${target}" is not valid in the machine's own transitions, which have no siblings; use ".${target}" or "#${machineId}.${target}"` };
    } else {
      start = source.parent;
      segments = target.split('.');
    }
    let cur = start;
    for (const [i, seg] of segments.entries()) {
      // XState stops at an empty segment, so "#id." means the node itself.
      if (!seg) break;
      const next = cur.children.get(seg);
      if (!next) {
        const options = [...cur.children.keys()];
        const where = i === 0 && !target.startsWith('#') && !target.startsWith('.')
          ? `there is no state "${seg}" next to "${source.key}"; siblings: ${list(options)}`
          : `${label(cur)} has no child "${seg}"; children: ${list(options)}`;
        return { problem: `unknown target "${target}": ${where}${suggest(seg, options)}; ${forms}` };
      }
      cur = next;
    }
    return { node: cur };
  }

  let targetErrors = 0;
  for (const t of transitions) {
    for (const target of t.targets) {
      const { node, problem } = resolveTarget(t.source, target.value);
      if (problem) {
        targetErrors++;
        error(target.path, problem);
      }
      target.node = node;
    }
    checkTargetsTogether(t);
    if (t.guard !== undefined) checkGuard(t.guard, `${t.path}.guard`, t.event);
    eachAction(t.actions, `${t.path}.actions`, (ref, path) => checkAction(ref, path, t.event));
  }
  for (const node of nodes) {
    eachAction(node.config.entry, `${node.docPath}.entry`, (ref, path) => checkAction(ref, path));
    eachAction(node.config.exit, `${node.docPath}.exit`, (ref, path) => checkAction(ref, path));
  }

  /** Several targets are only valid in different regions of one parallel state. */
  function checkTargetsTogether(t: Transition) {
    const resolved = t.targets.filter((x) => x.node);
    for (const [i, a] of resolved.entries()) {
      for (const b of resolved.slice(i + 1)) {
        const aChain = ancestry(a.node as StateNode);
        const bChain = ancestry(b.node as StateNode);
        const common = aChain.find((n) => bChain.includes(n));
        if (common === a.node || common === b.node || common?.kind !== 'parallel') {
          error(`${t.path}.target`, `targets "${a.value}" and "${b.value}" can not be active together: several targets must lie in different regions of one parallel state; give one target`);
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
  function checkLibraryParams(kind: 'action' | 'guard', type: string, schema: ZodType, params: Record<string, unknown> | undefined, path: string, bare: boolean) {
    const result = schema.safeParse(params ?? {}, { reportInput: true });
    if (result.success) return;
    if (bare || params === undefined) {
      const keys = allowedKeysAt(schema as unknown as Schema, []) ?? [];
      error(bare ? path : `${path}.params`, `${kind} "${type}" needs params (${list(keys)}); write { type: ${type}, params: { ... } }`);
      return;
    }
    for (const issue of result.error.issues as unknown as ZodIssue[]) {
      // $ref paths get their own, more specific check (checkRefs).
      if (issue.code === 'invalid_format' && issue.path[issue.path.length - 1] === '$ref') continue;
      errors.push(...describeIssue(issue, [`${path}.params`], schema as unknown as Schema));
    }
  }

  function checkGuard(ref: GuardRef, path: string, event?: string) {
    const type = typeof ref === 'string' ? ref : ref.type;
    if (!(GUARD_TYPES as string[]).includes(type)) {
      error(typeof ref === 'string' ? path : `${path}.type`, `unknown guard "${type}"; known: ${GUARD_TYPES.join(', ')}${suggest(type, GUARD_TYPES)}`);
      return;
    }
    const params = typeof ref === 'string' ? undefined : ref.params;
    checkLibraryParams('guard', type, (guardParams as Record<string, ZodType>)[type], params, path, typeof ref === 'string');
    if (params) {
      checkRefs(params, `${path}.params`, event);
      if ((type === 'exists' || type === 'missing') && typeof params.ref === 'string') checkRef(params.ref, `${path}.params.ref`, event);
    }
  }

  function checkAction(ref: ActionRef, path: string, event?: string) {
    const type = typeof ref === 'string' ? ref : ref.type;
    if (!(ACTION_TYPES as string[]).includes(type)) {
      error(typeof ref === 'string' ? path : `${path}.type`, `unknown action "${type}"; known: ${ACTION_TYPES.join(', ')}${suggest(type, ACTION_TYPES)}`);
      return;
    }
    const params = typeof ref === 'string' ? undefined : ref.params;
    checkLibraryParams('action', type, (actionParams as Record<string, ZodType>)[type], params, path, typeof ref === 'string');
    if (!params) return;
    checkRefs(params, `${path}.params`, event);
    if (type === 'notify' && typeof params.template === 'string') checkTemplate(params.template, `${path}.params.template`);
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

  function checkTemplate(name: string, path: string) {
    if (!templates.includes(name)) {
      error(path, `template "${name}" is not defined${suggest(name, templates)}; defined: ${list(templates)} (add it under templates)`);
    }
  }

  /** Every `{ $ref }` inside params. */
  function checkRefs(value: unknown, path: string, event?: string) {
    if (Array.isArray(value)) {
      value.forEach((v, i) => checkRefs(v, `${path}.${i}`, event));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === '$ref' && typeof v === 'string') checkRef(v, `${path}.$ref`, event);
        else checkRefs(v, `${path}.${k}`, event);
      }
    }
  }

  function checkRef(ref: string, path: string, event?: string) {
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
    const properties = event ? doc.events?.[event]?.properties : undefined;
    if (field === 'data' && dataField !== undefined && properties && !(dataField in properties)) {
      const declared = Object.keys(properties);
      error(path, `event ${event} has no data field "${dataField}"${suggest(dataField, declared)}; declared: ${list(declared)}`);
    }
  }

  // --- Meta: tasks, reminders, escalations, timers --------------------------------------------
  const handledHere = (node: StateNode) => {
    const out = new Set<string>();
    for (let n: StateNode | undefined = node; n; n = n.parent) for (const e of Object.keys(n.config.on ?? {})) out.add(e);
    return out;
  };
  const timerEvents = new Map<string, string>();
  for (const node of nodes) {
    const meta = node.config.meta;
    if (!meta) continue;
    const base = `${node.docPath}.meta`;
    const hasDue = meta.task?.due !== undefined;
    if (meta.task) {
      for (const [value, role] of Object.entries(meta.task.roleBy?.values ?? {})) {
        if (!(ROLES as readonly string[]).includes(role)) error(`${base}.task.roleBy.values.${value}`, `unknown role "${role}"${suggest(role, ROLES)}; known: ${ROLES.join(', ')}`);
      }
      if (!(ROLES as readonly string[]).includes(meta.task.role)) {
        error(`${base}.task.role`, `unknown role "${meta.task.role}"${suggest(meta.task.role, ROLES)}; known: ${ROLES.join(', ')}`);
      }
      if (meta.task.due) checkWhen(meta.task.due, `${base}.task.due`, node, 'due');
    }
    for (const kind of ['reminders', 'escalations'] as const) {
      const seen = new Set<string>();
      (meta[kind] ?? []).forEach((n: NoticeSpec, i) => {
        const path = `${base}.${kind}.${i}`;
        if (seen.has(n.id)) error(`${path}.id`, `${kind.slice(0, -1)} id "${n.id}" is used twice in ${label(node)}; give each ${kind.slice(0, -1)} of a state its own id`);
        seen.add(n.id);
        checkWhen(n.when, `${path}.when`, node, hasDue ? 'has-due' : 'no-due');
        const to = Array.isArray(n.to) ? n.to.map((r, j) => [r, `${path}.to.${j}`]) : [[n.to, `${path}.to`]];
        for (const [role, rolePath] of to) {
          if (!(ROLES as readonly string[]).includes(role)) error(rolePath, `unknown role "${role}"${suggest(role, ROLES)}; known: ${ROLES.join(', ')}`);
        }
        checkTemplate(n.template, `${path}.template`);
        // The engine renders a reminder or escalation with context only: there is no event.
        const t = doc.templates?.[n.template];
        const eventRef = t && /\{\{\s*(event\.[^}\s]*)\s*\}\}/.exec(`${t.title} ${t.body}`)?.[1];
        if (eventRef) {
          warn(`${path}.template`, `template "${n.template}" reads ${eventRef}, but a ${kind.slice(0, -1)} has no event, so it renders empty; read context instead`);
        }
      });
    }
    const seen = new Set<string>();
    (meta.timers ?? []).forEach((t, i) => {
      const path = `${base}.timers.${i}`;
      if (seen.has(t.id)) error(`${path}.id`, `timer id "${t.id}" is used twice in ${label(node)}; give each timer of a state its own id`);
      seen.add(t.id);
      checkWhen(t.when, `${path}.when`, node, hasDue ? 'has-due' : 'no-due');
      timerEvents.set(t.send, `${path}.send`);
      const handled = handledHere(node);
      if (handled.has(t.send)) return;
      const below = nodes.filter((n) => n.path.length > node.path.length && node.path.every((k, j) => n.path[j] === k) && n.config.on?.[t.send]);
      if (below.length) {
        warn(`${path}.send`, `timer "${t.id}" sends ${t.send}, which is handled only by ${list(below.map(label))}; in other child states it is dropped. Handle ${t.send} in ${label(node)} if it must always act`);
      } else {
        error(`${path}.send`, `timer "${t.id}" sends ${t.send}, but ${label(node)} does not handle it; add on.${t.send} to it or a parent state (it handles: ${list([...handled].sort())})`);
      }
    });
  }
  // A timer sends its event without data, so required fields would make the engine drop it.
  for (const [event, sendPath] of timerEvents) {
    const required = doc.events?.[event]?.required ?? [];
    if (required.length) {
      error(`events.${event}.required`, `event ${event} is sent by a timer (${sendPath}) without data, so required ${list(required)} can never be met and the timer would be dropped; remove required`);
    }
  }

  function checkWhen(spec: TimeSpec, path: string, node: StateNode, due: 'due' | 'has-due' | 'no-due', nested = false) {
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
      else if (due === 'no-due') error(`${path}.${key}`, `${needsDue} counts from the task's due time, but ${label(node)} has no meta.task.due; add one or use after or at`);
    }
    if (spec.of !== undefined && spec.after === undefined) error(`${path}.of`, '"of" only applies to "after"; remove it or use after: "1d"');
    for (const k of ['on', 'addDays', 'addWorkingDays'] as const) {
      if (spec[k] !== undefined && spec.at === undefined) error(`${path}.${k}`, `"${k}" only applies to "at"; remove it or use at: "HH:mm"`);
    }
    if (spec.urgent) {
      if (nested) error(`${path}.urgent`, '"urgent" can not be nested');
      else checkWhen(spec.urgent, `${path}.urgent`, node, due, true);
    }
    for (const [value, c] of Object.entries((spec as TimeSpec).cases?.values ?? {})) checkWhen(c, `${path}.cases.values.${value}`, node, due);
  }

  // --- Events nobody handles --------------------------------------------------------------------
  const handledAnywhere = new Set(nodes.flatMap((n) => Object.keys(n.config.on ?? {})));
  for (const event of Object.keys(doc.events ?? {})) {
    if (!handledAnywhere.has(event)) {
      warn(`events.${event}`, `event ${event} is declared but no state handles it${suggest(event, [...handledAnywhere])}; handled events: ${list([...handledAnywhere].sort())}`);
    }
  }

  // --- Ways out, waiting states and eventless loops -------------------------------------------
  const transitionsOf = new Map<StateNode, Transition[]>(nodes.map((n) => [n, transitions.filter((t) => t.source === n)]));
  const leavesBy = (chain: StateNode[]) => chain.some((n) => (transitionsOf.get(n) ?? []).some((t) => t.targets.length > 0) || (n.config.meta?.timers?.length ?? 0) > 0);

  for (const node of nodes) {
    const chain = ancestry(node);
    if (node.kind === 'atomic') {
      if (!leavesBy(chain)) {
        const onlyActions = chain.some((n) => (transitionsOf.get(n) ?? []).length > 0);
        error(node.docPath, `${label(node)} has no way out: add a transition, a timer, or make it type: final${onlyActions ? ' (its transitions have no target)' : ''}`);
      } else if (!node.config.always && !chain.some((n) => n.config.meta?.timers?.length || n.config.meta?.task)) {
        warn(node.docPath, `nothing moves ${label(node)} by itself: add a task with due or a timer`);
      }
    }
    if (node.kind === 'final' && node.parent && node.parent.kind !== 'root' && !leavesBy(chain.slice(1))) {
      error(node.docPath, `${label(node)} is final only within ${label(node.parent)}, and nothing leads out of it, so the process would never end; move it to the top level or add a transition out of ${label(node.parent)}`);
    }
  }
  for (const t of transitions) {
    if (t.event !== undefined || t.targets.length) continue;
    if (t.guard === undefined) error(t.path, 'an always transition without a target or guard runs again after every step and never stops; give it a target or a guard');
    else warn(t.path, 'an always transition without a target repeats until its guard is false; make sure its actions change what the guard reads');
  }

  // Reachability and loops need every target resolved.
  if (!targetErrors && !structureErrors) {
    checkReachable();
    checkEventlessLoops();
  }
  if (!targetErrors && !structureErrors) errors.push(...zeroDelayTimerCycles(doc));

  function initialLeaves(node: StateNode): StateNode[] {
    if (node.kind === 'parallel') return [...node.children.values()].flatMap(initialLeaves);
    const initial = node.config.initial !== undefined ? node.children.get(node.config.initial) : undefined;
    return initial ? initialLeaves(initial) : [node];
  }

  function checkReachable() {
    const reached = new Set<StateNode>();
    const queue: StateNode[] = [];
    const mark = (node: StateNode) => {
      if (reached.has(node)) return;
      reached.add(node);
      queue.push(node);
    };
    const enterDefault = (node: StateNode) => {
      mark(node);
      if (node.kind === 'parallel') for (const child of node.children.values()) enterDefault(child);
      const initial = node.config.initial !== undefined ? node.children.get(node.config.initial) : undefined;
      if (node.kind !== 'parallel' && initial) enterDefault(initial);
    };
    // Entering a target also enters its ancestors and, in a parallel ancestor, the other regions.
    const enter = (target: StateNode) => {
      const line = ancestry(target).reverse();
      line.forEach((node, i) => {
        mark(node);
        if (node.kind === 'parallel' && i < line.length - 1) {
          for (const region of node.children.values()) if (region !== line[i + 1]) enterDefault(region);
        }
      });
      enterDefault(target);
    };
    enterDefault(root);
    while (queue.length) {
      const node = queue.shift() as StateNode;
      for (const t of transitionsOf.get(node) ?? []) for (const target of t.targets) if (target.node) enter(target.node);
    }
    for (const node of nodes) {
      if (!reached.has(node) && node.parent && reached.has(node.parent)) {
        error(node.docPath, `${label(node)} is unreachable: no transition leads to it and it is not an initial state; target it from another state or remove it`);
      }
    }
  }

  /** Unguarded `always` transitions that lead back to where they started would spin for ever. */
  function checkEventlessLoops() {
    const next = (leaf: StateNode): { via: StateNode; to: StateNode[] } | undefined => {
      const owner = ancestry(leaf).find((n) => n.config.always);
      const first = owner && (transitionsOf.get(owner) ?? []).find((t) => t.event === undefined);
      if (!owner || !first || first.guard !== undefined || !first.targets.length) return undefined;
      const to = first.targets
        .filter((t) => t.node && !(t.node === owner && !first.reenter))
        .flatMap((t) => initialLeaves(t.node as StateNode))
        .filter((n) => n.kind !== 'final');
      return { via: owner, to };
    };
    const done = new Set<StateNode>();
    const reported = new Set<StateNode>();
    const visit = (leaf: StateNode, trail: StateNode[]) => {
      const at = trail.indexOf(leaf);
      if (at >= 0) {
        const cycle = trail.slice(at);
        const via = next(cycle[0])?.via as StateNode;
        if (!reported.has(via)) {
          reported.add(via);
          const names = [...cycle, leaf].map((n) => n.path.join('.'));
          error(`${via.docPath}.always`, `always transitions loop for ever: ${names.join(' -> ')}; guard one of them with a condition that turns false, or stop in a waiting state`);
        }
        return;
      }
      if (done.has(leaf)) return;
      for (const to of next(leaf)?.to ?? []) visit(to, [...trail, leaf]);
      done.add(leaf);
    };
    for (const node of nodes) if (node.kind === 'atomic') visit(node, []);
  }

  // --- XState itself, as a last line of defence ------------------------------------------------
  if (!errors.length) {
    try {
      const compiled = compileDefinition(doc);
      for (const [id, xnode] of compiled.nodes) {
        try {
          void xnode.initial;
        } catch (e) {
          error(`${ids.get(id)?.docPath ?? 'machine'}.initial`, `XState refuses the initial state: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      const message = (e as Error).message;
      const id = /state node '([^']+)'/.exec(message)?.[1];
      error(ids.get(id ?? '')?.docPath ?? 'machine', `XState refuses the machine: ${message.replace(/\n/g, ' ')}`);
    }
  }

  return { errors, warnings };
}

/** Placeholders a business key template may use; `seq` is a per-definition, per-year counter. */
export const BUSINESS_KEY_PLACEHOLDERS = ['grid', 'day', 'week', 'month', 'year', 'seq'] as const;

function checkBusinessKey(
  doc: DefinitionDocument,
  error: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
) {
  const template = doc.businessKey as string;
  const fields = doc.input?.properties ?? {};
  const required = doc.input?.required ?? [];
  const valid = `use ${BUSINESS_KEY_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} or {input.<field>}, e.g. "{grid}/{day}"`;
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    const name = m[1];
    if ((BUSINESS_KEY_PLACEHOLDERS as readonly string[]).includes(name)) continue;
    const field = /^input\.([A-Za-z0-9_]+)$/.exec(name)?.[1];
    if (field === undefined) {
      error('businessKey', `businessKey placeholder "${m[0]}" is unknown; ${valid}`);
    } else if (!(field in fields)) {
      error('businessKey', `businessKey placeholder "${m[0]}" names no input field; input fields: ${list(Object.keys(fields))}`);
    } else if (!required.includes(field)) {
      warn('businessKey', `businessKey placeholder "${m[0]}" is an optional input field, so the key may have an empty part; add "${field}" to input.required`);
    }
  }
  if (/[{}]/.test(template.replace(/\{[^{}]*\}/g, ''))) {
    error('businessKey', `businessKey "${template}" has an unmatched brace; ${valid}`);
  }
}

/** Events the machine handles (`on` keys anywhere) and events its timers send. */
function machineEvents(doc: DefinitionDocument): { handled: Set<string>; timers: Set<string> } {
  const handled = new Set<string>();
  const timers = new Set<string>();
  const visit = (state: StateConfig) => {
    for (const e of Object.keys(state.on ?? {})) handled.add(e);
    for (const t of state.meta?.timers ?? []) timers.add(t.send);
    for (const child of Object.values(state.states ?? {})) visit(child);
  };
  visit(doc.machine as StateConfig);
  return { handled, timers };
}

/** Evidence is for events a person sends: each listed event must be handled and not a timer's. */
function checkEvidenceBlock(doc: DefinitionDocument, error: (path: string, message: string) => void) {
  const { handled, timers } = machineEvents(doc);
  const events = [...handled].filter((e) => !timers.has(e)).sort();
  for (const event of Object.keys(doc.evidence ?? {})) {
    const path = `evidence.${event}`;
    if (timers.has(event)) error(path, `event "${event}" is sent by a timer, which brings no files; remove it from evidence`);
    else if (!handled.has(event)) error(path, `no state handles event "${event}"; events that may take evidence: ${list(events)}`);
    if (doc.events?.[event]?.properties?.evidence !== undefined) {
      error(`events.${event}.properties.evidence`, `"evidence" of event "${event}" is described by the evidence block; remove it from the event's data schema`);
    }
  }
}

function checkAccessBlock(
  doc: DefinitionDocument,
  error: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
) {
  const { handled, timers } = machineEvents(doc);
  const events = [...handled].filter((e) => !timers.has(e)).sort();
  for (const [event, rule] of Object.entries(doc.access ?? {})) {
    const path = `access.${event}`;
    if (timers.has(event)) {
      error(path, `event "${event}" is sent by a timer, never by a person or a process; remove its rule`);
      continue;
    }
    if (!handled.has(event)) error(path, `no state handles event "${event}"; events: ${list(events)}`);
    const actingRoles: readonly string[] = [...ROLES, 'manager', 'resident'];
    const roleLists: [string, string[]][] = [[`${path}.roles`, rule.roles ?? []], ...Object.entries(rule.rolesBy?.values ?? {}).map(([v, r]): [string, string[]] => [`${path}.rolesBy.values.${v}`, r])];
    for (const [at, roles] of roleLists) {
      for (const [i, role] of roles.entries()) {
        if (!actingRoles.includes(role)) error(`${at}.${i}`, `unknown role "${role}"${suggest(role, actingRoles)}; known: ${actingRoles.join(', ')}`);
      }
    }
    for (const [i, earlier] of (rule.notBy ?? []).entries()) {
      if (!handled.has(earlier)) error(`${path}.notBy.${i}`, `"${earlier}" is no event of this machine, so nobody sent it; events: ${list(events)}`);
    }
    if (!rule.roles?.length && !rule.processes?.length && !rule.rolesBy && rule.assignee === false) {
      error(path, `the rule for "${event}" lets nobody send it; name roles, processes or leave assignee on`);
    }
    if (rule.beforeDue && !hasTaskDueFor(doc.machine as StateConfig, event)) {
      warn(`${path}.beforeDue`, `no state that handles "${event}" has a task with a due time, so beforeDue never refuses`);
    }
  }
}

function hasTaskDueFor(state: StateConfig, event: string, inherited = false): boolean {
  const handles = inherited || Object.prototype.hasOwnProperty.call(state.on ?? {}, event);
  if (handles && state.meta?.task?.due) return true;
  return Object.values(state.states ?? {}).some((child) => hasTaskDueFor(child, event, handles));
}

import { definitionDocument } from '../document.schema';
import type { ValidationIssue } from './context';
import { either, suggest } from './words';

/** Zod issues turned into messages that name the value and what would be valid. */

export type Key = string | number;

export interface ZodIssue {
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
export interface Schema {
  _zod: { def: SchemaDef };
}
export const SCHEMA_ROOT = definitionDocument as unknown as Schema;

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
export function allowedKeysAt(schema: Schema, path: Key[]): string[] | undefined {
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
export function describeIssue(issue: ZodIssue, prefix: Key[], root: Schema, rel: Key[] = []): ValidationIssue[] {
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

import { z } from 'zod';

/**
 * The fixed library a definition may reference by name. Pure actions (`assign`) change context
 * inside the transition; effect actions are handed to the workflow, which runs each as an activity.
 */

/**
 * A value in params: a literal, `{ $ref: "event.data.site" | "context.checkIns" | "item.x" }`, or
 * an object or array built of such values.
 */
export type ValueExpr = string | number | boolean | null | { $ref: string } | ValueExpr[] | { [key: string]: ValueExpr };
export const valueExpr: z.ZodType<ValueExpr> = z.lazy(() =>
  z.union([
    z.strictObject({ $ref: z.string().regex(/^(event|context|instance|item)(\.[A-Za-z0-9_$-]+)*$/, 'a dotted path starting with event, context, instance or item') }),
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(valueExpr),
    z.record(z.string().regex(/^[^$]/, 'keys starting with "$" are reserved; use { $ref: "..." }'), valueExpr),
  ]),
);

const contextKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a context field name');

export const ROLES = [
  'grid-worker',
  'grid-leader',
  'grid-part-time',
  'grid-police',
  'party-secretary',
  'community-manager',
  'street-office',
] as const;
export type Role = (typeof ROLES)[number];

const role = z.enum(ROLES);

export const actionParams = {
  assign: z
    .strictObject({
      set: z.record(contextKey, valueExpr).optional(),
      increment: z.record(contextKey, valueExpr).optional(),
      append: z.record(contextKey, valueExpr).optional(),
    })
    .refine((p) => p.set || p.increment || p.append, 'give at least one of set, increment, append'),
  notify: z.strictObject({
    to: z.union([role, z.array(role).min(1)]),
    template: z.string(),
    urgent: z.boolean().optional(),
  }),
  startProcess: z.strictObject({
    definition: z.string(),
    input: z.record(z.string(), valueExpr).optional(),
    grid: valueExpr.optional(),
    /** One process per element; `{ $ref: "item.x" }` reads the element. */
    forEach: valueExpr.optional(),
  }),
  sendEvent: z.strictObject({
    /** A workflow id, or a list of them. */
    to: valueExpr,
    type: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    data: z.record(z.string(), valueExpr).optional(),
    forEach: valueExpr.optional(),
  }),
  fetch: z.strictObject({
    /** A named data provider of the engine (see services/providers.ts). */
    provider: z.string().min(1),
    params: z.record(z.string(), valueExpr).optional(),
    /** The event that brings the result back to this process, as its data. */
    send: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  }),
  record: z.strictObject({
    kind: z.string().min(1),
    data: z.record(z.string(), valueExpr).optional(),
  }),
} as const;
export type ActionType = keyof typeof actionParams;
export const ACTION_TYPES = Object.keys(actionParams) as ActionType[];
/** Actions the workflow executes as activities, in the order the transition produced them. */
export const EFFECT_TYPES = ['notify', 'startProcess', 'sendEvent', 'record', 'fetch'] as const;
export type EffectType = (typeof EFFECT_TYPES)[number];

export const COMPARE_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'] as const;

export const guardParams = {
  compare: z.strictObject({ left: valueExpr, op: z.enum(COMPARE_OPS), right: valueExpr }),
  exists: z.strictObject({ ref: z.string() }),
  missing: z.strictObject({ ref: z.string() }),
} as const;
export type GuardType = keyof typeof guardParams;
export const GUARD_TYPES = Object.keys(guardParams) as GuardType[];

export interface Scope {
  event?: unknown;
  context?: unknown;
  instance?: unknown;
  item?: unknown;
}

/** Reads a dotted path (`context.checkIns`) from a scope; undefined when any step is missing. */
export function readPath(scope: Scope, path: string): unknown {
  let cur: unknown = scope;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Resolves every `{ $ref }` inside `value` against `scope`. */
export function resolveValue(value: unknown, scope: Scope): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, scope));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.$ref === 'string' && Object.keys(record).length === 1) {
      // `item` refs are per element of a forEach; they wait until the effect is expanded.
      if ((record.$ref === 'item' || record.$ref.startsWith('item.')) && !('item' in scope)) return record;
      return readPath(scope, record.$ref);
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolveValue(v, scope)]));
  }
  return value;
}

export function compare(left: unknown, op: (typeof COMPARE_OPS)[number], right: unknown): boolean {
  switch (op) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'in':
      return Array.isArray(right) && right.includes(left);
    default: {
      if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) return false;
      const l = left as number | string;
      const r = right as number | string;
      if (op === 'gt') return l > r;
      if (op === 'gte') return l >= r;
      if (op === 'lt') return l < r;
      return l <= r;
    }
  }
}

/** Human text of a guard, for refusal messages: `context.checkIns >= 1`. */
export function describeGuard(type: string, params: Record<string, unknown> | undefined): string {
  const show = (v: unknown) =>
    v !== null && typeof v === 'object' && '$ref' in (v as object) ? String((v as { $ref: string }).$ref) : JSON.stringify(v);
  if (type === 'compare' && params) {
    const sym: Record<string, string> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=', in: 'in' };
    return `${show(params.left)} ${sym[String(params.op)] ?? params.op} ${show(params.right)}`;
  }
  if ((type === 'exists' || type === 'missing') && params) return `${params.ref} ${type === 'exists' ? 'is set' : 'is not set'}`;
  return type;
}

/** Renders `{{context.x}}` / `{{instance.grid}}` placeholders; a missing value renders as empty. */
export function renderTemplate(text: string, scope: Scope): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_.$-]+)\s*\}\}/g, (_, path: string) => {
    const v = readPath(scope, path);
    return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/**
 * The runtime half of the action library: what the engine needs while it steps a machine (reading
 * `$ref`s, comparing, rendering templates). It imports nothing, so the workflow bundle does not
 * evaluate zod: the Temporal SDK evaluates a bundle's modules once per workflow it runs, and zod's
 * schemas cost about 1 MB of worker memory per cached workflow. The parameter schemas that check a
 * definition live in library.ts, which re-exports all of this.
 */

/**
 * A value in params: a literal, `{ $ref: "event.data.site" | "context.checkIns" | "item.x" }`, or
 * an object or array built of such values.
 */
export type ValueExpr = string | number | boolean | null | { $ref: string } | ValueExpr[] | { [key: string]: ValueExpr };
export const ROLES = [
  'grid-worker',
  'grid-leader',
  'grid-part-time',
  'grid-police',
  'party-secretary',
  'community-manager',
  'street-office',
  /** A member of the outside organisation that owns the work (context.owner.id). */
  'partner',
] as const;
export type Role = (typeof ROLES)[number];

/** Actions the workflow executes as activities, in the order the transition produced them. */
export const EFFECT_TYPES = ['notify', 'startProcess', 'sendEvent', 'record', 'fetch'] as const;
export type EffectType = (typeof EFFECT_TYPES)[number];

export const COMPARE_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'] as const;

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

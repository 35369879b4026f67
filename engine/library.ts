import { z } from 'zod';
import { COMPARE_OPS, ROLES, type ValueExpr } from './expressions';

export * from './expressions';

/**
 * The fixed library a definition may reference by name. Pure actions (`assign`) change context
 * inside the transition; effect actions are handed to the workflow, which runs each as an activity.
 */

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

const role = z.enum(ROLES);

export const actionParams = {
  assign: z
    .strictObject({
      set: z.record(contextKey, valueExpr).optional(),
      increment: z.record(contextKey, valueExpr).optional(),
      append: z.record(contextKey, valueExpr).optional(),
      /** A date moved later by the working days from `from` to `to` (a paused clock). */
      shift: z.record(contextKey, z.strictObject({ date: valueExpr, from: valueExpr, to: valueExpr })).optional(),
    })
    .refine((p) => p.set || p.increment || p.append || p.shift, 'give at least one of set, increment, append, shift'),
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

export const guardParams = {
  compare: z.strictObject({ left: valueExpr, op: z.enum(COMPARE_OPS), right: valueExpr }),
  exists: z.strictObject({ ref: z.string() }),
  missing: z.strictObject({ ref: z.string() }),
} as const;
export type GuardType = keyof typeof guardParams;
export const GUARD_TYPES = Object.keys(guardParams) as GuardType[];

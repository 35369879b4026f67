import { z } from 'zod';
import { accessBlock } from './access';
import { cronProblem } from './cron';
import { evidenceRule } from './evidence';
import { scheduleForEach } from './schedule-fanout.schema';

/**
 * The shape of a definition document. `machine` is a plain-JSON XState v5 config; the engine's
 * extensions (task, reminders, escalations, timers) live in each state's `meta`, where XState
 * tooling keeps them without interpreting them.
 */

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'use kebab-case: lower-case letters, digits and "-"');
const eventName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'use SCREAMING_CASE, e.g. "CHECK_IN"');

/** A JSON-Schema subset for input and event data (see data-schema.ts). */
export type DataSchema = {
  type: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  description?: string;
  properties?: Record<string, DataSchema>;
  required?: string[];
  items?: DataSchema;
  enum?: (string | number)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: 'date' | 'date-time';
  /** Personal data (PIPL): masked in the read model, its history and the API; the workflow keeps it encrypted. */
  personal?: boolean;
  /** In event data: the value must be one of the list the instance holds at this context path. */
  choicesFrom?: string;
};

export const dataSchema: z.ZodType<DataSchema> = z.lazy(() =>
  z.strictObject({
    type: z.enum(['object', 'string', 'integer', 'number', 'boolean', 'array']),
    description: z.string().optional(),
    properties: z.record(z.string(), dataSchema).optional(),
    required: z.array(z.string()).optional(),
    items: dataSchema.optional(),
    enum: z.array(z.union([z.string(), z.number()])).min(1).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(0).optional(),
    minItems: z.number().int().min(0).optional(),
    maxItems: z.number().int().min(0).optional(),
    format: z.enum(['date', 'date-time']).optional(),
    personal: z.boolean().optional(),
    choicesFrom: z.string().regex(/^context(\.[A-Za-z0-9_$-]+)+$/, 'a context path holding a list, e.g. "context.input.summary.openIssues"').optional(),
  }),
);

/**
 * When something happens: `after` a duration from entering the state (or from the task's due time
 * with `of: due`), `at` a wall-clock time on the instance's day (or the entry day) plus `addDays` or
 * `addWorkingDays`, or `before` the task's due time. Durations may be working days (`3wd`).
 * `ref` names a context field holding an ISO date or date-time that wins when it is set (a due date
 * decided at run time); `urgent` overrides the spec for instances whose `context.urgency` is "urgent".
 */
const timeFields = {
  after: z.string().optional(),
  of: z.enum(['entry', 'due']).optional(),
  at: z.string().optional(),
  on: z.enum(['instance-day', 'entry-day']).optional(),
  addDays: z.number().int().min(0).max(366).optional(),
  addWorkingDays: z.number().int().min(0).max(250).optional(),
  before: z.string().optional(),
  ref: z.string().regex(/^context(\.[A-Za-z0-9_$-]+)+$/, 'a context path, e.g. "context.plan.due"').optional(),
};
export const baseTimeSpec = z.strictObject(timeFields);
/** One case of a time by value: its own time, with its own urgent override. */
export const caseTimeSpec = z.strictObject({ ...timeFields, urgent: baseTimeSpec.optional() });
/**
 * `cases` picks the time by a context value (the issue's category: danger 2 h, utilities 24 h,
 * complex 15 working days); a set `ref` still wins, and a value without a case uses the rest.
 */
export const timeSpec = z.strictObject({
  ...timeFields,
  urgent: baseTimeSpec.optional(),
  cases: z
    .strictObject({
      ref: z.string().regex(/^context(\.[A-Za-z0-9_$-]+)+$/, 'a context path, e.g. "context.input.category"'),
      values: z.record(z.string(), caseTimeSpec),
    })
    .optional(),
});
export type TimeSpec = z.infer<typeof timeSpec>;

export const task = z.strictObject({
  role: z.string(),
  /** The role by a context value, replacing `role` when the value has an entry (a partner's work). */
  roleBy: z
    .strictObject({
      ref: z.string().regex(/^context(\.[A-Za-z0-9_$-]+)+$/, 'a context path, e.g. "context.handler"'),
      values: z.record(z.string(), z.string()),
    })
    .optional(),
  title: z.string().min(1),
  /** Who in particular, when not the role's holder in the grid: `{ $ref: "context.owner" }`. */
  assignee: z.union([z.string(), z.strictObject({ $ref: z.string().regex(/^context(\.[A-Za-z0-9_$-]+)+$/) })]).optional(),
  due: timeSpec.optional(),
});
export type TaskSpec = z.infer<typeof task>;

export const notice = z.strictObject({
  id: name,
  when: timeSpec,
  to: z.union([z.string(), z.array(z.string()).min(1)]),
  template: z.string(),
  urgent: z.boolean().optional(),
});
export type NoticeSpec = z.infer<typeof notice>;

export const timer = z.strictObject({
  id: name,
  when: timeSpec,
  send: eventName,
});
export type TimerSpec = z.infer<typeof timer>;

export const stateMeta = z.strictObject({
  task: task.optional(),
  reminders: z.array(notice).optional(),
  escalations: z.array(notice).optional(),
  timers: z.array(timer).optional(),
  description: z.string().optional(),
});
export type StateMeta = z.infer<typeof stateMeta>;

export const actionRef = z.union([
  z.string(),
  z.strictObject({ type: z.string(), params: z.record(z.string(), z.unknown()).optional() }),
]);
export type ActionRef = z.infer<typeof actionRef>;

export const guardRef = z.union([
  z.string(),
  z.strictObject({ type: z.string(), params: z.record(z.string(), z.unknown()).optional() }),
]);
export type GuardRef = z.infer<typeof guardRef>;

const actionList = z.union([actionRef, z.array(actionRef)]);

export const transitionObject = z.strictObject({
  target: z.union([z.string(), z.array(z.string())]).optional(),
  guard: guardRef.optional(),
  actions: actionList.optional(),
  reenter: z.boolean().optional(),
  description: z.string().optional(),
});
export type TransitionObject = z.infer<typeof transitionObject>;

export const transitionConfig = z.union([z.string(), transitionObject, z.array(z.union([z.string(), transitionObject]))]);
export type TransitionConfig = z.infer<typeof transitionConfig>;

export type StateConfig = {
  type?: 'atomic' | 'compound' | 'parallel' | 'final';
  initial?: string;
  id?: string;
  description?: string;
  entry?: ActionRef | ActionRef[];
  exit?: ActionRef | ActionRef[];
  on?: Record<string, TransitionConfig>;
  always?: TransitionConfig;
  meta?: StateMeta;
  states?: Record<string, StateConfig>;
};

export const stateConfig: z.ZodType<StateConfig> = z.lazy(() =>
  z.strictObject({
    type: z.enum(['atomic', 'compound', 'parallel', 'final']).optional(),
    initial: z.string().optional(),
    id: z.string().optional(),
    description: z.string().optional(),
    entry: actionList.optional(),
    exit: actionList.optional(),
    on: z.record(z.string(), transitionConfig).optional(),
    always: transitionConfig.optional(),
    meta: stateMeta.optional(),
    states: z.record(name, stateConfig).optional(),
  }),
);

export const machineConfig = z.strictObject({
  id: name,
  initial: z.string(),
  description: z.string().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  entry: actionList.optional(),
  on: z.record(z.string(), transitionConfig).optional(),
  states: z.record(name, stateConfig),
});
export type MachineConfig = z.infer<typeof machineConfig>;

export const template = z.strictObject({
  title: z.string().min(1),
  body: z.string(),
});

/**
 * A name people read instead of a code: zh-CN first, English optional (the English console falls
 * back to Chinese, then to the code).
 */
export const displayName = z.strictObject({ zh: z.string().min(1).max(100), en: z.string().min(1).max(100).optional() });
export type DisplayName = z.infer<typeof displayName>;

/**
 * Display names by code, in one block rather than next to each thing: the machine stays a plain
 * XState config, a field used by many events (`note`) is named once, and a translator reviews one
 * list. A field is named by its key, a nested one by its dotted path (`owner.kind`); an enum
 * field may name its values too. See labels.ts.
 */
export const labelsBlock = z.strictObject({
  states: z.record(z.string(), displayName).optional(),
  events: z.record(z.string(), displayName).optional(),
  fields: z.record(z.string(), displayName.extend({ values: z.record(z.string(), displayName).optional() })).optional(),
});
export type Labels = z.infer<typeof labelsBlock>;

/** What a schedule does on a day the statutory calendar singles out (see schedule-rule.ts). */
const dayRule = z.enum(['run', 'skip', 'next-working-day'], {
  error: (iss) => `${JSON.stringify(iss.input)} is not a day rule; use run, skip or next-working-day`,
});

/** A recurring definition: a Temporal Schedule starts its instances. */
export const scheduleSpec = z.strictObject({
  /** Standard 5-field cron in `timezone`, e.g. "30 8 * * *" for 08:30 daily. */
  cron: z.string().superRefine((c, ctx) => {
    const problem = cronProblem(c);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  timezone: z.string().optional(),
  /** `grids`: one instance per grid; `community`: one instance. */
  fanOut: z.enum(['grids', 'community']),
  /** How late a missed run (server down) may still start, e.g. "1h". */
  catchupWindow: z.string().optional(),
  overlap: z.enum(['skip', 'buffer-one', 'allow-all']).optional(),
  description: z.string().optional(),
  /** A run the cron fires on a statutory holiday: run it, skip it or start it on the next working day (default run). */
  holidays: dayRule.optional(),
  /** A run on an ordinary Saturday or Sunday (not a holiday, not a make-up working day); default run. */
  weekends: dayRule.optional(),
  /** A run on a make-up working day (调休上班); default run. */
  makeUpWorkdays: z.enum(['run', 'skip'], { error: (iss) => `${JSON.stringify(iss.input)} is not a rule for make-up working days; use run or skip` }).optional(),
  /** One instance per household of the register that is due a visit, instead of one per grid (see schedule-fanout.ts). */
  forEach: scheduleForEach.optional(),
});
export type ScheduleSpec = z.infer<typeof scheduleSpec>;

/** A named provider whose result becomes `input.<into>` when an instance starts. */
export const prefillSpec = z.strictObject({
  provider: z.string().min(1),
  into: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  params: z.record(z.string(), z.unknown()).optional(),
});

export const definitionDocument = z.strictObject({
  key: name,
  title: z.string().min(1),
  description: z.string().optional(),
  timezone: z.string().optional(),
  /** Template of the business key after `key/`, e.g. `{grid}/{day}`. */
  businessKey: z.string().optional(),
  /** Whether an instance belongs to a grid (`required`) or to the community (`none`). */
  grid: z.enum(['required', 'optional', 'none']).optional(),
  input: dataSchema.optional(),
  events: z.record(eventName, dataSchema).optional(),
  templates: z.record(z.string(), template).optional(),
  schedule: scheduleSpec.optional(),
  prefill: prefillSpec.optional(),
  /**
   * The days an instance may be started for, around today in `timezone`, when the business key
   * names a day: `{ daysBefore: 1, daysAfter: 1 }` is yesterday to tomorrow.
   */
  startWindow: z.strictObject({ daysBefore: z.number().int().min(0).max(366), daysAfter: z.number().int().min(0).max(366) }).optional(),
  /** Who may send each event (see access.ts); an event without a rule is for the current task's role. */
  access: accessBlock.optional(),
  /** Which events take evidence (photos, files) and whether it is required: `{ RESOLVE: { required: true, max: 5 } }`. */
  evidence: z.record(eventName, evidenceRule).optional(),
  /** Display names of states, events and fields for people (console, CSV); the codes stay the contract. */
  labels: labelsBlock.optional(),
  machine: machineConfig,
});
export type DefinitionDocument = z.infer<typeof definitionDocument>;

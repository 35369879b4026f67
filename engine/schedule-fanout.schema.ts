import { z } from 'zod';

// The schedule.forEach block's schema, apart from the rules in schedule-fanout.ts: document.schema.ts
// takes the block from here, and schedule-fanout.ts takes the document's types from there, so the two
// do not import each other.

/** Categories of the register, as the community writes them (民政 and 社区 practice). */
export const REGISTRY_CATEGORIES = ['低保', '低收入', '特困', '独居老人', '空巢老人', '留守儿童', '残疾人'] as const;
export type RegistryCategory = (typeof REGISTRY_CATEGORIES)[number];

export const VISIT_PERIODS = ['weekly', 'monthly'] as const;
export type VisitPeriod = (typeof VISIT_PERIODS)[number];

const category = z.string().refine((c) => (REGISTRY_CATEGORIES as readonly string[]).includes(c), {
  error: (iss) => `${JSON.stringify(iss.input)} is not a registry category; use one of ${REGISTRY_CATEGORIES.join(', ')}`,
});
const period = z.enum(VISIT_PERIODS, { error: (iss) => `${JSON.stringify(iss.input)} is not a visit cycle; use weekly or monthly` });

export const registryFanOut = z.strictObject({
  /** The categories whose households get a visit. */
  categories: z.array(category).min(1),
  /** How often a category is visited, unless an entry states its own cycle. */
  cycles: z.record(z.string(), period),
  /** true (default): a run starts only the households not yet visited in their cycle; false: every household, every run (still once per cycle). */
  due: z.boolean().optional(),
  /** Final states that count as a visit; another ending (missed) does not. */
  visitedStates: z.array(z.string().min(1)).min(1),
});
export type RegistryFanOut = z.infer<typeof registryFanOut>;

/** `schedule.forEach`: what a schedule's run fans out over besides grids. */
export const scheduleForEach = z.strictObject({ registry: registryFanOut });
export type ScheduleForEach = z.infer<typeof scheduleForEach>;

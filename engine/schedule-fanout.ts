import type { DataSchema, DefinitionDocument, StateConfig } from './document.schema';
import { REGISTRY_CATEGORIES, type RegistryCategory, type RegistryFanOut, type VisitPeriod } from './schedule-fanout.schema';
import { addDays, isDate, isoWeek } from './time';
import { isWorkingDay, weekdayOf, type WorkCalendar } from './working-days';

/**
 * A schedule that fans out over the special-population register (重点人群台账): instead of one
 * instance per grid, one per household that is due a visit in this cycle (入户走访). The block
 *
 *   schedule:
 *     forEach:
 *       registry:
 *         categories: [独居老人, 低保]
 *         cycles: { 独居老人: weekly, 低保: monthly }
 *         due: true
 *         visitedStates: [visited]
 *
 * says which categories, how often each is visited (an entry may state its own cycle), whether a
 * run starts only the households not yet visited in their cycle (`due`, default true), and which
 * final states count as a visit. A household in several categories gets one visit per cycle, on
 * the shortest of its cycles. Pure: the validator, the launcher's service, the coverage view and
 * the tests share these rules.
 */

// Callers take the block's schema from here as before.
export { REGISTRY_CATEGORIES, VISIT_PERIODS, registryFanOut, scheduleForEach, type RegistryCategory, type VisitPeriod, type RegistryFanOut, type ScheduleForEach } from './schedule-fanout.schema';

/** The input a fanned-out instance starts with: no personal data, only what identifies the round. */
export const FANOUT_INPUT: Record<string, DataSchema['type']> = {
  date: 'string',
  household: 'string',
  categories: 'array',
  cycle: 'string',
  period: 'string',
  dueDate: 'string',
};

// ---------------------------------------------------------------------------------------------
// Cycles

export interface Cycle {
  /** `2026-W49` for a week (ISO, Monday first), `2026-12` for a month. */
  id: string;
  period: VisitPeriod;
  /** First and last day, inclusive. */
  start: string;
  end: string;
}

const WEEK = /^(\d{4})-W(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

function lastDayOfMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** The cycle of `period` that holds `day`. */
export function cycleOf(period: VisitPeriod, day: string): Cycle {
  if (period === 'monthly') {
    const id = day.slice(0, 7);
    return { id, period, start: `${id}-01`, end: lastDayOfMonth(id) };
  }
  const start = addDays(day, -((weekdayOf(day) + 6) % 7));
  return { id: isoWeek(day), period, start, end: addDays(start, 6) };
}

/** A cycle by its id (`2026-W49`, `2026-12`); undefined for anything else, a week 53 of a 52-week year included. */
export function parseCycle(id: string): Cycle | undefined {
  const month = MONTH.exec(id);
  if (month) {
    const m = Number(month[2]);
    return m >= 1 && m <= 12 ? cycleOf('monthly', `${id}-01`) : undefined;
  }
  const week = WEEK.exec(id);
  if (!week) return undefined;
  // 4 January is always in week 1.
  const jan4 = `${week[1]}-01-04`;
  const monday = addDays(addDays(jan4, -((weekdayOf(jan4) + 6) % 7)), (Number(week[2]) - 1) * 7);
  const cycle = cycleOf('weekly', monday);
  return cycle.id === id ? cycle : undefined;
}

/**
 * When a round started on `day` is due: the last working day of its cycle (a make-up one counts),
 * or, when the run comes after it (a Saturday trigger), the cycle's last day.
 */
export function dueDateOf(cycle: Cycle, day: string, cal: WorkCalendar): string {
  for (let d = cycle.end; d >= day; d = addDays(d, -1)) if (isWorkingDay(d, cal)) return d;
  return cycle.end;
}

// ---------------------------------------------------------------------------------------------
// Who is due

/** What the fan-out needs of a register entry: never a name, a phone or an address. */
export interface RegisteredHousehold {
  household: string;
  grid: string;
  category: string;
  /** The entry's own cycle; the definition's for its category when not set. */
  cycle?: VisitPeriod | null;
  /** The day the entry joined the register: no cycle that ended before it is owed. */
  since: string;
  active: boolean;
}

/** A visit that happened: the household and the local day it was recorded. */
export interface Visit {
  household: string;
  day: string;
}

/** One household's round in a cycle: what its instance starts with (besides the grid). */
export interface HouseholdRound {
  household: string;
  grid: string;
  categories: string[];
  period: VisitPeriod;
  cycle: string;
  dueDate: string;
}

export function periodOf(spec: RegistryFanOut, entry: Pick<RegisteredHousehold, 'category' | 'cycle'>): VisitPeriod {
  // The validator makes `cycles` name every category listed; monthly only guards hand-made specs.
  return entry.cycle ?? (spec.cycles[entry.category] as VisitPeriod | undefined) ?? 'monthly';
}

/**
 * The households a run on `day` starts, and those it leaves out because they were visited in
 * their cycle already. Households are grouped from their entries of the listed categories that
 * are active and registered by `day`; each is visited on the shortest cycle among them.
 */
export function roundsFor(
  spec: RegistryFanOut,
  entries: RegisteredHousehold[],
  visits: Visit[],
  day: string,
  cal: WorkCalendar,
): { due: HouseholdRound[]; visited: { household: string; cycle: string; on: string }[] } {
  const byHousehold = new Map<string, RegisteredHousehold[]>();
  for (const e of entries) {
    if (!e.active || e.since > day || !spec.categories.includes(e.category)) continue;
    (byHousehold.get(e.household) ?? byHousehold.set(e.household, []).get(e.household))?.push(e);
  }
  const visitDays = new Map<string, string[]>();
  for (const v of visits) (visitDays.get(v.household) ?? visitDays.set(v.household, []).get(v.household))?.push(v.day);
  const due: HouseholdRound[] = [];
  const visited: { household: string; cycle: string; on: string }[] = [];
  for (const [household, list] of byHousehold) {
    const period: VisitPeriod = list.some((e) => periodOf(spec, e) === 'weekly') ? 'weekly' : 'monthly';
    const cycle = cycleOf(period, day);
    const on = (visitDays.get(household) ?? []).filter((d) => d >= cycle.start && d <= cycle.end).sort()[0];
    if (on !== undefined && spec.due !== false) {
      visited.push({ household, cycle: cycle.id, on });
      continue;
    }
    const grid = [...list].sort((a, b) => a.grid.localeCompare(b.grid))[0].grid;
    const categories = [...new Set(list.map((e) => e.category))].sort((a, b) => REGISTRY_CATEGORIES.indexOf(a as RegistryCategory) - REGISTRY_CATEGORIES.indexOf(b as RegistryCategory));
    due.push({ household, grid, categories, period, cycle: cycle.id, dueDate: dueDateOf(cycle, day, cal) });
  }
  due.sort((a, b) => a.grid.localeCompare(b.grid) || a.household.localeCompare(b.household));
  return { due, visited };
}

// ---------------------------------------------------------------------------------------------
// Coverage (入户全覆盖)

/** A round's instance as the read model has it. */
export interface RoundRecord {
  household: string;
  workflowId: string;
  /** The cycle it was started for (its input.cycle). */
  cycle: string;
  running: boolean;
  /** Ended in one of the definition's visitedStates. */
  visited: boolean;
  /** Local day it ended, when it has. */
  endedOn?: string;
  /** Due time of its open task, epoch ms. */
  dueAt?: number;
}

export type CoverageStatus = 'visited' | 'pending' | 'overdue';

export interface EntryCoverage {
  status: CoverageStatus;
  /** The day of the visit that covers the cycle. */
  visitedOn?: string;
  /** The round's instance for this cycle (the visit, or the one still open or missed). */
  workflowId?: string;
}

/**
 * Whether a household was visited in `cycle`: a visit recorded in it covers it, whichever round
 * it was; without one it is overdue once the cycle is over (`today` past its end) or once its
 * round for the cycle is past due or ended unvisited, and pending before. Undefined when the
 * entry joined the register after the cycle ended: nothing was owed.
 */
export function coverageOf(entry: { household: string; since: string }, cycle: Cycle, records: RoundRecord[], today: string, now: number): EntryCoverage | undefined {
  if (entry.since > cycle.end) return undefined;
  const mine = records.filter((r) => r.household === entry.household);
  const visit = mine.filter((r) => r.visited && r.endedOn !== undefined && r.endedOn >= cycle.start && r.endedOn <= cycle.end).sort((a, b) => (a.endedOn as string).localeCompare(b.endedOn as string))[0];
  if (visit) return { status: 'visited', visitedOn: visit.endedOn, workflowId: visit.workflowId };
  const round = mine.find((r) => r.cycle === cycle.id);
  const late = round !== undefined && ((!round.running && !round.visited) || (round.running && round.dueAt !== undefined && round.dueAt < now));
  const status: CoverageStatus = today > cycle.end || late ? 'overdue' : 'pending';
  return { status, ...(round ? { workflowId: round.workflowId } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Validation (called once from validate.ts)

export interface FanOutIssue {
  path: string;
  message: string;
}

function finalStates(state: StateConfig, into: Set<string>): Set<string> {
  for (const [name, child] of Object.entries(state.states ?? {})) {
    if (child.type === 'final') into.add(name);
    finalStates(child, into);
  }
  return into;
}

/** What the schema cannot see about `schedule.forEach`: that the definition can take the rounds it starts. */
export function checkScheduleFanOut(doc: DefinitionDocument): FanOutIssue[] {
  const spec = doc.schedule?.forEach?.registry;
  if (!doc.schedule || !spec) return [];
  const issues: FanOutIssue[] = [];
  const at = 'schedule.forEach.registry';
  if (doc.schedule.fanOut !== 'grids') {
    issues.push({ path: 'schedule.fanOut', message: `a schedule with forEach.registry starts each household's round in the household's grid; use fanOut: grids (got ${doc.schedule.fanOut})` });
  }
  if (doc.grid === 'none') {
    issues.push({ path: 'grid', message: 'a definition whose schedule fans out over the registry runs in the household\'s grid; use grid: required (got none)' });
  }
  const seen = new Set<string>();
  spec.categories.forEach((c, i) => {
    if (seen.has(c)) issues.push({ path: `${at}.categories.${i}`, message: `category "${c}" is listed twice; list each once` });
    seen.add(c);
  });
  for (const c of seen) {
    if (spec.cycles[c] === undefined) issues.push({ path: `${at}.cycles`, message: `category "${c}" has no visit cycle; add "${c}: weekly" or "${c}: monthly" (an entry's own cycle still wins)` });
  }
  for (const c of Object.keys(spec.cycles)) {
    if (!seen.has(c)) issues.push({ path: `${at}.cycles.${c}`, message: `"${c}" is not among the categories (${spec.categories.join(', ')}); list it there or remove its cycle` });
  }
  const finals = finalStates(doc.machine as StateConfig, new Set());
  spec.visitedStates.forEach((s, i) => {
    if (!finals.has(s)) issues.push({ path: `${at}.visitedStates.${i}`, message: `"${s}" is no final state of the machine; final states: ${[...finals].sort().join(', ') || 'none'}` });
  });
  const declared = doc.input?.properties ?? {};
  const missing = Object.keys(FANOUT_INPUT).filter((f) => declared[f] === undefined);
  if (missing.length) {
    issues.push({
      path: 'input.properties',
      message: `a round starts with input ${Object.keys(FANOUT_INPUT).join(', ')}; declare ${missing.join(', ')} (e.g. household: { type: string }, categories: { type: array, items: { type: string } })`,
    });
  }
  for (const [field, type] of Object.entries(FANOUT_INPUT)) {
    const given = declared[field];
    if (given && given.type !== type) issues.push({ path: `input.properties.${field}.type`, message: `the round's "${field}" is ${type === 'array' ? 'an array' : `a ${type}`}; declare type: ${type} (got ${given.type})` });
    if (given?.personal) issues.push({ path: `input.properties.${field}.personal`, message: `the round's "${field}" is not personal data (names, phones and addresses stay in the registry); remove personal: true` });
  }
  const key = doc.businessKey ?? '';
  if (!key.includes('{input.household}') || !key.includes('{input.cycle}')) {
    issues.push({ path: 'businessKey', message: `one round per household and cycle needs both in the key, e.g. "{input.household}/{input.cycle}" (got ${doc.businessKey === undefined ? 'none' : JSON.stringify(doc.businessKey)})` });
  }
  return issues;
}

/** `YYYY-MM-DD`, a week `2026-W49` or a month `2026-12`: what a coverage request may name. */
export function isCoverageRef(text: string): boolean {
  return isDate(text) || parseCycle(text) !== undefined;
}

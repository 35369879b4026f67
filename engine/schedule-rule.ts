import { cronTimes, parseCron } from './cron';
import type { ScheduleSpec } from './document.schema';
import { addDays, DEFAULT_ZONE, formatLocal, localDate } from './time';
import { dayKind, type DayKind, type WorkCalendar } from './working-days';

/**
 * What a schedule does on the days the statutory calendar singles out. A cron fires on dates; the
 * rule then decides per date: `run` as the cron says, `skip` the run, or start it at the same clock
 * time on the `next-working-day`, still for the day it was scheduled for (its business key and
 * `input.date` name that day, so a weekly report moved off a holiday Friday is that week's report).
 *
 * Pure: the launcher's activity, the API's next-runs view and the tests share it.
 */

export type DayRule = 'run' | 'skip' | 'next-working-day';

export interface CalendarRule {
  /** Statutory holidays (every day of an announced block, weekend days inside it included). */
  holidays: DayRule;
  /** Saturdays and Sundays that are neither holidays nor make-up working days. */
  weekends: DayRule;
  /** Saturdays and Sundays the State Council makes working days (调休上班). */
  makeUpWorkdays: 'run' | 'skip';
}

/** The rule a schedule states, `run` for what it leaves out (a schedule without a rule follows its cron). */
export function calendarRuleOf(spec: Pick<ScheduleSpec, 'holidays' | 'weekends' | 'makeUpWorkdays'>): CalendarRule {
  return { holidays: spec.holidays ?? 'run', weekends: spec.weekends ?? 'run', makeUpWorkdays: spec.makeUpWorkdays ?? 'run' };
}

export type RunPlan =
  /** Start now, for `day`. */
  | { action: 'run'; day: string; at: number; kind: DayKind }
  /** Start nothing for `day`. */
  | { action: 'skip'; day: string; kind: DayKind; reason: string }
  /** Start at `at` (the next working day, same clock time), for `day`. */
  | { action: 'move'; day: string; at: number; to: string; kind: DayKind; reason: string };

/** The longest run of days off the calendar can hold (Spring Festival is 8 or 9) is far below this. */
const SEARCH_DAYS = 60;

const KIND_TEXT: Record<DayKind, string> = {
  holiday: 'a statutory holiday',
  weekend: 'a weekend day',
  'make-up-workday': 'a make-up working day',
  workday: 'a working day',
};

function ruleFor(rule: CalendarRule, kind: DayKind): DayRule {
  if (kind === 'holiday') return rule.holidays;
  if (kind === 'weekend') return rule.weekends;
  if (kind === 'make-up-workday') return rule.makeUpWorkdays;
  return 'run';
}

/** The first day after `day` on which the rule runs: a working day (a make-up one only when the rule runs on those). */
export function nextRunDay(day: string, rule: CalendarRule, cal: WorkCalendar): string {
  for (let i = 1; i <= SEARCH_DAYS; i++) {
    const d = addDays(day, i);
    const kind = dayKind(d, cal);
    if (kind === 'workday' || (kind === 'make-up-workday' && rule.makeUpWorkdays === 'run')) return d;
  }
  throw new RangeError(`no working day within ${SEARCH_DAYS} days after ${day}; check the calendar`);
}

/** What the schedule does with a run the cron fires at `firedAt`. */
export function planRun(rule: CalendarRule, firedAt: number, zone: string, cal: WorkCalendar): RunPlan {
  const day = localDate(firedAt, zone);
  const kind = dayKind(day, cal);
  const decision = ruleFor(rule, kind);
  const key = kind === 'make-up-workday' ? 'makeUpWorkdays' : kind === 'holiday' ? 'holidays' : 'weekends';
  if (decision === 'run') return { action: 'run', day, at: firedAt, kind };
  if (decision === 'skip') return { action: 'skip', day, kind, reason: `${day} is ${KIND_TEXT[kind]} (${key}: skip): nothing starts` };
  const to = nextRunDay(day, rule, cal);
  // Fixed-offset zones: the same clock time n days later is n whole days later.
  const at = firedAt + (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`));
  return { action: 'move', day, at, to, kind, reason: `${day} is ${KIND_TEXT[kind]} (${key}: next-working-day): starts ${formatLocal(at, zone)}, for ${day}` };
}

export interface PlannedRun {
  at: number;
  /** The day the run is for: its business key and `input.date`. */
  day: string;
  moved?: true;
}

export interface PlannedRuns {
  /** When instances will start, ascending; a moved run at its new time. */
  runs: PlannedRun[];
  /** Fires the rule changes, up to the last run listed: skipped or moved, with why. */
  adjusted: { scheduled: number; action: 'skip' | 'move'; day: string; reason: string }[];
}

/**
 * The next `count` runs of a schedule after `afterMs`, after its calendar rule. A moved run can
 * land after later fires of the cron, so fires are read until the next one comes after the
 * `count`-th run found.
 */
export function plannedRuns(spec: ScheduleSpec, cal: WorkCalendar, afterMs: number, count: number): PlannedRuns {
  const zone = spec.timezone ?? DEFAULT_ZONE;
  const fields = parseCron(spec.cron);
  const rule = calendarRuleOf(spec);
  const runs: PlannedRun[] = [];
  const adjusted: PlannedRuns['adjusted'] = [];
  const done = (fire: number) => runs.length >= count && fire > [...runs].sort((a, b) => a.at - b.at)[count - 1].at;
  let from = afterMs;
  for (let batch = 0; batch < 50; batch++) {
    const fires = cronTimes(fields, zone, from, 64);
    if (!fires.length) break;
    for (const fire of fires) {
      if (done(fire)) return finish(runs, adjusted, count);
      const plan = planRun(rule, fire, zone, cal);
      if (plan.action === 'run') runs.push({ at: plan.at, day: plan.day });
      else {
        adjusted.push({ scheduled: fire, action: plan.action, day: plan.day, reason: plan.reason });
        if (plan.action === 'move') runs.push({ at: plan.at, day: plan.day, moved: true });
      }
    }
    from = fires[fires.length - 1];
  }
  return finish(runs, adjusted, count);
}

function finish(runs: PlannedRun[], adjusted: PlannedRuns['adjusted'], count: number): PlannedRuns {
  const list = [...runs].sort((a, b) => a.at - b.at || (a.day < b.day ? -1 : 1)).slice(0, count);
  const last = list.at(-1)?.at ?? Infinity;
  return { runs: list, adjusted: adjusted.filter((a) => a.scheduled <= last) };
}

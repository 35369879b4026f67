import { addDays, isDate, localDate, TimeFormatError, zoneOffsetMinutes } from './time';

/**
 * Working days on the Chinese statutory calendar: Monday to Friday, minus the State Council's
 * holidays, plus its make-up working days (调休上班).
 *
 * The calendar is data (definitions/calendars/cn-statutory.json) that operations extend each year
 * when the State Council publishes its notice; a year it does not cover counts plain Monday to
 * Friday, and `coveredYears` lets callers warn before that happens. Per year, `holidays` lists every
 * day of each announced block, weekend days inside the block included, so the list reads like the
 * notice ("共8天"); only the weekdays among them change anything. `workdays` lists the make-up days,
 * which always fall on a Saturday or Sunday.
 *
 * Pure and deterministic (dates are `YYYY-MM-DD` strings, instants epoch milliseconds), so the
 * workflow sandbox can use it. It imports no zod (the workflow bundle evaluates its modules once per
 * workflow); calendar.ts holds the schema that checks a calendar file and re-exports all of this.
 */

const MINUTE = 60_000;

/** A working-day calendar (definitions/calendars/*.json); calendar.ts checks one with checkCalendar. */
export interface WorkCalendar {
  name: string;
  /** The zone whose local dates the calendar lists; informational, the caller passes the zone to use. */
  zone: string;
  description?: string;
  years: Record<string, { holidays: string[]; workdays: string[]; source: string }>;
}

/** Years the calendar has data for, ascending; outside them working days are plain Monday to Friday. */
export function coveredYears(cal: WorkCalendar): string[] {
  return Object.keys(cal.years).sort();
}

export function weekdayOf(d: string): number {
  return new Date(Date.parse(`${d}T00:00:00Z`)).getUTCDay();
}

function requireDate(d: string): void {
  if (!isDate(d)) throw new TimeFormatError(`"${d}" is not a date; use "YYYY-MM-DD", e.g. "2026-10-01"`);
}

function requireCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not a number of working days; use a whole number, 0 or more`);
}

/**
 * Whether a date is a working day under `cal`, from sets built once per calendar object (a calendar
 * is never changed once loaded; each step that sets a deadline asks).
 */
const lookups = new WeakMap<WorkCalendar, (d: string) => boolean>();
function lookup(cal: WorkCalendar): (d: string) => boolean {
  let found = lookups.get(cal);
  if (!found) {
    found = buildLookup(cal);
    lookups.set(cal, found);
  }
  return found;
}

function buildLookup(cal: WorkCalendar): (d: string) => boolean {
  const holidays = new Set<string>();
  const workdays = new Set<string>();
  for (const entry of Object.values(cal.years)) {
    entry.holidays.forEach((d) => holidays.add(d));
    entry.workdays.forEach((d) => workdays.add(d));
  }
  return (d) => {
    if (workdays.has(d)) return true;
    if (holidays.has(d)) return false;
    const weekday = weekdayOf(d);
    return weekday !== 0 && weekday !== 6;
  };
}

/** What a day is on the calendar: a statutory holiday, a make-up working day (调休上班), a weekend or a working day. */
export type DayKind = 'holiday' | 'make-up-workday' | 'weekend' | 'workday';

/**
 * The kind of `date`. A holiday is any day of an announced block, weekend days inside it included;
 * a make-up working day is a Saturday or Sunday the notice makes a working day; a weekend is any
 * other Saturday or Sunday.
 */
export function dayKind(date: string, cal: WorkCalendar): DayKind {
  requireDate(date);
  const entry = cal.years[date.slice(0, 4)];
  if (entry?.workdays.includes(date)) return 'make-up-workday';
  if (entry?.holidays.includes(date)) return 'holiday';
  const weekday = weekdayOf(date);
  return weekday === 0 || weekday === 6 ? 'weekend' : 'workday';
}

/** Whether `date` is a working day: a make-up workday is, a holiday is not, else Monday to Friday. */
export function isWorkingDay(date: string, cal: WorkCalendar): boolean {
  requireDate(date);
  return lookup(cal)(date);
}

function nthWorkingDay(date: string, n: number, working: (d: string) => boolean): string {
  let d = date;
  if (n === 0) {
    while (!working(d)) d = addDays(d, 1);
    return d;
  }
  for (let left = n; left > 0; ) {
    d = addDays(d, 1);
    if (working(d)) left--;
  }
  return d;
}

/**
 * The n-th working day after `date` (Friday + 1 = Monday). With n = 0, `date` itself when it is a
 * working day, else the next working day.
 */
export function addWorkingDays(date: string, n: number, cal: WorkCalendar): string {
  requireDate(date);
  requireCount(n);
  return nthWorkingDay(date, n, lookup(cal));
}

/**
 * The instant n working days after `ms`: the n-th working day after the local date of `ms` in
 * `zone`, at the same local clock time (Friday 10:00 + 1 = Monday 10:00; Saturday 15:00 + 1 =
 * Monday 15:00). With n = 0, `ms` itself on a working day, else the next working day's same time.
 */
export function addWorkingDaysAt(ms: number, n: number, zone: string, cal: WorkCalendar): number {
  requireCount(n);
  const offset = zoneOffsetMinutes(zone) * MINUTE;
  const day = localDate(ms, zone);
  const sinceMidnight = ms + offset - Date.parse(`${day}T00:00:00Z`);
  const target = nthWorkingDay(day, n, lookup(cal));
  return Date.parse(`${target}T00:00:00Z`) + sinceMidnight - offset;
}

/**
 * The number of working days d with fromDate < d <= toDate; 0 when toDate is not after fromDate.
 * Due on Wednesday and still open on the following Monday is 3 working days overdue.
 */
export function workingDaysBetween(fromDate: string, toDate: string, cal: WorkCalendar): number {
  requireDate(fromDate);
  requireDate(toDate);
  const working = lookup(cal);
  let count = 0;
  for (let d = addDays(fromDate, 1); d <= toDate; d = addDays(d, 1)) if (working(d)) count++;
  return count;
}

const WORKING_DAYS = /^(0|[1-9]\d*)wd$/;

/** Parses a working-day duration: `3wd` -> 3, `1wd` -> 1; anything else (`3d`, `1.5wd`) -> undefined. */
export function parseWorkingDays(text: string): number | undefined {
  const m = WORKING_DAYS.exec(text);
  return m ? Number(m[1]) : undefined;
}

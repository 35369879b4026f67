import { z } from 'zod';
import { addDays, isDate, localDate, TimeFormatError, zoneOffsetMinutes, ZONE_OFFSETS } from './time';

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
 * workflow sandbox can use it.
 */

const MINUTE = 60_000;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const KINDS = ['holidays', 'workdays'] as const;

const date = z.string().refine(isDate, { error: (iss) => `${JSON.stringify(iss.input)} is not a real date; write YYYY-MM-DD, e.g. "2026-10-01"` });

const calendarYear = z.strictObject({
  holidays: z.array(date),
  workdays: z.array(date),
  source: z.string().min(1, 'name the notice the dates come from, e.g. "国务院办公厅关于2027年部分节假日安排的通知"'),
});

export const workCalendar = z
  .strictObject({
    name: z.string().min(1, 'give the calendar a name, e.g. "cn-statutory"'),
    /** The zone whose local dates the calendar lists; informational, the caller passes the zone to use. */
    zone: z.string().refine((zone) => Object.prototype.hasOwnProperty.call(ZONE_OFFSETS, zone), {
      error: (iss) => `unknown time zone ${JSON.stringify(iss.input)}; known: ${Object.keys(ZONE_OFFSETS).join(', ')}`,
    }),
    description: z.string().optional(),
    years: z.record(z.string().regex(/^\d{4}$/, 'a year key is four digits, e.g. "2027"'), calendarYear),
  })
  .superRefine((cal, ctx) => {
    for (const [year, entry] of Object.entries(cal.years)) {
      const seen = new Map<string, string>();
      for (const kind of KINDS) {
        entry[kind].forEach((d, i) => {
          if (!isDate(d)) return; // already reported by the date schema
          const path = ['years', year, kind, i];
          if (!d.startsWith(`${year}-`)) {
            ctx.addIssue({ code: 'custom', path, message: `"${d}" is not in ${year}; move it under years.${d.slice(0, 4)}` });
          }
          const earlier = seen.get(d);
          if (earlier?.startsWith(kind)) {
            ctx.addIssue({ code: 'custom', path, message: `"${d}" is listed twice (also at ${earlier}); remove one` });
          } else if (earlier) {
            ctx.addIssue({ code: 'custom', path, message: `"${d}" is both a holiday (${earlier}) and a make-up workday; keep it in one list` });
          }
          if (earlier) return; // one complaint per entry
          seen.set(d, `${kind}.${i}`);
          const weekday = weekdayOf(d);
          if (kind === 'workdays' && weekday !== 0 && weekday !== 6) {
            ctx.addIssue({
              code: 'custom',
              path,
              message: `"${d}" is a ${WEEKDAYS[weekday]}, a working day anyway; make-up workdays (调休上班) fall on a Saturday or Sunday`,
            });
          }
        });
      }
    }
  });

export type WorkCalendar = z.infer<typeof workCalendar>;

export interface CalendarError {
  path: string;
  message: string;
}

function describeIssue(issue: z.core.$ZodIssue): CalendarError[] {
  const path = issue.path.map(String);
  const at = (p: string[]) => (p.length ? p.join('.') : '$');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = path.length === 0 ? 'name, zone, description, years' : path.length === 2 ? 'holidays, workdays, source' : undefined;
      return issue.keys.map((key) => ({ path: at([...path, key]), message: `unknown key "${key}"${allowed ? `; allowed: ${allowed}` : ''}` }));
    }
    case 'invalid_key':
      return [{ path: at(path), message: `year "${path[path.length - 1]}" is not valid; a year key is four digits, e.g. "2027"` }];
    case 'invalid_type': {
      const expected = issue.expected === 'array' ? 'a list of dates' : issue.expected === 'object' ? 'an object' : `a ${issue.expected}`;
      if (path.length === 0) return [{ path: '$', message: `expected a calendar: an object with name, zone and years` }];
      const got = issue.input === undefined ? 'nothing' : Array.isArray(issue.input) ? 'a list' : issue.input === null ? 'null' : typeof issue.input;
      return [{ path: at(path), message: `expected ${expected}, got ${got}` }];
    }
    default:
      return [{ path: at(path), message: issue.message }];
  }
}

/**
 * Checks calendar data: its shape, real dates inside their year, no day both a holiday and a
 * workday, make-up workdays on weekends. Errors carry a dotted path such as `years.2026.workdays.1`.
 */
export function checkCalendar(value: unknown): { calendar?: WorkCalendar; errors: CalendarError[] } {
  const parsed = workCalendar.safeParse(value, { reportInput: true });
  if (parsed.success) return { calendar: parsed.data, errors: [] };
  return { errors: parsed.error.issues.flatMap(describeIssue) };
}

/** Years the calendar has data for, ascending; outside them working days are plain Monday to Friday. */
export function coveredYears(cal: WorkCalendar): string[] {
  return Object.keys(cal.years).sort();
}

function weekdayOf(d: string): number {
  return new Date(Date.parse(`${d}T00:00:00Z`)).getUTCDay();
}

function requireDate(d: string): void {
  if (!isDate(d)) throw new TimeFormatError(`"${d}" is not a date; use "YYYY-MM-DD", e.g. "2026-10-01"`);
}

function requireCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not a number of working days; use a whole number, 0 or more`);
}

/** Built once per call: a loop over days then asks sets, not arrays. */
function lookup(cal: WorkCalendar): (d: string) => boolean {
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

import { z } from 'zod';
import { addDays, isDate, localDate, zoneOffsetMinutes } from './time';

/**
 * Working days on the Chinese statutory calendar: Monday to Friday, minus the State Council's
 * holidays, plus its make-up working days (调休). The data is a JSON document ops extend each
 * year (definitions/calendars/cn-statutory.json); a year it does not cover is plain Monday-Friday.
 */

const date = z.string().refine(isDate, 'a real date written YYYY-MM-DD');

export const workCalendar = z.strictObject({
  name: z.string().min(1),
  zone: z.string().min(1),
  years: z.record(
    z.string().regex(/^\d{4}$/, 'a four-digit year'),
    z.strictObject({
      holidays: z.array(date),
      workdays: z.array(date),
      source: z.string().optional(),
    }),
  ),
});
export type WorkCalendar = z.infer<typeof workCalendar>;

/** Checks calendar data: shape, dates inside their year, and no day both a holiday and a workday. */
export function checkCalendar(value: unknown): { calendar?: WorkCalendar; errors: { path: string; message: string }[] } {
  const parsed = workCalendar.safeParse(value);
  if (!parsed.success) {
    return { errors: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '$', message: i.message })) };
  }
  const errors: { path: string; message: string }[] = [];
  try {
    zoneOffsetMinutes(parsed.data.zone);
  } catch (e) {
    errors.push({ path: 'zone', message: (e as Error).message });
  }
  for (const [year, y] of Object.entries(parsed.data.years)) {
    for (const kind of ['holidays', 'workdays'] as const) {
      y[kind].forEach((d, i) => {
        if (!d.startsWith(`${year}-`)) errors.push({ path: `years.${year}.${kind}.${i}`, message: `${d} is not in ${year}; move it under years.${d.slice(0, 4)}` });
      });
    }
    y.workdays.forEach((d, i) => {
      if (y.holidays.includes(d)) errors.push({ path: `years.${year}.workdays.${i}`, message: `${d} is listed both as a holiday and as a make-up workday; keep one` });
    });
  }
  return errors.length ? { errors } : { calendar: parsed.data, errors };
}

/** Years the calendar has data for, so callers can warn before a year runs out. */
export function coveredYears(cal: WorkCalendar): string[] {
  return Object.keys(cal.years).sort();
}

function weekday(date: string): number {
  return new Date(Date.parse(`${date}T00:00:00Z`)).getUTCDay();
}

/** Whether `date` is a working day: a make-up workday is; a holiday is not; else Monday to Friday. */
export function isWorkingDay(date: string, cal: WorkCalendar): boolean {
  const year = cal.years[date.slice(0, 4)];
  if (year?.workdays.includes(date)) return true;
  if (year?.holidays.includes(date)) return false;
  const d = weekday(date);
  return d !== 0 && d !== 6;
}

/** The n-th working day after `date`; with n = 0, `date` itself if it is a working day, else the next one. */
export function addWorkingDays(date: string, n: number, cal: WorkCalendar): string {
  let d = date;
  if (n === 0) {
    while (!isWorkingDay(d, cal)) d = addDays(d, 1);
    return d;
  }
  let left = n;
  while (left > 0) {
    d = addDays(d, 1);
    if (isWorkingDay(d, cal)) left--;
  }
  return d;
}

/**
 * `ms` plus n working days: the n-th working day after the local date of `ms` in `zone`, at the
 * same local clock time (Friday 10:00 + 1 = Monday 10:00; Saturday 15:00 + 1 = Monday 15:00).
 */
export function addWorkingDaysAt(ms: number, n: number, zone: string, cal: WorkCalendar): number {
  const day = localDate(ms, zone);
  const target = addWorkingDays(day, n, cal);
  return ms + (Date.parse(`${target}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`));
}

/** Working days d with fromDate < d <= toDate; 0 when toDate is not after fromDate. */
export function workingDaysBetween(fromDate: string, toDate: string, cal: WorkCalendar): number {
  let count = 0;
  for (let d = addDays(fromDate, 1); d <= toDate; d = addDays(d, 1)) if (isWorkingDay(d, cal)) count++;
  return count;
}

/** `3wd` -> 3; anything else -> undefined. */
export function parseWorkingDays(text: string): number | undefined {
  const m = /^(\d+)wd$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

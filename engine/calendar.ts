import { z } from 'zod';
import { isDate, ZONE_OFFSETS } from './time';
import { weekdayOf, type WorkCalendar } from './working-days';

export { coveredYears, isWorkingDay, addWorkingDays, addWorkingDaysAt, workingDaysBetween, parseWorkingDays, type WorkCalendar } from './working-days';

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
  if (parsed.success) return { calendar: parsed.data as WorkCalendar, errors: [] };
  return { errors: parsed.error.issues.flatMap(describeIssue) };
}

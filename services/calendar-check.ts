import { DEFAULT_ZONE, localDate } from '../engine/time';
import { coveredYears, type WorkCalendar } from '../engine/working-days';

/** The State Council publishes next year's holidays in the autumn (usually November): warn from October on. */
export const WARN_FROM_MONTH = 10;

const FILE = 'definitions/calendars/cn-statutory.json';

/**
 * What is missing from the working-day calendar: this year, or (from October) next year. Without a
 * year, its holidays and make-up working days are unknown, so working days are plain Monday to
 * Friday: schedules run on holidays and working-day deadlines count them. The worker, the API and
 * `npm start` log these at start-up, and `GET /api/schedules` carries them.
 */
export function calendarWarnings(cal: WorkCalendar, now = Date.now(), zone = DEFAULT_ZONE): string[] {
  const today = localDate(now, zone);
  const year = Number(today.slice(0, 4));
  const covered = new Set(coveredYears(cal));
  const missing = (y: number, when: string) =>
    `the working-day calendar ${FILE} has no ${y}: ${when} holidays and make-up working days (调休) are unknown and every Monday to Friday counts as a working day, ` +
    `so schedules run on holidays and working-day deadlines count them; add years.${y} (holidays, workdays, source) from the State Council's notice, see README "Working days"`;
  const out: string[] = [];
  if (!covered.has(String(year))) out.push(missing(year, 'this year'));
  if (Number(today.slice(5, 7)) >= WARN_FROM_MONTH && !covered.has(String(year + 1))) out.push(missing(year + 1, `from ${year + 1}-01-01`));
  return out;
}

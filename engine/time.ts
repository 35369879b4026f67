/**
 * Time arithmetic for definitions: durations and wall-clock times in a fixed-offset zone.
 *
 * Everything here is pure and works on epoch milliseconds so the workflow sandbox can use it
 * with its own deterministic clock.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * UTC offsets in minutes of the zones definitions may name. A fixed table rather than the
 * runtime's tz database, so a Node upgrade can never move a deadline of a running workflow.
 * China has had no daylight saving time since 1991.
 */
export const ZONE_OFFSETS: Readonly<Record<string, number>> = {
  'Asia/Shanghai': 480,
  UTC: 0,
};

export const DEFAULT_ZONE = 'Asia/Shanghai';

export class TimeFormatError extends Error {}

/** Offset of `zone` in minutes; throws for a zone gridflow does not know. */
export function zoneOffsetMinutes(zone: string): number {
  const offset = ZONE_OFFSETS[zone];
  if (offset === undefined) {
    throw new TimeFormatError(`unknown time zone "${zone}"; known: ${Object.keys(ZONE_OFFSETS).join(', ')}`);
  }
  return offset;
}

const SHORT_DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: DAY };

/** True when `text` is a duration `parseDuration` accepts. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `90s`, `30m`, `2h`, `7d`, `250ms` or an ISO 8601 duration (`PT2H`, `P1DT12H`) to milliseconds.
 * Calendar-dependent units (months, years) are refused: their length depends on the start.
 */
export function parseDuration(text: string): number {
  const short = SHORT_DURATION.exec(text);
  if (short) return Math.round(Number(short[1]) * UNIT_MS[short[2]]);
  const iso = ISO_DURATION.exec(text);
  if (iso && text !== 'P' && !text.endsWith('T')) {
    const [, d, h, m, s] = iso;
    return Math.round((Number(d ?? 0) * DAY) + (Number(h ?? 0) * HOUR) + (Number(m ?? 0) * MINUTE) + (Number(s ?? 0) * 1000));
  }
  throw new TimeFormatError(`"${text}" is not a duration; use e.g. "90s", "30m", "2h", "7d" or ISO 8601 "PT2H"`);
}

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Parses `HH:mm` to minutes after midnight. */
export function parseClock(text: string): number {
  const m = CLOCK.exec(text);
  if (!m) throw new TimeFormatError(`"${text}" is not a wall-clock time; use 24-hour "HH:mm", e.g. "18:00"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function isClock(text: string): boolean {
  return CLOCK.test(text);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === text;
}

/** The calendar date (`YYYY-MM-DD`) of instant `ms` in `zone`. */
export function localDate(ms: number, zone: string = DEFAULT_ZONE): string {
  return new Date(ms + zoneOffsetMinutes(zone) * MINUTE).toISOString().slice(0, 10);
}

/** The instant of wall-clock `clock` (`HH:mm`) on `date` (`YYYY-MM-DD`) in `zone`. */
export function atLocal(date: string, clock: string, zone: string = DEFAULT_ZONE): number {
  if (!isDate(date)) throw new TimeFormatError(`"${date}" is not a date; use "YYYY-MM-DD"`);
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  return midnightUtc + parseClock(clock) * MINUTE - zoneOffsetMinutes(zone) * MINUTE;
}

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/** ISO 8601 text of `ms` with the zone's offset, e.g. `2026-11-25T18:00:00.000+08:00`. */
export function formatLocal(ms: number, zone: string = DEFAULT_ZONE): string {
  const offset = zoneOffsetMinutes(zone);
  const local = new Date(ms + offset * MINUTE).toISOString().slice(0, 23);
  if (offset === 0) return `${local}Z`;
  const sign = offset > 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** ISO 8601 week of a date, e.g. `2026-W48` (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(date: string): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  const weekday = (new Date(t).getUTCDay() + 6) % 7; // Monday = 0
  const thursday = t + (3 - weekday) * DAY;
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

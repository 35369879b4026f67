import { addDays, atLocal, localDate } from './time';

/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week) as schedules use them:
 * parsed with their ranges checked, and their run times listed in a fixed-offset zone, so the API
 * can show the next runs of a schedule, after its calendar rule, without asking Temporal.
 *
 * Each field is `*`, a number, a range `a-b`, a step `*\/n`, `a-b/n` or `a/n`, or a comma-separated
 * list of those. Day-of-week counts 0 (Sunday) to 6, 7 being Sunday too. A cron may restrict the
 * day of the month or the day of the week, not both: cron implementations disagree on whether
 * both must match or either, and Temporal's Schedules would decide silently.
 */

export interface CronFields {
  minutes: number[];
  hours: number[];
  days: number[];
  months: number[];
  weekdays: number[];
  /** Whether the day of the month / of the week was restricted (not `*`). */
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

export class CronError extends Error {}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 7 },
] as const;

const PART = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/;

function parseField(text: string, field: (typeof FIELDS)[number]): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = PART.exec(part);
    if (!m) throw new CronError(`${field.name} "${part}" is not a cron field; use *, a number, a-b, */n or a list of them`);
    const [, from, to, step] = m;
    if (from === '*' && to !== undefined) throw new CronError(`${field.name} "${part}" is not a cron field; write a range as a-b`);
    const lo = from === '*' ? field.min : Number(from);
    // `a/n` runs from a to the end of the field, as in Vixie cron.
    const hi = to !== undefined ? Number(to) : from === '*' || step !== undefined ? field.max : lo;
    const by = step === undefined ? 1 : Number(step);
    for (const v of [lo, hi]) {
      if (v < field.min || v > field.max) throw new CronError(`${field.name} ${v} is out of range; use ${field.min} to ${field.max}`);
    }
    if (lo > hi) throw new CronError(`${field.name} range "${part}" runs backwards; write the smaller number first`);
    if (by < 1) throw new CronError(`${field.name} step "${part}" must be 1 or more`);
    for (let v = lo; v <= hi; v += by) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** Parses a five-field cron; throws CronError naming the field, the value and what is valid. */
export function parseCron(cron: string): CronFields {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronError(`"${cron}" has ${parts.length} field(s); write a 5-field cron (minute hour day-of-month month day-of-week), e.g. "30 8 * * *" for 08:30 daily`);
  }
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => parseField(p, FIELDS[i]));
  const daysRestricted = parts[2] !== '*';
  const weekdaysRestricted = parts[4] !== '*';
  if (daysRestricted && weekdaysRestricted) {
    throw new CronError(`"${cron}" restricts both the day of the month (${parts[2]}) and the day of the week (${parts[4]}); restrict one and write * in the other`);
  }
  return { minutes, hours, days, months, weekdays: [...new Set(weekdays.map((d) => d % 7))].sort(), daysRestricted, weekdaysRestricted };
}

/** The message of a cron that does not parse, or undefined when it does. */
export function cronProblem(cron: string): string | undefined {
  try {
    parseCron(cron);
    return undefined;
  } catch (e) {
    if (e instanceof CronError) return e.message;
    throw e;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Whether the cron fires on local `date` at all. */
export function cronFiresOn(fields: CronFields, date: string): boolean {
  const month = Number(date.slice(5, 7));
  const day = Number(date.slice(8, 10));
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  return fields.months.includes(month) && fields.days.includes(day) && fields.weekdays.includes(weekday);
}

/**
 * The instants after `afterMs` (exclusive) at which the cron fires in `zone`, at most `count` of
 * them, looking no further than `maxDays` ahead (a cron for the 31st of February never fires).
 */
export function cronTimes(cron: string | CronFields, zone: string, afterMs: number, count: number, maxDays = 5 * 366): number[] {
  const fields = typeof cron === 'string' ? parseCron(cron) : cron;
  const out: number[] = [];
  const first = localDate(afterMs, zone);
  for (let i = 0; i <= maxDays && out.length < count; i++) {
    const date = addDays(first, i);
    if (!cronFiresOn(fields, date)) continue;
    for (const h of fields.hours) {
      for (const m of fields.minutes) {
        const at = atLocal(date, `${pad(h)}:${pad(m)}`, zone);
        if (at > afterMs) out.push(at);
        if (out.length >= count) return out;
      }
    }
  }
  return out;
}

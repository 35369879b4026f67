/**
 * The duty rota of a grid (值班, 轮休, 请假, 代岗), pure: who is on duty on a day, and who takes the
 * work the definitions give to the grid's full-time worker. The task list, the access checks, the
 * reminders and the monthly evaluation all ask this one function.
 *
 * A rota records exceptions to the usual week: the full-time worker is on duty every day unless an
 * entry says they rest or are on leave; anyone else is on duty only with a `duty` entry or while
 * standing in for someone. A grid and day without entries is exactly as it was before the rota.
 */

export const ROTA_KINDS = ['duty', 'rest', 'leave'] as const;
export type RotaKind = (typeof ROTA_KINDS)[number];

/** One member's entry for one day of one grid. */
export interface RotaEntry {
  member: string;
  kind: RotaKind;
  /** Who stands in (代岗) while the member rests or is on leave. */
  standIn?: string | null;
}

/** A member of the grid as the rota needs them. */
export interface StaffMember {
  id: string;
  role: string;
}

/**
 * Why the worker's tasks went where they did: `no-rota` (nothing recorded: the worker, as always),
 * `worker` (on duty), `stand-in` (the worker is away and named this member), `cover` (the worker is
 * away without a stand-in, and another member is on duty), `nobody` (nobody is on duty).
 */
export type DutyReason = 'no-rota' | 'worker' | 'stand-in' | 'cover' | 'nobody';

export interface DutyDay {
  /** Whether any entry exists for the grid and day. */
  recorded: boolean;
  /** Members on duty, the worker first, then stand-ins, then duty entries (part-time, police, leader). */
  onDuty: string[];
  /** Members resting or on leave, and who stands in for each. */
  away: { member: string; kind: 'rest' | 'leave'; standIn: string | null }[];
  /** Who takes the tasks of the grid's full-time worker that day; null with nobody on duty. */
  worker: { member: string | null; why: DutyReason; for?: string };
}

/** The role whose tasks follow the rota; other roles' tasks go as before. */
export const ROTA_ROLE = 'grid-worker';
/** Who covers for an absent worker without a named stand-in, in this order. */
const COVER_ORDER = ['grid-part-time', 'grid-police', 'grid-leader'];

const isAway = (e: RotaEntry): e is RotaEntry & { kind: 'rest' | 'leave' } => e.kind === 'rest' || e.kind === 'leave';

/** Who is on duty in a grid on one day, given its staff and that day's entries. */
export function dutyDay(staff: StaffMember[], entries: RotaEntry[]): DutyDay {
  const worker = staff.filter((m) => m.role === ROTA_ROLE).sort((a, b) => a.id.localeCompare(b.id))[0]?.id ?? null;
  if (entries.length === 0) return { recorded: false, onDuty: worker ? [worker] : [], away: [], worker: { member: worker, why: 'no-rota' } };
  const away = entries.filter(isAway).map((e) => ({ member: e.member, kind: e.kind, standIn: e.standIn ?? null }));
  const absent = new Set(away.map((a) => a.member));
  const roleOf = new Map(staff.map((m) => [m.id, m.role]));
  const rank = (id: string) => {
    const i = COVER_ORDER.indexOf(roleOf.get(id) ?? '');
    return i < 0 ? COVER_ORDER.length : i;
  };
  const byRole = (ids: string[]) => [...ids].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const onDuty: string[] = [];
  const add = (id: string | null) => {
    if (id && !absent.has(id) && !onDuty.includes(id)) onDuty.push(id);
  };
  add(worker);
  for (const a of away) add(a.standIn);
  for (const id of byRole(entries.filter((e) => e.kind === 'duty').map((e) => e.member))) add(id);

  let holder: DutyDay['worker'];
  const standIn = worker ? away.find((a) => a.member === worker)?.standIn ?? null : null;
  if (worker && !absent.has(worker)) holder = { member: worker, why: 'worker' };
  else if (standIn && !absent.has(standIn)) holder = { member: standIn, why: 'stand-in', ...(worker ? { for: worker } : {}) };
  else {
    const cover = byRole(onDuty)[0];
    holder = cover ? { member: cover, why: 'cover', ...(worker ? { for: worker } : {}) } : { member: null, why: 'nobody', ...(worker ? { for: worker } : {}) };
  }
  return { recorded: true, onDuty, away, worker: holder };
}

/** Whether the rota says nobody was on duty: a missed patrol of such a day is not held against the grid. */
export function nobodyOnDuty(day: DutyDay): boolean {
  return day.recorded && day.onDuty.length === 0;
}

/**
 * The day whose rota decides who holds a task now: today, or the later day a process was started
 * for (tomorrow's patrol goes to tomorrow's duty). An issue opened last week is today's work.
 */
export function rotaDay(processDay: unknown, today: string): string {
  return typeof processDay === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(processDay) && processDay > today ? processDay : today;
}

export interface RotaChange {
  member: string;
  kind: RotaKind;
  standIn?: string | null;
}

export interface RotaProblem {
  /** 400: the request names someone or something wrong; 409: it clashes with another entry of the day. */
  status: 400 | 409;
  path: string;
  message: string;
}

/**
 * What is wrong with setting `change` on `day`, given the grid's staff and the day's other entries.
 * Members and stand-ins are the grid's own staff; a stand-in covers a rest or leave, is someone
 * else, and is not away that day; someone standing in for another cannot go away without that
 * being changed first.
 */
export function checkRotaChange(grid: string, day: string, staff: StaffMember[], others: RotaEntry[], change: RotaChange): RotaProblem[] {
  const problems: RotaProblem[] = [];
  const known = new Set(staff.map((m) => m.id));
  const list = staff.map((m) => m.id).join(', ') || 'none';
  if (!known.has(change.member)) problems.push({ status: 400, path: 'member', message: `"${change.member}" is not an active member of ${grid}; its staff: ${list}` });
  const standIn = change.standIn ?? null;
  if (standIn !== null) {
    if (change.kind === 'duty') problems.push({ status: 400, path: 'standIn', message: `a stand-in covers a rest day or leave; "${change.member}" is on duty, so leave standIn out` });
    else if (standIn === change.member) problems.push({ status: 400, path: 'standIn', message: `"${standIn}" cannot stand in for themselves; name another member of ${grid}` });
    else if (!known.has(standIn)) problems.push({ status: 400, path: 'standIn', message: `"${standIn}" is not an active member of ${grid}; a stand-in is one of its staff: ${list}` });
    else {
      const theirs = others.find((e) => e.member === standIn);
      if (theirs && isAway(theirs)) problems.push({ status: 409, path: 'standIn', message: `"${standIn}" is on ${theirs.kind} on ${day} and cannot stand in; name someone on duty` });
    }
  }
  if (isAway({ member: change.member, kind: change.kind })) {
    const covering = others.filter((e) => e.member !== change.member && e.standIn === change.member).map((e) => e.member);
    if (covering.length) {
      problems.push({ status: 409, path: 'kind', message: `"${change.member}" stands in for ${covering.join(', ')} on ${day}; name another stand-in for them first` });
    }
  }
  return problems;
}

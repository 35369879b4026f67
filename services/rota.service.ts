import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { AuditLog } from '../db/entities';
import * as readModel from '../db/read-model';
import { RotaEntry } from '../db/rota.entities';
import { checkRotaChange, dutyDay, nobodyOnDuty, ROTA_ROLE, rotaDay, type DutyDay, type RotaKind, type StaffMember } from '../engine/rota';
import { addDays, DEFAULT_ZONE, localDate } from '../engine/time';
import { dayKind, weekdayOf, type DayKind, type WorkCalendar } from '../engine/working-days';
import type { CommunityService } from './community.service';
import { badRequest, conflict, forbidden, notFound } from './errors';
import { mayReach, type Principal } from './principal';
import { DEFAULT_COMMUNITY, describeCommunities } from '../engine/community';

/** Longest stretch one request reads or changes: two months of leave at once. */
export const ROTA_MAX_DAYS = 62;

export interface RotaEntryView {
  member: string;
  kind: RotaKind;
  standIn: string | null;
  note: string | null;
  updatedBy: string;
  updatedAt: string;
}

export interface RotaDayView extends DutyDay {
  day: string;
  /** 1 Monday … 7 Sunday. */
  weekday: number;
  /** What the statutory calendar says the day is. */
  calendar: DayKind;
  entries: RotaEntryView[];
}

export interface RotaView {
  grid: string;
  from: string;
  to: string;
  /** Whether the caller may change this grid's rota, and who may. */
  mayEdit: boolean;
  editors: string;
  staff: { id: string; name: string; role: string }[];
  days: RotaDayView[];
}

export interface RotaSet {
  member: string;
  from: string;
  to?: string;
  kind: RotaKind;
  standIn?: string | null;
  note?: string;
}

/** Roles that see a grid's rota (their own grids); managers and admin see every grid's. */
const READERS = new Set<Principal['role']>(['admin', 'manager', 'grid-leader', 'grid-worker']);
const key = (grid: string, day: string) => `${grid}|${day}`;

function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to && out.length <= ROTA_MAX_DAYS; d = addDays(d, 1)) out.push(d);
  return out;
}

/**
 * The duty rota: who is on duty, resting or on leave in each grid and day, and who stands in.
 * Managers edit any grid's, grid leaders their own; every change is in the audit log. The task list,
 * the access checks, the reminders and the monthly scores ask it who holds the worker's work.
 */
export class RotaService {
  constructor(private readonly deps: { orm: MikroORM; community: CommunityService; calendar?: WorkCalendar }) {}

  today(now = Date.now()): string {
    return localDate(now, DEFAULT_ZONE);
  }

  private async staffOf(grids: string[]): Promise<Map<string, (StaffMember & { name: string })[]>> {
    return this.deps.community.staff(grids);
  }

  /** The duty of each (grid, day) asked for that has entries; the others are as before the rota. */
  async dutyOn(keys: { grid: string; day: string }[]): Promise<Map<string, DutyDay>> {
    const unique = [...new Map(keys.map((k) => [key(k.grid, k.day), k])).values()];
    const out = new Map<string, DutyDay>();
    if (!unique.length) return out;
    const rows = await this.deps.orm.em.fork().find(RotaEntry, { $or: unique.map((k) => ({ gridId: k.grid, day: k.day })) });
    if (!rows.length) return out;
    const staff = await this.staffOf([...new Set(rows.map((r) => r.gridId))]);
    for (const k of unique) {
      const entries = rows.filter((r) => r.gridId === k.grid && r.day === k.day);
      if (entries.length) out.set(key(k.grid, k.day), dutyDay(staff.get(k.grid) ?? [], entries.map(toEntry)));
    }
    return out;
  }

  /** The duty of one grid and day when its rota says anything, else undefined. */
  async dutyOf(grid: string, day: string): Promise<DutyDay | undefined> {
    return (await this.dutyOn([{ grid, day }])).get(key(grid, day));
  }

  /**
   * The task states of a running process this member holds by the rota: the worker's tasks on a day
   * the member stands in or covers. Like a task handed over by a reassignment, holding one lends its
   * role for that task's events; the worker keeps what their own role allows.
   */
  async holds(member: { id: string; role: string; gridId: string | null }, workflowId: string): Promise<string[]> {
    // The worker holds their own tasks by role already; only the grid's other staff stand in or cover.
    if (!member.gridId || !workflowId || member.role === ROTA_ROLE) return [];
    const row = await readModel.runningTasksOf(this.deps.orm, workflowId);
    if (!row || row.grid !== member.gridId) return [];
    const tasks = row.tasks.filter((t) => t.role === ROTA_ROLE);
    if (!tasks.length) return [];
    const duty = await this.dutyOf(row.grid, rotaDay(row.day, this.today()));
    return duty?.worker.member === member.id && duty.worker.why !== 'worker' ? tasks.map((t) => t.state) : [];
  }

  /**
   * Who is told what a notice to `role` says: the worker's reminders go to whoever holds the worker's
   * tasks on the notice's day; with nobody on duty, or any other role, as before.
   */
  async resolveRole(grid: string | null, role: string, organization?: string, at?: string, community?: string): Promise<{ id: string }[]> {
    if (role === ROTA_ROLE && grid) {
      const duty = await this.dutyOf(grid, localDate(at ? Date.parse(at) : Date.now(), DEFAULT_ZONE));
      if (duty?.worker.member) return [{ id: duty.worker.member }];
    }
    return this.deps.community.resolveRole(grid, role, organization, community);
  }

  /** The grid and day (`grid|YYYY-MM-DD`) of each day of `month` on which the rota had nobody on duty. */
  async nobodyOnDutyDays(month: string): Promise<Set<string>> {
    const [y, m] = month.split('-').map(Number);
    const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
    const rows = await this.deps.orm.em.fork().find(RotaEntry, { day: { $gte: `${month}-01`, $lt: next } });
    const out = new Set<string>();
    if (!rows.length) return out;
    const staff = await this.staffOf([...new Set(rows.map((r) => r.gridId))]);
    const byDay = new Map<string, RotaEntry[]>();
    for (const r of rows) (byDay.get(key(r.gridId, r.day)) ?? byDay.set(key(r.gridId, r.day), []).get(key(r.gridId, r.day)))?.push(r);
    for (const [k, entries] of byDay) {
      if (nobodyOnDuty(dutyDay(staff.get(k.split('|')[0]) ?? [], entries.map(toEntry)))) out.add(k);
    }
    return out;
  }

  private async leadersOf(grid: string): Promise<string[]> {
    return ((await this.staffOf([grid])).get(grid) ?? []).filter((m) => m.role === 'grid-leader').map((m) => m.id);
  }

  private async editors(grid: string): Promise<string> {
    const leaders = await this.leadersOf(grid);
    return `a manager, or ${grid}'s grid leader${leaders.length ? ` (${leaders.join(', ')})` : ''}`;
  }

  private static mayEdit(p: Principal, grid: string): boolean {
    return (p.role === 'admin' || p.role === 'manager' || p.role === 'grid-leader') && mayReach(p, grid);
  }

  private async requireGrid(grid: string): Promise<void> {
    if (await this.deps.community.gridExists(grid)) return;
    throw notFound(`grid "${grid}" does not exist; known: ${(await this.deps.community.gridIds()).join(', ') || 'none'}`);
  }

  private static who(p: Principal): string {
    return `${p.role} ${p.grids === 'all' ? `of ${p.communities ? `the communities ${describeCommunities(p)}` : p.community && p.community !== DEFAULT_COMMUNITY ? `community ${p.community}` : 'the community'}` : `of ${p.grids.join(', ') || 'no grid'}`}`;
  }

  /** Refuses (403) anyone but a manager or the grid's own leader, naming who may. */
  async requireEditor(p: Principal, grid: string): Promise<void> {
    if (p.role !== 'admin' && p.role !== 'manager' && p.role !== 'grid-leader') {
      throw forbidden(`the rota of ${grid} is edited by ${await this.editors(grid)}; you are ${RotaService.who(p)}`);
    }
    await this.requireGrid(grid);
    if (!RotaService.mayEdit(p, grid)) throw forbidden(`the rota of ${grid} is edited by ${await this.editors(grid)}; you are ${RotaService.who(p)}`);
  }

  /** The rota of one grid from `from` to `to`: each day's entries and who is on duty. */
  async view(p: Principal, grid: string, range: { from?: string; to?: string }): Promise<RotaView> {
    if (!READERS.has(p.role)) throw forbidden(`the rota of ${grid} is for managers and ${grid}'s own staff; you are ${RotaService.who(p)}`);
    await this.requireGrid(grid);
    if (!mayReach(p, grid)) throw forbidden(`the rota of ${grid} is for managers and ${grid}'s own staff; you are ${RotaService.who(p)}`);
    const today = this.today();
    // The week (Monday to Sunday) holding today, unless asked otherwise.
    const from = range.from ?? addDays(today, -((weekdayOf(today) + 6) % 7));
    const to = range.to ?? addDays(from, 6);
    checkRange(from, to);
    return this.read(p, grid, from, to);
  }

  private async read(p: Principal, grid: string, from: string, to: string): Promise<RotaView> {
    const rows = await this.deps.orm.em.fork().find(RotaEntry, { gridId: grid, day: { $gte: from, $lte: to } }, { orderBy: { day: 'asc', memberId: 'asc' } });
    const staff = (await this.staffOf([grid])).get(grid) ?? [];
    const days = daysBetween(from, to).map((day): RotaDayView => {
      const entries = rows.filter((r) => r.day === day);
      return {
        day,
        weekday: ((weekdayOf(day) + 6) % 7) + 1,
        calendar: this.deps.calendar ? dayKind(day, this.deps.calendar) : weekdayOf(day) % 6 === 0 ? 'weekend' : 'workday',
        entries: entries.map((e) => ({ member: e.memberId, kind: e.kind, standIn: e.standIn ?? null, note: e.note ?? null, updatedBy: e.updatedBy, updatedAt: new Date(e.updatedAt).toISOString() })),
        ...dutyDay(staff, entries.map(toEntry)),
      };
    });
    return { grid, from, to, mayEdit: RotaService.mayEdit(p, grid), editors: await this.editors(grid), staff, days };
  }

  /** Sets one member's duty, rest or leave (with a stand-in) on each day from `from` to `to`. */
  async set(p: Principal, grid: string, change: RotaSet): Promise<RotaView & { changed: number }> {
    await this.requireEditor(p, grid);
    const to = change.to ?? change.from;
    checkRange(change.from, to);
    const days = daysBetween(change.from, to);
    const after = { kind: change.kind, standIn: change.standIn ?? null, note: change.note ?? null };
    const changed = await this.deps.orm.em.fork().transactional(async (em) => {
      await lock(em, grid);
      const staff = (await this.staffOf([grid])).get(grid) ?? [];
      const existing = await em.find(RotaEntry, { gridId: grid, day: { $gte: change.from, $lte: to } });
      const problems = days.flatMap((day) =>
        checkRotaChange(grid, day, staff, existing.filter((e) => e.day === day && e.memberId !== change.member).map(toEntry), change).map((x) => ({ ...x, day })),
      );
      refuse(problems);
      let n = 0;
      for (const day of days) {
        const mine = existing.find((e) => e.day === day && e.memberId === change.member);
        if (mine && mine.kind === after.kind && (mine.standIn ?? null) === after.standIn && (mine.note ?? null) === after.note) continue;
        const before = mine ? { kind: mine.kind, standIn: mine.standIn ?? null, note: mine.note ?? null } : null;
        if (mine) Object.assign(mine, after, { updatedBy: p.name, updatedAt: new Date() });
        else em.persist(Object.assign(new RotaEntry(), { gridId: grid, day, memberId: change.member, ...after, updatedBy: p.name, updatedAt: new Date() }));
        em.persist(audit(p, 'rota.set', grid, day, change.member, before, after));
        n++;
      }
      return n;
    });
    return { ...(await this.read(p, grid, change.from, to)), changed };
  }

  /** Removes one member's entries from `from` to `to`: the days are as without a rota again for them. */
  async clear(p: Principal, grid: string, q: { member: string; from: string; to?: string }): Promise<RotaView & { changed: number }> {
    await this.requireEditor(p, grid);
    const to = q.to ?? q.from;
    checkRange(q.from, to);
    const changed = await this.deps.orm.em.fork().transactional(async (em) => {
      await lock(em, grid);
      const mine = await em.find(RotaEntry, { gridId: grid, memberId: q.member, day: { $gte: q.from, $lte: to } });
      for (const e of mine) {
        em.remove(e);
        em.persist(audit(p, 'rota.clear', grid, e.day, e.memberId, { kind: e.kind, standIn: e.standIn ?? null, note: e.note ?? null }, null));
      }
      return mine.length;
    });
    return { ...(await this.read(p, grid, q.from, to)), changed };
  }
}

const toEntry = (r: RotaEntry) => ({ member: r.memberId, kind: r.kind, standIn: r.standIn ?? null });

function checkRange(from: string, to: string): void {
  if (to < from) throw badRequest(`"to" (${to}) is before "from" (${from}); give a range that runs forward`, [{ path: 'to', message: `a day on or after ${from}` }]);
  const last = addDays(from, ROTA_MAX_DAYS - 1);
  if (to > last) throw badRequest(`${from} to ${to} is more than ${ROTA_MAX_DAYS} days; ask for at most ${ROTA_MAX_DAYS} (up to ${last})`, [{ path: 'to', message: `at most ${last}` }]);
}

function refuse(problems: { status: 400 | 409; path: string; message: string; day: string }[]): void {
  if (!problems.length) return;
  const detail = problems.map((x) => `${x.day}: ${x.message}`).join('; ');
  const errors = problems.map((x) => ({ path: x.path, message: `${x.day}: ${x.message}` }));
  // A request that names the wrong people is the caller's to fix (400); one that only clashes with another entry is a conflict.
  if (problems.some((x) => x.status === 400)) throw badRequest(`the rota was not changed: ${detail}`, errors);
  throw conflict(`the rota was not changed: ${detail}`, { errors });
}

/** One writer per grid at a time, so two edits cannot both name someone away as a stand-in. */
async function lock(em: EntityManager, grid: string) {
  await em.getConnection().execute(`select pg_advisory_xact_lock(hashtext(?))`, [`rota:${grid}`], 'all', em.getTransactionContext());
}

function audit(p: Principal, action: 'rota.set' | 'rota.clear', grid: string, day: string, member: string, before: unknown, after: unknown): AuditLog {
  return Object.assign(new AuditLog(), {
    at: new Date(),
    actor: p.name,
    action,
    subject: `rota/${grid}/${day}/${member}`,
    data: { grid, day, member, before, after, ...(p.memberId ? { by: p.memberId } : {}) },
  });
}

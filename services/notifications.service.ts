import type { MikroORM } from '@mikro-orm/postgresql';
import { communitiesOf, mayReach, type Principal } from './principal';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from '../config/config';
import { DEFAULT_ZONE, formatLocal } from '../engine/time';
import { badRequest, forbidden, notFound, ProblemError } from './errors';
import { callerKey } from './tokens.service';
import { gridNames, nameGrids } from './names';

export interface InboxItem {
  id: string;
  seq: number;
  at: string;
  kind: string;
  title: string;
  body: string;
  urgent: boolean;
  workflowId: string;
  grid: string | null;
  /** The grid's name in the registry (第三网格), for people; `grid` is its id. */
  gridName: string | null;
  role: string;
  memberId: string | null;
  readAt: string | null;
}

interface Row {
  id: string;
  seq: string;
  at: Date;
  kind: string;
  title: string;
  body: string;
  urgent: boolean;
  workflow_id: string;
  grid: string | null;
  community_id: string;
  role: string;
  member_id: string | null;
  read_at: Date | null;
}

const iso = (d: Date) => formatLocal(new Date(d).getTime(), DEFAULT_ZONE);
// A notice is stored as the process rendered it; people read it with grid names for grid ids, as the registry has them now.
const item = (r: Row, grids: Map<string, string>): InboxItem => ({
  id: r.id,
  seq: Number(r.seq),
  at: iso(r.at),
  kind: r.kind,
  title: nameGrids(r.title, grids),
  body: nameGrids(r.body, grids),
  urgent: r.urgent,
  workflowId: r.workflow_id,
  grid: r.grid,
  gridName: r.grid === null ? null : grids.get(r.grid) ?? r.grid,
  role: r.role,
  memberId: r.member_id,
  readAt: r.read_at ? iso(r.read_at) : null,
});

/** What a stream does with what the service tells it. */
export interface StreamHandlers {
  notice(n: InboxItem): void;
  /** The stream is over (its token was revoked or expired); `reason` says why. */
  end(reason: string): void;
  /** Whether the caller's token is still good; asked every `recheckMs`. */
  stillValid(): Promise<boolean>;
}

interface Listener {
  principal: Principal;
  key: string;
  member?: string;
  handlers: StreamHandlers;
}

/** Each member's inbox, and a live feed of new notices for the API's event streams. */
export class NotificationService {
  private listeners = new Set<Listener>();
  private lastSeq?: number;
  private timer?: NodeJS.Timeout;
  private recheck?: NodeJS.Timeout;

  constructor(
    private readonly orm: MikroORM,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {}

  /**
   * Whose notices a request means: the caller's own member, or any member for ops, managers and
   * admins. A grid-scoped token that speaks for a member reads only that member's; one that speaks
   * for none may name a member, and still sees only its grids (see visible).
   */
  private who(principal: Principal, member?: string): string | undefined {
    if (!member || member === 'me') {
      if (!principal.memberId && principal.grids !== 'all') throw badRequest('this token speaks for no member; ask for member=<id>');
      return principal.memberId;
    }
    if (principal.memberId && member !== principal.memberId && principal.grids !== 'all') {
      throw forbidden(`a ${principal.role} token reads only the notices of its own member ("${principal.memberId}"), not "${member}"; ops, managers and admins read any member's`);
    }
    return member;
  }

  /**
   * A grid-scoped caller sees its grids' notices only, and with a member, that member's; a notice
   * addressed to its own member is its own wherever it is (a community notice, a partner's work
   * in any grid).
   */
  private visible(principal: Principal, member: string | undefined, r: { member_id: string | null; grid: string | null; community_id: string }): boolean {
    if (member !== undefined && r.member_id !== member) return false;
    if (principal.memberId !== undefined && r.member_id === principal.memberId) return true;
    // Another community's notices are out of reach like another grid's.
    return mayReach(principal, r.grid, r.community_id);
  }

  async inbox(principal: Principal, q: { member?: string; unread?: boolean; limit: number; workflowId?: string }): Promise<InboxItem[]> {
    const member = this.who(principal, q.member);
    const where: string[] = [];
    const params: unknown[] = [];
    if (member !== undefined) {
      where.push('member_id = ?');
      params.push(member);
    }
    if (principal.grids !== 'all') {
      where.push('(grid = any(?::text[]) or member_id = ?)');
      params.push(`{${principal.grids.join(',')}}`, principal.memberId ?? null);
    }
    const communities = communitiesOf(principal);
    if (communities !== 'all') {
      where.push('(community_id = any(?::text[]) or member_id = ?)');
      params.push(`{${communities.join(',')}}`, principal.memberId ?? null);
    }
    if (q.unread) where.push('read_at is null');
    if (q.workflowId) {
      where.push('workflow_id = ?');
      params.push(q.workflowId);
    }
    const rows = await this.orm.em.getConnection().execute<Row[]>(
      `select * from notification ${where.length ? `where ${where.join(' and ')}` : ''} order by seq desc limit ?`,
      [...params, q.limit],
    );
    const grids = await gridNames(this.orm);
    return rows.map((r) => item(r, grids));
  }

  async markRead(id: string, principal: Principal): Promise<InboxItem> {
    const rows = await this.orm.em.getConnection().execute<Row[]>(`select * from notification where id = ?`, [id]);
    const row = rows[0];
    // Someone else's notice is indistinguishable from none.
    if (!row || !this.visible(principal, principal.memberId, row)) throw notFound(`notification "${id}" does not exist`);
    await this.orm.em.getConnection().execute(`update notification set read_at = coalesce(read_at, now()) where id = ?`, [id]);
    return item((await this.orm.em.getConnection().execute<Row[]>(`select * from notification where id = ?`, [id]))[0], await gridNames(this.orm));
  }

  /**
   * Gives `handlers.notice` each new notice the caller may see, until the returned function is
   * called or its token stops being valid. A caller holds at most `perCaller` streams at once.
   */
  async subscribe(principal: Principal, member: string | undefined, handlers: StreamHandlers): Promise<() => void> {
    const who = this.who(principal, member);
    const entry: Listener = { principal, key: callerKey(principal), member: who, handlers };
    if (this.lastSeq === undefined) {
      const [{ max }] = await this.orm.em.getConnection().execute<{ max: string | null }[]>(`select max(seq) as max from notification`);
      this.lastSeq = Number(max ?? 0);
    }
    const open = [...this.listeners].filter((l) => l.key === entry.key).length;
    if (open >= this.limits.perCaller) {
      throw new ProblemError(
        429,
        'Too Many Requests',
        `${principal.role} "${principal.name}" already has ${open} open notification streams, the most one caller may hold; close one before opening another`,
      );
    }
    this.listeners.add(entry);
    this.poll();
    this.scheduleRecheck();
    return () => {
      this.listeners.delete(entry);
    };
  }

  // Every open stream's token is asked again now and then; a revoked or expired one ends its stream.
  private scheduleRecheck() {
    if (this.recheck || this.listeners.size === 0) return;
    // Each stream's check settles on its own (one that throws ends no other), so the round never rejects.
    this.recheck = setTimeout(() => void (async () => {
      await Promise.allSettled(
        [...this.listeners].map(async (l) => {
          // When the database is away the token can not be checked: keep the stream until it can.
          const valid = await l.handlers.stillValid().catch(() => true);
          if (valid || !this.listeners.delete(l)) return;
          l.handlers.end('the token was revoked or has expired; sign in again');
        }),
      );
      this.recheck = undefined;
      this.scheduleRecheck();
    })(), this.limits.recheckMs);
    this.recheck.unref();
  }

  // One poller for all streams of this API process, running only while someone listens.
  private poll() {
    if (this.timer || this.listeners.size === 0) return;
    // The round catches its own failures (the database away), so it never rejects.
    this.timer = setTimeout(() => void (async () => {
      try {
        const rows = await this.orm.em.getConnection().execute<Row[]>(`select * from notification where seq > ? order by seq limit 500`, [this.lastSeq ?? 0]);
        const grids = rows.length ? await gridNames(this.orm) : new Map<string, string>();
        for (const r of rows) {
          this.lastSeq = Math.max(this.lastSeq ?? 0, Number(r.seq));
          for (const l of this.listeners) if (this.visible(l.principal, l.member, r)) l.handlers.notice(item(r, grids));
        }
      } catch {
        // the database is away: try again on the next tick
      }
      this.timer = undefined;
      this.poll();
    })(), 300);
    this.timer.unref();
  }

  close() {
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    if (this.recheck) clearTimeout(this.recheck);
    this.timer = undefined;
    this.recheck = undefined;
  }
}

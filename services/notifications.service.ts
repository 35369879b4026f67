import type { MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../api/auth';
import { formatLocal } from '../definitions/time';
import { badRequest, notFound } from './errors';

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
  role: string;
  member_id: string | null;
  read_at: Date | null;
}

const iso = (d: Date) => formatLocal(new Date(d).getTime(), 'Asia/Shanghai');
const item = (r: Row): InboxItem => ({
  id: r.id,
  seq: Number(r.seq),
  at: iso(r.at),
  kind: r.kind,
  title: r.title,
  body: r.body,
  urgent: r.urgent,
  workflowId: r.workflow_id,
  grid: r.grid,
  role: r.role,
  memberId: r.member_id,
  readAt: r.read_at ? iso(r.read_at) : null,
});

type Listener = (n: InboxItem) => void;

/** Each member's inbox, and a live feed of new notices for the API's event streams. */
export class NotificationService {
  private listeners = new Set<{ principal: Principal; member?: string; fn: Listener }>();
  private lastSeq?: number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly orm: MikroORM) {}

  /** Whose inbox a request means: the caller's own member, or (managers) any member. */
  private who(principal: Principal, member?: string): string | undefined {
    if (!member || member === 'me') {
      if (!principal.memberId && principal.grids !== 'all') throw badRequest('this token speaks for no member; ask for member=<id>');
      return principal.memberId;
    }
    if (principal.memberId && member !== principal.memberId && principal.grids !== 'all') throw notFound(`no inbox "${member}" for you`);
    return member;
  }

  private visible(principal: Principal, member: string | undefined, r: { member_id: string | null; grid: string | null }): boolean {
    if (member !== undefined) return r.member_id === member;
    return principal.grids === 'all' || (r.grid !== null && principal.grids.includes(r.grid));
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
      where.push('grid = any(?::text[])');
      params.push(`{${principal.grids.join(',')}}`);
    }
    if (q.unread) where.push('read_at is null');
    if (q.workflowId) {
      where.push('workflow_id = ?');
      params.push(q.workflowId);
    }
    const rows = await this.orm.em.fork().getConnection().execute<Row[]>(
      `select * from notification ${where.length ? `where ${where.join(' and ')}` : ''} order by seq desc limit ?`,
      [...params, q.limit],
    );
    return rows.map(item);
  }

  async markRead(id: string, principal: Principal): Promise<InboxItem> {
    const rows = await this.orm.em.fork().getConnection().execute<Row[]>(`select * from notification where id = ?`, [id]);
    const row = rows[0];
    // Someone else's notice is indistinguishable from none.
    if (!row || (principal.memberId ? row.member_id !== principal.memberId : !this.visible(principal, undefined, row))) throw notFound(`notification "${id}" does not exist`);
    await this.orm.em.fork().getConnection().execute(`update notification set read_at = coalesce(read_at, now()) where id = ?`, [id]);
    return item((await this.orm.em.fork().getConnection().execute<Row[]>(`select * from notification where id = ?`, [id]))[0]);
  }

  /** Calls `fn` with each new notice the caller may see, until the returned function is called. */
  async subscribe(principal: Principal, member: string | undefined, fn: Listener): Promise<() => void> {
    const who = this.who(principal, member);
    const entry = { principal, member: who, fn };
    if (this.lastSeq === undefined) {
      const [{ max }] = await this.orm.em.fork().getConnection().execute<{ max: string | null }[]>(`select max(seq) as max from notification`);
      this.lastSeq = Number(max ?? 0);
    }
    this.listeners.add(entry);
    this.poll();
    return () => {
      this.listeners.delete(entry);
    };
  }

  // One poller for all streams of this API process, running only while someone listens.
  private poll() {
    if (this.timer || this.listeners.size === 0) return;
    this.timer = setTimeout(async () => {
      try {
        const rows = await this.orm.em.fork().getConnection().execute<Row[]>(`select * from notification where seq > ? order by seq limit 500`, [this.lastSeq ?? 0]);
        for (const r of rows) {
          this.lastSeq = Math.max(this.lastSeq ?? 0, Number(r.seq));
          for (const l of this.listeners) if (this.visible(l.principal, l.member, r)) l.fn(item(r));
        }
      } catch {
        // the database is away: try again on the next tick
      }
      this.timer = undefined;
      this.poll();
    }, 300);
    this.timer.unref();
  }

  close() {
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

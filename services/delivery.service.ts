import type { MikroORM } from '@mikro-orm/postgresql';
import { DEFAULT_WEBHOOK_POLICY, type WebhookPolicy } from '../config/config';
import type { Notice } from '../engine/engine';
import { addDays, atLocal, DEFAULT_ZONE, formatLocal, localDate, parseClock, zoneOffsetMinutes } from '../engine/time';
import type { Logger } from '../infra/log';
import { badRequest, notFound } from './errors';
import { checkWebhookUrl, postWebhook, resolveWebhookHost, WebhookRefused } from './webhooks';
import { gridNames, nameGrids } from './names';

// Notices of every definition share the quiet hours, so they are read in the one default zone.
const ZONE = DEFAULT_ZONE;
const MAX_ATTEMPTS = 60;
const LOCK_MS = 15_000;

export interface Channel {
  gridId: string;
  webhookUrl: string;
  format: 'text' | 'markdown';
  quietStart: string;
  quietEnd: string;
  enabled: boolean;
}

/**
 * When a notice may go out: at once when urgent or outside quiet hours, else at the end of the
 * quiet hours (22:00-07:00 by default, the next morning).
 */
export function deliverAfter(at: number, urgent: boolean, quietStart = '22:00', quietEnd = '07:00'): number {
  if (urgent) return at;
  const day = localDate(at, ZONE);
  const minutes = Math.floor(((at + zoneOffsetMinutes(ZONE) * 60_000) % 86_400_000) / 60_000);
  const start = parseClock(quietStart);
  const end = parseClock(quietEnd);
  const inQuiet = start > end ? minutes >= start || minutes < end : minutes >= start && minutes < end;
  if (!inQuiet) return at;
  // Past midnight the morning is today; before midnight it is tomorrow.
  const morning = start > end && minutes >= start ? addDays(day, 1) : day;
  return atLocal(morning, quietEnd, ZONE);
}

/** Backoff between attempts: 1 s, 2 s, 4 s ... up to 5 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 300_000);
}

/** A failed attempt as grid roles see it: the status code, not the webhook's answer. */
export function generalError(statusCode: number | null): string {
  const what = statusCode !== null ? `the webhook answered HTTP ${statusCode}` : 'the webhook could not be reached';
  return `${what}; ops and managers see the details in GET /api/deliveries`;
}

/** The WeCom group robot message for a notice. */
export function wecomMessage(format: Channel['format'], notice: Notice, grid: string, at: string, id: string): Record<string, unknown> {
  const label = { info: '通知', reminder: '提醒', escalation: '督办' }[notice.kind] ?? '通知';
  if (format === 'text') {
    return { msgtype: 'text', text: { content: `【${label}】${notice.title}\n${notice.body}`.trim() } };
  }
  const urgent = notice.urgent ? '<font color="warning">紧急</font> ' : '';
  return {
    msgtype: 'markdown',
    markdown: { content: `${urgent}**【${label}】${notice.title}**\n${notice.body ? `${notice.body}\n` : ''}> ${grid} · ${at.slice(0, 16).replace('T', ' ')} · ${id}` },
  };
}

/** The receiver of a lane's message: its URL and the headers to add, or undefined when there is none. */
export type LaneResolver = (lane: string, payload: Record<string, unknown>) => Promise<{ url: string; headers: Record<string, string> } | undefined>;

interface DeliveryRow {
  id: string;
  workflow_id: string;
  grid_id: string;
  kind: string;
  urgent: boolean;
  payload: Record<string, unknown>;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  deliver_after: Date;
  next_attempt_at: Date;
  delivered_at: Date | null;
  deferred: boolean;
}

/**
 * Delivery of notices to each grid's work chat group through its WeCom robot webhook, through an
 * outbox in PostgreSQL: a notice's delivery row has the notice's stable id, so retries, restarts
 * and replays write it once; a dispatcher sends the oldest pending one of each grid (so a grid's
 * messages arrive in order), retries failures with backoff and records every attempt.
 */
export class DeliveryService {
  private timer?: NodeJS.Timeout;
  private running = false;
  private busy?: Promise<void>;

  /** Counts deliveries sent, failed attempts and deferrals (wired to the worker's metrics). */
  onResult?: (result: 'sent' | 'failed' | 'deferred', grid: string) => void;

  /**
   * Other receivers on the same outbox: a lane whose name starts with a registered prefix (e.g.
   * `intake:`) is sent where its resolver says, with the headers it adds (a signature, say).
   */
  private readonly lanes = new Map<string, LaneResolver>();
  /** Run before each dispatch, to put what has happened since into the outbox. */
  private readonly feeders: (() => Promise<unknown>)[] = [];

  addLane(prefix: string, resolve: LaneResolver): void {
    this.lanes.set(prefix, resolve);
  }

  addFeeder(feed: () => Promise<unknown>): void {
    this.feeders.push(feed);
  }

  constructor(
    private readonly orm: MikroORM,
    private readonly log?: Logger,
    private readonly webhooks: WebhookPolicy = DEFAULT_WEBHOOK_POLICY,
  ) {}

  private conn() {
    return this.orm.em.getConnection();
  }

  async channel(gridId: string): Promise<Channel | undefined> {
    const rows = await this.conn().execute<{ grid_id: string; webhook_url: string; format: Channel['format']; quiet_start: string; quiet_end: string; enabled: boolean }[]>(
      `select * from grid_channel where grid_id = ?`,
      [gridId],
    );
    const r = rows[0];
    return r ? { gridId: r.grid_id, webhookUrl: r.webhook_url, format: r.format, quietStart: r.quiet_start, quietEnd: r.quiet_end, enabled: r.enabled } : undefined;
  }

  async setChannel(c: Channel): Promise<Channel> {
    let url: URL;
    try {
      url = new URL(c.webhookUrl);
    } catch {
      throw badRequest(`"${c.webhookUrl}" is not a URL`, [{ path: 'webhookUrl', message: 'the group robot webhook, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...' }]);
    }
    // Refused here with the reason, and checked again on every send (a name may change its answer).
    try {
      checkWebhookUrl(url, this.webhooks);
      await resolveWebhookHost(url.hostname, this.webhooks);
    } catch (e) {
      if (!(e instanceof WebhookRefused)) throw e;
      throw badRequest(e.message, [{ path: 'webhookUrl', message: e.message }]);
    }
    await this.conn().execute(
      `insert into grid_channel (grid_id, webhook_url, format, quiet_start, quiet_end, enabled, updated_at) values (?, ?, ?, ?, ?, ?, now())
       on conflict (grid_id) do update set webhook_url = excluded.webhook_url, format = excluded.format, quiet_start = excluded.quiet_start,
         quiet_end = excluded.quiet_end, enabled = excluded.enabled, updated_at = now()`,
      [c.gridId, c.webhookUrl, c.format, c.quietStart, c.quietEnd, c.enabled],
    );
    return (await this.channel(c.gridId)) as Channel;
  }

  /** Queues a notice for its grid's group, once per notice id; nothing when the grid has no channel. */
  async enqueue(p: { id: string; workflowId: string; grid: string | null; at: string; notice: Notice }): Promise<void> {
    if (!p.grid) return;
    const channel = await this.channel(p.grid);
    if (!channel?.enabled) return;
    const at = Date.parse(p.at);
    const after = deliverAfter(Math.max(at, Date.now()), p.notice.urgent, channel.quietStart, channel.quietEnd);
    // The group reads grid names (第三网格) for grid ids, as the registry has them when the notice is queued.
    const grids = await gridNames(this.orm);
    const notice = { ...p.notice, title: nameGrids(p.notice.title, grids), body: nameGrids(p.notice.body, grids) };
    const payload = wecomMessage(channel.format, notice, grids.get(p.grid) ?? p.grid, p.at, p.id);
    await this.conn().execute(
      `insert into delivery (id, workflow_id, grid_id, kind, urgent, payload, status, created_at, deliver_after, next_attempt_at, deferred)
       values (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) on conflict (id) do nothing`,
      [p.id, p.workflowId, p.grid, p.notice.kind, p.notice.urgent, JSON.stringify(payload), new Date(at), new Date(after), new Date(after), after > Date.now() + 1000],
    );
    if (after > Date.now() + 1000) this.onResult?.('deferred', p.grid);
  }

  /**
   * Queues a message for a lane of another receiver (see addLane), once per id; a lane's messages
   * go out in the order they were queued.
   */
  async enqueueMessage(p: { id: string; workflowId: string; lane: string; kind: string; payload: Record<string, unknown> }): Promise<void> {
    await this.conn().execute(
      `insert into delivery (id, workflow_id, grid_id, kind, urgent, payload, status, created_at, deliver_after, next_attempt_at, deferred)
       values (?, ?, ?, ?, true, ?, 'pending', clock_timestamp(), now(), now(), false) on conflict (id) do nothing`,
      [p.id, p.workflowId, p.lane, p.kind, JSON.stringify(p.payload)],
    );
  }

  /** Where a row goes: a registered lane's receiver, else its grid's chat group. */
  private async target(row: DeliveryRow): Promise<{ url: string; headers: Record<string, string> } | string> {
    for (const [prefix, resolve] of this.lanes) {
      if (row.grid_id.startsWith(prefix)) return (await resolve(row.grid_id, row.payload)) ?? `lane ${row.grid_id} has no receiver`;
    }
    const channel = await this.channel(row.grid_id);
    return channel?.enabled ? { url: channel.webhookUrl, headers: {} } : `grid ${row.grid_id} has no enabled channel`;
  }

  /** Sends what is due now; returns how many it sent successfully. */
  async dispatchOnce(): Promise<number> {
    for (const feed of this.feeders) await feed().catch((e) => this.log?.warn('outbox feeder failed', { error: e }));
    const due = await this.conn().execute<DeliveryRow[]>(
      `with heads as (
         select distinct on (grid_id) id from delivery
          where status in ('pending', 'retrying', 'sending')
          order by grid_id, created_at, id
       )
       update delivery d set status = 'sending', attempts = d.attempts + 1, locked_until = now() + (? || ' milliseconds')::interval
        where d.id in (select id from heads)
          and d.deliver_after <= now() and d.next_attempt_at <= now()
          and (d.status <> 'sending' or d.locked_until < now())
       returning d.*`,
      [String(LOCK_MS)],
    );
    let sent = 0;
    await Promise.all(
      due.map(async (row) => {
        let ok = false;
        let code: number | null = null;
        let error: string | null = null;
        try {
          const target = await this.target(row);
          if (typeof target === 'string') throw new Error(target);
          const res = await postWebhook(target.url, row.payload, { 'x-gridflow-delivery-id': row.id, ...target.headers }, this.webhooks);
          code = res.status;
          let errcode = 0;
          try {
            errcode = Number((JSON.parse(res.text) as { errcode?: number }).errcode ?? 0);
          } catch {
            // a receiver that answers without JSON is judged by its status
          }
          ok = res.status >= 200 && res.status < 300 && errcode === 0;
          if (res.status >= 300 && res.status < 400) {
            error = `HTTP ${res.status}: the webhook redirects${res.location ? ` to ${res.location.slice(0, 200)}` : ''}; redirects are not followed, so set the URL it redirects to`;
          } else if (!ok) {
            error = `HTTP ${res.status}${errcode ? `, errcode ${errcode}` : ''}: ${res.text.slice(0, 200)}`;
          }
        } catch (e) {
          error = String((e as Error).message ?? e);
        }
        const conn = this.conn();
        await conn.execute(`insert into delivery_attempt (delivery_id, at, ok, status_code, error) values (?, now(), ?, ?, ?)`, [row.id, ok, code, error]);
        this.onResult?.(ok ? 'sent' : 'failed', row.grid_id);
        if (ok) {
          sent++;
          await conn.execute(`update delivery set status = 'delivered', delivered_at = now(), locked_until = null, last_error = null where id = ?`, [row.id]);
        } else {
          const attempts = row.attempts;
          const final = attempts >= MAX_ATTEMPTS;
          await conn.execute(
            `update delivery set status = ?, last_error = ?, locked_until = null, next_attempt_at = now() + (? || ' milliseconds')::interval where id = ?`,
            [final ? 'failed' : 'retrying', error, String(backoffMs(attempts)), row.id],
          );
          this.log?.warn('delivery failed', { delivery: row.id, grid: row.grid_id, attempts, error });
        }
      }),
    );
    return sent;
  }

  /** Runs the dispatcher every `intervalMs` until stop(). */
  start(intervalMs = 500): void {
    if (this.running) return;
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      this.busy = this.dispatchOnce()
        .then(async (n) => {
          // Keep going at once while there is more to send.
          if (n > 0 && this.running) await this.dispatchOnce();
        })
        .catch((e) => this.log?.warn('dispatcher tick failed', { error: e }))
        .then(() => undefined);
      await this.busy;
      if (this.running) this.timer = setTimeout(() => void tick(), intervalMs);
    };
    // tick never rejects: a failed round is logged above and the next one is scheduled.
    this.timer = setTimeout(() => void tick(), 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
  }

  /**
   * Deliveries with every attempt. Without `detailed`, errors are a status code and a general
   * sentence: the webhook's own answer and network details are for ops, managers and admins.
   */
  async list(q: { grid?: string; status?: string; workflowId?: string; grids: string[] | 'all'; detailed: boolean }) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.grids !== 'all') {
      where.push('grid_id = any(?::text[])');
      params.push(`{${q.grids.join(',')}}`);
    }
    if (q.grid) {
      where.push('grid_id = ?');
      params.push(q.grid);
    }
    if (q.status) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.workflowId) {
      where.push('workflow_id = ?');
      params.push(q.workflowId);
    }
    const rows = await this.conn().execute<DeliveryRow[]>(
      `select * from delivery ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at desc, id limit 500`,
      params,
    );
    const attempts = rows.length
      ? await this.conn().execute<{ delivery_id: string; at: Date; ok: boolean; status_code: number | null; error: string | null }[]>(
          `select delivery_id, at, ok, status_code, error from delivery_attempt where delivery_id = any(?::text[]) order by id`,
          [`{${rows.map((r) => `"${r.id.replace(/"/g, '\\"')}"`).join(',')}}`],
        )
      : [];
    const shown = (error: string | null, statusCode: number | null) => (error === null || q.detailed ? error : generalError(statusCode));
    return rows.map((r) => {
      const history = attempts.filter((a) => a.delivery_id === r.id);
      return {
        id: r.id,
        workflowId: r.workflow_id,
        grid: r.grid_id,
        kind: r.kind,
        urgent: r.urgent,
        // pending until it is delivered or given up; `detail` says whether it is waiting, sending or retrying.
        status: r.status === 'delivered' || r.status === 'failed' ? r.status : 'pending',
        detail: r.status,
        attempts: r.attempts,
        lastError: shown(r.last_error, history.at(-1)?.status_code ?? null),
        deferredUntil: r.deferred ? formatLocal(new Date(r.deliver_after).getTime(), ZONE) : undefined,
        createdAt: formatLocal(new Date(r.created_at).getTime(), ZONE),
        deliveredAt: r.delivered_at ? formatLocal(new Date(r.delivered_at).getTime(), ZONE) : undefined,
        history: history.map((a) => ({ at: formatLocal(new Date(a.at).getTime(), ZONE), ok: a.ok, statusCode: a.status_code, error: shown(a.error, a.status_code) })),
      };
    });
  }

  async getChannel(gridId: string): Promise<Channel> {
    const c = await this.channel(gridId);
    if (!c) throw notFound(`grid "${gridId}" has no chat channel; PUT /api/grids/${gridId}/channel sets one`);
    return c;
  }
}

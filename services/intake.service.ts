import crypto from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { DEFAULT_WEBHOOK_POLICY, type WebhookPolicy } from '../config/config';
import type { Actor } from '../engine/access';
import { DEFAULT_ZONE, formatLocal } from '../engine/time';
import type { DataKey } from '../infra/crypto';
import * as readModel from '../db/read-model';
import { PermanentEffectError } from './effect-ports';
import type { DeliveryService } from './delivery.service';
import { ProblemError, badRequest, conflict, notFound } from './errors';
import type { ProcessService } from './processes.service';
import { checkWebhookUrl, resolveWebhookHost, WebhookRefused } from './webhooks';

const LANE = 'intake:';
const iso = (d: Date | string) => formatLocal(new Date(d).getTime(), DEFAULT_ZONE);
const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export interface TicketRequest {
  ticketId: string;
  grid: string;
  category: string;
  description: string;
  urgency?: 'normal' | 'urgent';
  location?: string;
  reporter?: string;
  reporterPhone?: string;
}

/** An issue state in the words a hotline uses; states not listed are reported by their own name. */
export const HOTLINE_STATUS: Record<string, string> = {
  reported: 'received',
  triage: 'accepted',
  deliberation: 'accepted',
  handling: 'handling',
  suspended: 'suspended',
  verification: 'resolved',
  'awaiting-evaluation': 'verified',
  closed: 'closed',
  rejected: 'rejected',
};

/** The signature a receiver checks: HMAC-SHA256 with the shared secret over `<timestamp>.<body>`, in hex. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Reports from outside and their duplicates. External systems (the 12345 hotline and the like)
 * hold their own credential, good for `POST /api/intake/tickets` only; a ticket starts one issue
 * however often it is sent, and every status change of that issue goes back to the system's
 * webhook, signed, through the chat outbox (its retries, backoff and attempt log). Duplicate issues
 * are merged into the one kept: the duplicate ends rejected as a duplicate pointing at it, and the
 * duplicate's reporters (hotline tickets included) follow the kept issue from then on.
 * This module owns the intake_* tables and issue_merge.
 */
export class IntakeService {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      processes: ProcessService;
      delivery: DeliveryService;
      dataKey: DataKey;
      webhooks?: WebhookPolicy;
    },
  ) {
    deps.delivery.addLane(LANE, (lane, payload) => this.receiver(lane.slice(LANE.length), payload));
    deps.delivery.addFeeder(() => this.feedStatus());
  }

  private conn() {
    return this.deps.orm.em.getConnection();
  }

  /**
   * Registers a system, or replaces its credential, secret and webhook: the token and the signing
   * secret are shown once, in this answer.
   */
  async registerSystem(p: { name: string; webhookUrl?: string }, actor: string): Promise<{ name: string; token: string; webhookSecret: string; webhookUrl: string | null }> {
    if (p.webhookUrl) await this.checkUrl(p.webhookUrl);
    const token = `gfi_${p.name}_${crypto.randomBytes(24).toString('base64url')}`;
    const secret = `whsec_${crypto.randomBytes(32).toString('base64url')}`;
    const conn = this.conn();
    await conn.execute(
      `insert into intake_system (name, token_hash, webhook_url, secret, created_at) values (?, ?, ?, ?, now())
       on conflict (name) do update set token_hash = excluded.token_hash, webhook_url = excluded.webhook_url, secret = excluded.secret, created_at = now(), revoked_at = null`,
      [p.name, sha(token), p.webhookUrl ?? null, this.deps.dataKey.encryptText(secret)],
    );
    await conn.execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, 'intake.register', ?, ?)`, [actor, `intake:${p.name}`, JSON.stringify({ webhookUrl: p.webhookUrl ?? null })]);
    return { name: p.name, token, webhookSecret: secret, webhookUrl: p.webhookUrl ?? null };
  }

  async revokeSystem(name: string, actor: string): Promise<boolean> {
    const conn = this.conn();
    const res = await conn.execute(`update intake_system set revoked_at = now() where name = ? and revoked_at is null`, [name], 'run');
    const revoked = Number((res as { affectedRows?: number }).affectedRows ?? 0) > 0;
    if (revoked) await conn.execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, 'intake.revoke', ?, '{}')`, [actor, `intake:${name}`]);
    return revoked;
  }

  async systems() {
    const rows = await this.conn().execute<{ name: string; webhook_url: string | null; created_at: Date; revoked_at: Date | null }[]>(`select name, webhook_url, created_at, revoked_at from intake_system order by name`);
    return rows.map((r) => ({ name: r.name, webhookUrl: r.webhook_url, createdAt: iso(r.created_at), revoked: r.revoked_at !== null }));
  }

  /** The system an intake credential belongs to, or undefined when it is unknown or revoked. */
  async authenticate(token: string): Promise<string | undefined> {
    if (!token.startsWith('gfi_')) return undefined;
    const rows = await this.conn().execute<{ name: string }[]>(`select name from intake_system where token_hash = ? and revoked_at is null`, [sha(token)]);
    return rows[0]?.name;
  }

  private async checkUrl(url: string): Promise<void> {
    const policy = this.deps.webhooks ?? DEFAULT_WEBHOOK_POLICY;
    try {
      const parsed = new URL(url);
      checkWebhookUrl(parsed, policy);
      await resolveWebhookHost(parsed.hostname, policy);
    } catch (e) {
      if (e instanceof WebhookRefused) throw badRequest(e.message, [{ path: 'webhookUrl', message: e.message }]);
      if (e instanceof TypeError) throw badRequest(`"${url}" is not a URL`, [{ path: 'webhookUrl', message: 'the status webhook, e.g. https://hotline.example.gov.cn/gridflow/status' }]);
      throw e;
    }
  }

  /**
   * Starts the issue of a ticket, once: the same system and ticket id again answer with the same
   * issue (`created: false`). The issue's source is `hotline`.
   */
  async receive(system: string, t: TicketRequest): Promise<{ created: boolean; workflowId: string; system: string; ticketId: string; state?: string; status?: string }> {
    const conn = this.conn();
    const known = (await conn.execute<{ workflow_id: string }[]>(`select workflow_id from intake_ticket where system = ? and ticket_id = ?`, [system, t.ticketId]))[0];
    let workflowId = known?.workflow_id;
    let created = false;
    if (!workflowId) {
      const input = Object.fromEntries(
        Object.entries({ source: 'hotline', category: t.category, description: t.description, urgency: t.urgency, location: t.location, reporter: t.reporter, reporterPhone: t.reporterPhone }).filter(([, v]) => v !== undefined),
      );
      try {
        // The parent key makes the start idempotent even when two deliveries of a ticket race.
        ({ workflowId } = await this.deps.processes.startLinked({ parentWorkflowId: `${LANE}${system}`, key: t.ticketId, definition: 'issue', input, grid: t.grid }));
      } catch (e) {
        if (e instanceof PermanentEffectError) throw badRequest(e.message.replace(/^cannot start issue for intake:[^:]+: /, ''));
        throw e;
      }
      const inserted = await conn.execute<{ workflow_id: string }[]>(
        `insert into intake_ticket (system, ticket_id, workflow_id, created_at) values (?, ?, ?, now()) on conflict do nothing returning workflow_id`,
        [system, t.ticketId, workflowId],
      );
      created = inserted.length > 0;
      await conn.execute(`insert into intake_subscription (system, ticket_id, workflow_id, last_seq, created_at) values (?, ?, ?, 0, now()) on conflict do nothing`, [system, t.ticketId, workflowId]);
    }
    const now = await this.deps.processes.get(workflowId).catch(() => undefined);
    return { created, workflowId, system, ticketId: t.ticketId, ...(now ? { state: now.state, status: now.status } : {}) };
  }

  /** The ticket's issue as the system may see it: state and hotline status, nothing personal. */
  async ticket(system: string, ticketId: string) {
    const row = (await this.conn().execute<{ workflow_id: string }[]>(`select workflow_id from intake_ticket where system = ? and ticket_id = ?`, [system, ticketId]))[0];
    if (!row) throw notFound(`${system} ticket "${ticketId}" is not known here; POST /api/intake/tickets files it`);
    const merged = await this.keptOf(row.workflow_id);
    const followed = merged ?? row.workflow_id;
    const p = await this.deps.processes.get(followed);
    return { system, ticketId, workflowId: row.workflow_id, ...(merged ? { mergedInto: merged } : {}), state: p.state, status: HOTLINE_STATUS[p.state] ?? p.state, processStatus: p.status, updatedAt: p.updatedAt };
  }

  private async keptOf(workflowId: string): Promise<string | undefined> {
    return (await this.conn().execute<{ kept_workflow_id: string }[]>(`select kept_workflow_id from issue_merge where duplicate_workflow_id = ?`, [workflowId]))[0]?.kept_workflow_id;
  }

  /** Where a system's messages go, signed with its secret at the moment of sending. */
  private async receiver(system: string, payload: Record<string, unknown>) {
    const row = (await this.conn().execute<{ webhook_url: string | null; secret: string }[]>(`select webhook_url, secret from intake_system where name = ? and revoked_at is null`, [system]))[0];
    if (!row?.webhook_url) return undefined;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = signBody(this.deps.dataKey.decryptText(row.secret), timestamp, JSON.stringify(payload));
    return { url: row.webhook_url, headers: { 'x-gridflow-timestamp': timestamp, 'x-gridflow-signature': signature } };
  }

  /**
   * Puts each subscribed issue's state changes since the last look into the outbox, one message per
   * change and ticket (ids are stable, so two dispatchers feeding at once queue each once).
   */
  async feedStatus(): Promise<number> {
    const conn = this.conn();
    const rows = await readModel.ticketStepsToSend(this.deps.orm, 500);
    for (const r of rows) {
      if (r.from !== r.to) {
        const mergedInto = r.to === 'rejected' && r.mergedInto ? r.mergedInto : undefined;
        const kept = mergedInto ? await this.deps.processes.get(mergedInto).catch(() => undefined) : undefined;
        const payload: Record<string, unknown> = {
          system: r.system,
          ticketId: r.ticketId,
          workflowId: r.workflowId,
          status: mergedInto ? 'merged' : (HOTLINE_STATUS[r.to] ?? r.to),
          state: r.to,
          event: r.event,
          at: iso(r.at),
          seq: r.seq,
          ...(r.to === 'rejected' && r.data?.reason ? { reason: r.data.reason } : {}),
          ...(mergedInto ? { mergedInto, kept: kept ? { workflowId: mergedInto, state: kept.state, status: HOTLINE_STATUS[kept.state] ?? kept.state } : { workflowId: mergedInto } } : {}),
        };
        await this.deps.delivery.enqueueMessage({
          id: `${LANE}${r.system}:${r.ticketId}:${r.workflowId}:${String(r.seq).padStart(6, '0')}`,
          workflowId: r.workflowId,
          lane: `${LANE}${r.system}`,
          kind: 'status',
          payload,
        });
      }
      await conn.execute(`update intake_subscription set last_seq = greatest(last_seq, ?) where system = ? and ticket_id = ? and workflow_id = ?`, [r.seq, r.system, r.ticketId, r.workflowId]);
    }
    return rows.length;
  }

  /**
   * Merges `duplicateId` into `keptId`: the duplicate is rejected as a duplicate (sent as `by`, so
   * the definition decides who may), pointing at the kept issue, and its reporters follow the kept one.
   */
  async merge(keptId: string, duplicateId: string, by: Actor, shownAs: string) {
    if (keptId === duplicateId) throw badRequest(`an issue cannot be merged into itself ("${keptId}")`, [{ path: 'duplicate', message: 'the id of another issue of the same grid' }]);
    for (const [id, field] of [[keptId, 'id'], [duplicateId, 'duplicate']] as const) {
      if (!id.startsWith('issue/')) throw badRequest(`"${id}" is not an issue; only issues are merged`, [{ path: field, message: 'an issue id, e.g. issue/2026-000123' }]);
    }
    const [kept, dup] = await Promise.all([this.deps.processes.get(keptId), this.deps.processes.get(duplicateId)]);
    if (kept.grid !== dup.grid) throw badRequest(`"${duplicateId}" is an issue of ${dup.grid}, "${keptId}" of ${kept.grid}; only issues of one grid are merged`, [{ path: 'duplicate', message: `an issue of ${kept.grid}` }]);
    const conn = this.conn();
    const already = await this.keptOf(duplicateId);
    if (already) {
      if (already === keptId) return { kept: keptId, duplicate: duplicateId, merged: false, reporters: await this.reporters(keptId) };
      throw conflict(`"${duplicateId}" was already merged into "${already}"`);
    }
    const keptMerged = await this.keptOf(keptId);
    if (keptMerged) throw conflict(`"${keptId}" was itself merged into "${keptMerged}"; merge into that one`);
    if (kept.status !== 'running' || ['rejected', 'closed'].includes(kept.state)) throw conflict(`"${keptId}" has ended (${kept.state}); keep an open issue`);
    const source = (dup.context as { input?: { source?: string } })?.input?.source ?? null;
    await conn.execute(`insert into issue_merge (duplicate_workflow_id, kept_workflow_id, source, by, at) values (?, ?, ?, ?, now())`, [duplicateId, keptId, source, shownAs]);
    try {
      await this.deps.processes.sendEvent(duplicateId, { type: 'REJECT', data: { reason: 'duplicate', referTo: keptId, note: `合并至 ${keptId}` }, requestId: `merge:${duplicateId}` }, by);
    } catch (e) {
      // Refused (not the caller's to reject, or no longer in a state that takes REJECT): nothing is merged.
      await conn.execute(`delete from issue_merge where duplicate_workflow_id = ?`, [duplicateId]);
      if (e instanceof ProblemError && e.status === 409) throw conflict(`"${duplicateId}" can be merged only while it awaits acceptance (state "reported"); it is "${dup.state}". ${e.message}`, e.extra);
      throw e;
    }
    const keptSeq = await readModel.lastSeqOf(this.deps.orm, keptId);
    // Whoever followed the duplicate follows the kept issue from now on; earlier merges move with it.
    await conn.execute(
      `insert into intake_subscription (system, ticket_id, workflow_id, last_seq, created_at)
       select system, ticket_id, ?, ?, now() from intake_subscription where workflow_id = ? on conflict do nothing`,
      [keptId, keptSeq, duplicateId],
    );
    await conn.execute(`update issue_merge set kept_workflow_id = ? where kept_workflow_id = ?`, [keptId, duplicateId]);
    await conn.execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, 'issue.merge', ?, ?)`, [shownAs, keptId, JSON.stringify({ duplicate: duplicateId })]);
    return { kept: keptId, duplicate: duplicateId, merged: true, reporters: await this.reporters(keptId) };
  }

  /** Who reported an issue: its own report and each merged duplicate's, with their hotline tickets. */
  async reporters(workflowId: string) {
    const conn = this.conn();
    const merged = await conn.execute<{ duplicate_workflow_id: string; source: string | null; by: string; at: Date }[]>(
      `select duplicate_workflow_id, source, by, at from issue_merge where kept_workflow_id = ? order by at, duplicate_workflow_id`,
      [workflowId],
    );
    const ids = [workflowId, ...merged.map((m) => m.duplicate_workflow_id)];
    const tickets = await conn.execute<{ system: string; ticket_id: string; workflow_id: string }[]>(`select system, ticket_id, workflow_id from intake_ticket where workflow_id in (?) order by created_at`, [ids]);
    const own = (await readModel.findInstance(this.deps.orm, workflowId))?.context as { input?: { source?: string } } | undefined;
    const ticketsOf = (id: string) => tickets.filter((t) => t.workflow_id === id).map((t) => ({ system: t.system, ticketId: t.ticket_id }));
    return [
      { workflowId, source: own?.input?.source ?? null, tickets: ticketsOf(workflowId), merged: false },
      ...merged.map((m) => ({ workflowId: m.duplicate_workflow_id, source: m.source, tickets: ticketsOf(m.duplicate_workflow_id), merged: true, mergedBy: m.by, mergedAt: iso(m.at) })),
    ];
  }

  /** The issue a duplicate was merged into, if it was. */
  async mergedInto(workflowId: string): Promise<string | undefined> {
    return this.keptOf(workflowId);
  }
}

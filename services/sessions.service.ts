import crypto from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ConsoleSession, MemberIdentity, SignInAttempt, type IdentityProvider } from '../db/sessions.entities';
import { Member } from '../db/community.entities';
import { conflict, notFound } from './errors';
import { principalOfMember, STREET_OF_MEMBER, type Principal } from './principal';

const sha256 = (v: string) => crypto.createHash('sha256').update(v).digest('hex');
const secret = () => crypto.randomBytes(32).toString('base64url');

/**
 * The CSRF token of a session: derived from the cookie's secret, so only a page that was given it
 * (the console, by the readable CSRF cookie) can send it, and a cookie planted by another site
 * cannot come with a token that fits.
 */
export const csrfTokenOf = (sessionSecret: string): string => crypto.createHash('sha256').update(`gridflow-csrf:${sessionSecret}`).digest('base64url');

/** How long sessions last: at most `lifetimeMs` from sign-in, and `idleMs` without a request. */
export interface SessionTimes {
  lifetimeMs: number;
  idleMs: number;
}

/** A session cookie checked: who it is, or why it is refused (said to the caller as is). */
export type SessionCheck = { principal: Principal; sessionId: string } | { refused: string };

export interface SessionView {
  id: string;
  memberId: string;
  provider: IdentityProvider;
  subject: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  address: string | null;
  state: 'active' | 'revoked' | 'expired' | 'idle';
  revokedAt: string | null;
  revokedBy: string | null;
}

interface SessionRow {
  id: string;
  member_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  now: Date;
  name: string;
  role: string;
  grid_id: string | null;
  organization_id: string | null;
  community_id: string;
  street: string[] | null;
  active: boolean;
}

// A request refreshes last_seen_at at most this often: idle time is measured to the minute, not written per request.
const TOUCH_EVERY_MS = 60_000;
const ATTEMPT_MS = 10 * 60_000;
const hours = (ms: number) => `${Math.round(ms / 3_600_000)} hours`;
const minutes = (ms: number) => `${Math.round(ms / 60_000)} minutes`;

/**
 * Console sessions and what leads to them: accounts at identity providers linked to registry
 * members, sign-ins in progress, and the sessions themselves. This module owns the three tables.
 */
export class SessionService {
  constructor(
    private readonly orm: MikroORM,
    private readonly times: SessionTimes,
  ) {}

  // Sign-ins in progress.

  /** Remembers what the callback must find again; answers the secret for the browser's cookie. */
  async beginSignIn(provider: IdentityProvider, checks: { state: string; nonce?: string; codeVerifier?: string }): Promise<string> {
    const cookie = secret();
    const em = this.orm.em.fork();
    await em.nativeDelete(SignInAttempt, { expiresAt: { $lt: new Date() } });
    em.create(SignInAttempt, { hash: sha256(cookie), provider, state: checks.state, nonce: checks.nonce ?? null, codeVerifier: checks.codeVerifier ?? null, expiresAt: new Date(Date.now() + ATTEMPT_MS) });
    await em.flush();
    return cookie;
  }

  /** The sign-in this browser began at `provider`, taken once: a second callback with it finds nothing. */
  async takeSignIn(provider: IdentityProvider, cookie: string): Promise<SignInAttempt | undefined> {
    const em = this.orm.em.fork();
    const attempt = await em.findOne(SignInAttempt, { hash: sha256(cookie), provider });
    if (!attempt) return undefined;
    await em.nativeDelete(SignInAttempt, { hash: attempt.hash });
    return attempt.expiresAt > new Date() ? attempt : undefined;
  }

  // Accounts linked to members.

  /** The active member a provider's account is linked to, if any. */
  async linkedMember(provider: IdentityProvider, subject: string): Promise<Member | undefined> {
    const em = this.orm.em.fork();
    const link = await em.findOne(MemberIdentity, { provider, subject });
    return (link && (await em.findOne(Member, { id: link.memberId, active: true }))) ?? undefined;
  }

  /** The active member whose id a provider's claim names (GRIDFLOW_OIDC_MEMBER_CLAIM), linked from now on. */
  async linkByClaim(provider: IdentityProvider, subject: string, claim: string, memberId: string): Promise<Member | undefined> {
    const em = this.orm.em.fork();
    const member = await em.findOne(Member, { id: memberId, active: true });
    if (!member) return undefined;
    // The first sign-in links the account; later changes to the claim move nobody.
    await em.getConnection().execute(`insert into member_identity (provider, subject, member_id, linked_at, linked_by) values (?, ?, ?, now(), ?) on conflict do nothing`, [provider, subject, member.id, `claim:${claim}`]);
    return (await this.linkedMember(provider, subject)) ?? undefined;
  }

  async identities(memberId: string): Promise<{ provider: IdentityProvider; subject: string; linkedAt: string; linkedBy: string }[]> {
    await this.requireMember(memberId);
    const rows = await this.orm.em.fork().find(MemberIdentity, { memberId }, { orderBy: { provider: 'asc', subject: 'asc' } });
    return rows.map((r) => ({ provider: r.provider, subject: r.subject, linkedAt: r.linkedAt.toISOString(), linkedBy: r.linkedBy }));
  }

  /** Links an account to a member; the same link again changes nothing; an account linked to someone else is 409. */
  async link(memberId: string, provider: IdentityProvider, subject: string, by: string): Promise<{ created: boolean }> {
    await this.requireMember(memberId);
    const em = this.orm.em.fork();
    const existing = await em.findOne(MemberIdentity, { provider, subject });
    if (existing && existing.memberId !== memberId) throw conflict(`the ${provider} account "${subject}" is linked to member "${existing.memberId}"; unlink it there first (DELETE /api/members/${existing.memberId}/identities/${provider}/${encodeURIComponent(subject)})`);
    if (existing) return { created: false };
    em.create(MemberIdentity, { provider, subject, memberId, linkedAt: new Date(), linkedBy: by });
    await em.flush();
    return { created: true };
  }

  /** Unlinks an account; the sessions it opened end with it. */
  async unlink(memberId: string, provider: IdentityProvider, subject: string, by: string): Promise<{ sessionsRevoked: number }> {
    const em = this.orm.em.fork();
    const removed = await em.nativeDelete(MemberIdentity, { memberId, provider, subject });
    if (!removed) throw notFound(`member "${memberId}" has no linked ${provider} account "${subject}"; see GET /api/members/${memberId}/identities`);
    const revoked = await em.nativeUpdate(ConsoleSession, { memberId, provider, subject, revokedAt: null }, { revokedAt: new Date(), revokedBy: `${by} (account unlinked)` });
    return { sessionsRevoked: revoked };
  }

  // Sessions.

  /** Opens a session for a member; answers the cookie's secret (shown to the browser only). */
  async open(memberId: string, provider: IdentityProvider, subject: string, from: { userAgent?: string; address?: string }): Promise<{ id: string; secret: string; expiresAt: Date }> {
    const em = this.orm.em.fork();
    // Rows of sessions long over are kept a day for the message, then go.
    await em.nativeDelete(ConsoleSession, { expiresAt: { $lt: new Date(Date.now() - 86_400_000) } });
    const value = secret();
    const now = new Date();
    const session = em.create(ConsoleSession, {
      id: crypto.randomBytes(12).toString('hex'),
      hash: sha256(value),
      memberId,
      provider,
      subject,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.times.lifetimeMs),
      userAgent: from.userAgent?.slice(0, 300) ?? null,
      address: from.address?.slice(0, 64) ?? null,
    });
    await em.flush();
    return { id: session.id, secret: value, expiresAt: session.expiresAt };
  }

  /** Who a session cookie is, or why it is refused: unknown, revoked, expired, idle, or its member inactive. */
  async authenticate(value: string): Promise<SessionCheck> {
    const conn = this.orm.em.getConnection();
    const [row] = await conn.execute<SessionRow[]>(
      `select s.id, s.member_id, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, s.revoked_by, now() as now, m.name, m.role, m.grid_id, m.organization_id, m.active, m.community_id, ${STREET_OF_MEMBER} as street
         from console_session s join member m on m.id = s.member_id where s.hash = ?`,
      [sha256(value)],
    );
    const again = 'sign in again';
    if (!row) return { refused: `the session is not known (signed out, or ended long ago); ${again}` };
    const now = new Date(row.now).getTime();
    if (row.revoked_at) return { refused: `the session was revoked by ${row.revoked_by ?? 'a manager'} at ${new Date(row.revoked_at).toISOString()}; ${again}` };
    if (!row.active) return { refused: `member "${row.member_id}" is no longer active; their sessions have ended` };
    if (new Date(row.expires_at).getTime() <= now) return { refused: `the session expired at ${new Date(row.expires_at).toISOString()} (sessions last ${hours(this.times.lifetimeMs)}); ${again}` };
    const idleSince = new Date(row.last_seen_at).getTime();
    if (idleSince + this.times.idleMs <= now) return { refused: `the session was idle for more than ${minutes(this.times.idleMs)}; ${again}` };
    if (now - idleSince >= TOUCH_EVERY_MS) await conn.execute(`update console_session set last_seen_at = now() where id = ?`, [row.id]);
    const principal = principalOfMember({ id: row.member_id, role: row.role, gridId: row.grid_id, organizationId: row.organization_id, communityId: row.community_id, street: row.street ?? undefined }, row.name);
    if (!principal) return { refused: `member "${row.member_id}" has the registry role ${row.role}, which has no console access` };
    return { principal, sessionId: row.id };
  }

  /** Sign-out: the session's row goes. */
  async close(value: string): Promise<boolean> {
    return (await this.orm.em.fork().nativeDelete(ConsoleSession, { hash: sha256(value) })) > 0;
  }

  /** A member's sessions, newest first, those over within the last day included. */
  async list(memberId: string): Promise<SessionView[]> {
    await this.requireMember(memberId, true);
    const rows = await this.orm.em.fork().find(ConsoleSession, { memberId }, { orderBy: { createdAt: 'desc' } });
    const now = Date.now();
    return rows.map((s) => ({
      id: s.id,
      memberId: s.memberId,
      provider: s.provider,
      subject: s.subject,
      createdAt: s.createdAt.toISOString(),
      lastSeenAt: s.lastSeenAt.toISOString(),
      expiresAt: s.expiresAt.toISOString(),
      userAgent: s.userAgent ?? null,
      address: s.address ?? null,
      state: s.revokedAt ? 'revoked' : s.expiresAt.getTime() <= now ? 'expired' : s.lastSeenAt.getTime() + this.times.idleMs <= now ? 'idle' : 'active',
      revokedAt: s.revokedAt?.toISOString() ?? null,
      revokedBy: s.revokedBy ?? null,
    }));
  }

  /** The member a session belongs to (and their grid), for deciding who may revoke it. */
  async ownerOf(sessionId: string): Promise<{ memberId: string; gridId: string | null } | undefined> {
    const em = this.orm.em.fork();
    const s = await em.findOne(ConsoleSession, { id: sessionId });
    if (!s) return undefined;
    const m = await em.findOne(Member, { id: s.memberId });
    return { memberId: s.memberId, gridId: m?.gridId ?? null };
  }

  /** Revokes a session: its next request is refused, saying by whom. False when it was already revoked. */
  async revoke(sessionId: string, by: string): Promise<boolean> {
    return (await this.orm.em.fork().nativeUpdate(ConsoleSession, { id: sessionId, revokedAt: null }, { revokedAt: new Date(), revokedBy: by.slice(0, 100) })) > 0;
  }

  /** A member (active or not, when `any`) and their grid, or 404. */
  async requireMember(memberId: string, any = false): Promise<{ id: string; gridId: string | null }> {
    const m = await this.orm.em.fork().findOne(Member, any ? { id: memberId } : { id: memberId, active: true });
    if (!m) throw notFound(`member "${memberId}" does not exist${any ? '' : ' or is not active'}; see GET /api/grids/:id for members`);
    return { id: m.id, gridId: m.gridId ?? null };
  }
}

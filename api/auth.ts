import crypto from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { forbidden, unauthorized } from '../services/errors';
import type { Principal } from '../services/principal';
import { csrfTokenOf, type SessionCheck } from '../services/sessions.service';
import { CSRF_HEADER, cookieNames, readCookie } from './session-cookies';

export { mayReach, mayReachProcess, type Principal } from '../services/principal';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** The console session the request came with, when it came with one instead of a token. */
    sessionId?: string;
    /** Whether the request's credential still authenticates: an open stream asks now and then. */
    stillAuthenticated?: () => Promise<boolean>;
  }
}

const same = (a: string, b: string) => {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
};

/** Refuses callers whose role is not among `roles` (403 naming the roles that may). */
export function requireRole(...roles: Principal['role'][]): RequestHandler {
  return (req, _res, next) => {
    const role = req.principal?.role;
    if (role && (role === 'admin' || roles.includes(role))) return next();
    next(forbidden(`${req.method} ${req.baseUrl}${req.path} is for ${['admin', ...roles].join(', ')}; you are ${role ?? 'nobody'}`));
  };
}

export interface TokenLookup {
  authenticate(token: string): Promise<Principal | undefined>;
}

/** Console sessions: the cookie's lookup, and the sign-in settings (Secure cookies, the origins cookie requests may come from). */
export interface CookieSessions {
  sessions: { authenticate(secret: string): Promise<SessionCheck> };
  signIn: { cookiePolicy(): { secure: boolean }; origins(): string[] };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A request that changes something with a cookie must show it comes from the console: the CSRF
 * token derived from its session (another site can neither read nor compute it) and, when the
 * browser says where it comes from, one of the console's origins. Tokens need neither: a browser
 * never attaches them by itself.
 */
export function csrfRefusal(req: Request, secret: string, origins: string[]): string | undefined {
  if (SAFE.has(req.method)) return undefined;
  const origin = req.get('origin');
  if (origin !== undefined && !origins.includes(origin)) return `a request from ${origin} cannot act with this console's session; it is accepted from ${origins.join(', ') || 'the console'} only`;
  if (req.get('sec-fetch-site') === 'cross-site') return 'a cross-site request cannot act with this console\'s session';
  const sent = req.get(CSRF_HEADER);
  if (!sent) return `a request that changes something with a session cookie must carry the ${CSRF_HEADER} header (the console sends it; scripts use "Authorization: Bearer <token>" instead)`;
  if (!same(sent, csrfTokenOf(secret))) return `the ${CSRF_HEADER} header does not fit this session; reload the console (a script should use "Authorization: Bearer <token>")`;
  return undefined;
}

/**
 * Who is calling. A bearer token first: GRIDFLOW_ADMIN_TOKEN, when set, is accepted as admin, others
 * are looked up. Without an Authorization header, the console's session cookie, when sessions are
 * configured; it gives the same Principal a fitting token for that member would.
 */
export function authenticate(adminToken: string | undefined, tokens?: TokenLookup, sessions?: CookieSessions): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    const secret = header === undefined && sessions ? readCookie(req, cookieNames(sessions.signIn.cookiePolicy().secure).session) : undefined;
    if (sessions && secret !== undefined) {
      const check = await sessions.sessions.authenticate(secret);
      if ('refused' in check) return next(unauthorized(check.refused));
      const refusal = csrfRefusal(req, secret, sessions.signIn.origins());
      if (refusal) return next(forbidden(refusal));
      req.principal = check.principal;
      req.sessionId = check.sessionId;
      req.stillAuthenticated = async () => 'principal' in (await sessions.sessions.authenticate(secret));
      return next();
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) return next(unauthorized(sessions?.signIn.origins().length ? 'send "Authorization: Bearer <token>", or sign in to the console' : 'send "Authorization: Bearer <token>"'));
    const token = m[1];
    if (adminToken && same(token, adminToken)) {
      req.principal = { role: 'admin', name: 'admin', grids: 'all', communities: 'all' };
      req.stillAuthenticated = async () => true;
      return next();
    }
    const principal = await tokens?.authenticate(token);
    if (principal) {
      req.principal = principal;
      req.stillAuthenticated = async () => (await tokens?.authenticate(token)) !== undefined;
      return next();
    }
    return next(unauthorized('the token is not valid, expired or revoked'));
  };
}

import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { forbidden, unauthorized } from '../services/errors';
import type { Principal } from '../services/principal';

export { mayReach, mayReachProcess, type Principal } from '../services/principal';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
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

/** Bearer tokens. GRIDFLOW_ADMIN_TOKEN, when set, is accepted as admin; others are looked up. */
export function authenticate(adminToken: string | undefined, tokens?: TokenLookup): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return next(unauthorized('send "Authorization: Bearer <token>"'));
    if (adminToken && same(m[1], adminToken)) {
      req.principal = { role: 'admin', name: 'admin', grids: 'all' };
      return next();
    }
    const principal = await tokens?.authenticate(m[1]);
    if (principal) {
      req.principal = principal;
      return next();
    }
    return next(unauthorized('the token is not valid, expired or revoked'));
  };
}

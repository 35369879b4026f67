import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { unauthorized } from '../services/errors';

export interface Principal {
  role: 'admin' | 'ops' | 'manager' | 'grid-leader' | 'grid-worker';
  name: string;
  grids: string[] | 'all';
}

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

/** Bearer tokens. GRIDFLOW_ADMIN_TOKEN, when set, is accepted as admin. */
export function authenticate(adminToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return next(unauthorized('send "Authorization: Bearer <token>"'));
    if (adminToken && same(m[1], adminToken)) {
      req.principal = { role: 'admin', name: 'admin', grids: 'all' };
      return next();
    }
    return next(unauthorized('the token is not valid'));
  };
}

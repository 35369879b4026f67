import crypto from 'node:crypto';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { RateLimits } from '../config/config';
import type { Logger } from '../infra/log';
import { metrics } from '../infra/metrics';
import { ProblemError } from '../services/errors';
import { callerKey } from '../services/tokens.service';
import type { Principal } from './auth';

declare module 'express-serve-static-core' {
  interface Request {
    requestId?: string;
  }
}

/** A request id (the caller's X-Request-Id or a new one), echoed back and put on every log line. */
export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    req.requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : crypto.randomUUID();
    res.set('X-Request-Id', req.requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = `${req.baseUrl}${(req.route as { path?: string } | undefined)?.path ?? ''}` || 'unmatched';
      metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      log.info('request', { requestId: req.requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000), principal: req.principal?.name });
    });
    next();
  };
}

const hasNul = (v: unknown): boolean =>
  typeof v === 'string' ? v.includes('\u0000') : Array.isArray(v) ? v.some(hasNul) : v !== null && typeof v === 'object' ? Object.entries(v).some(([k, x]) => k.includes('\u0000') || hasNul(x)) : false;

/** PostgreSQL text cannot hold NUL: a request carrying one in its path, query or JSON body is refused (400) before any query fails on it. */
export const refuseNul: RequestHandler = (req, _res, next) => {
  let path = req.path;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    // Malformed escapes are the routes' to refuse.
  }
  const found = path.includes('\u0000') || hasNul(req.query) || hasNul(req.body);
  next(found ? new ProblemError(400, 'Bad Request', 'the request contains a NUL character (\\u0000), which no field accepts') : undefined);
};

/** Security headers for an API that serves JSON only. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  next();
};

/** Token buckets by key: `perMinute` a minute, in bursts of up to a fifth of that. */
class Buckets {
  private buckets = new Map<string, { tokens: number; at: number }>();

  /** Refills `key`'s bucket; the seconds until one more request may pass, or 0 when one may now. */
  wait(key: string, perMinute: number, now = Date.now()): number {
    const burst = Math.max(1, Math.ceil(perMinute / 5));
    const rate = perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) for (const [k, v] of this.buckets) if (now - v.at > 120_000) this.buckets.delete(k);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / rate / 1000);
  }

  take(key: string): void {
    const b = this.buckets.get(key);
    if (b) b.tokens -= 1;
  }
}

function tooMany(res: Response, seconds: number, detail: string): ProblemError {
  metrics.rateLimited.inc();
  res.set('Retry-After', String(seconds));
  return new ProblemError(429, 'Too Many Requests', `${detail}; retry after ${seconds} s (Retry-After)`);
}

/**
 * Rate limits in three parts around authentication. Before it, an address that has sent too many
 * requests that failed to authenticate is refused without looking its token up; after it, failures
 * are counted against their address and each authenticated caller (role, token name and member,
 * however its Authorization header is spaced) gets its role's requests a minute.
 */
export function rateLimit(limits: RateLimits): { failedAuthGate: RequestHandler; countFailedAuth: ErrorRequestHandler; perCaller: RequestHandler } {
  const failures = new Buckets();
  const callers = new Buckets();
  const address = (req: Request) => `address:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
  const failedTooOften = (n: number) => `more than ${n} requests a minute from this address failed to authenticate; send a valid token`;
  return {
    failedAuthGate: (req, res, next) => {
      const wait = failures.wait(address(req), limits.unauthenticated);
      next(wait ? tooMany(res, wait, failedTooOften(limits.unauthenticated)) : undefined);
    },
    countFailedAuth: (err, req, _res, next) => {
      if (err instanceof ProblemError && err.status === 401) failures.take(address(req));
      next(err);
    },
    perCaller: (req, res, next) => {
      const p = req.principal as Principal;
      // A role the limits do not name gets the strictest of them.
      const perMinute = (limits.perRole as Record<string, number>)[p.role] ?? Math.min(...Object.values(limits.perRole));
      const key = callerKey(p);
      const wait = callers.wait(key, perMinute);
      if (wait) return next(tooMany(res, wait, `more than ${perMinute} requests a minute from ${p.role} "${p.name}", the limit for ${p.role}`));
      callers.take(key);
      next();
    },
  };
}

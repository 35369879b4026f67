import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../infra/log';
import { metrics } from '../infra/metrics';
import { ProblemError } from '../services/errors';

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

/**
 * A token bucket per caller (token, else address): `perMinute` requests a minute with bursts up to
 * `burst`; beyond that 429 with Retry-After.
 */
export function rateLimit(opts: { perMinute: number; burst: number }): RequestHandler {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const rate = opts.perMinute / 60_000;
  return (req, res, next) => {
    const key = crypto.createHash('sha256').update(req.get('authorization') ?? req.ip ?? 'anonymous').digest('hex').slice(0, 32);
    const now = Date.now();
    const b = buckets.get(key) ?? { tokens: opts.burst, at: now };
    b.tokens = Math.min(opts.burst, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens < 1) {
      buckets.set(key, b);
      metrics.rateLimited.inc();
      res.set('Retry-After', String(Math.ceil((1 - b.tokens) / rate / 1000)));
      return next(new ProblemError(429, 'Too Many Requests', `more than ${opts.perMinute} requests a minute from this caller; retry after the time in Retry-After`));
    }
    b.tokens -= 1;
    buckets.set(key, b);
    if (buckets.size > 10_000) for (const [k, v] of buckets) if (now - v.at > 120_000) buckets.delete(k);
    next();
  };
}

import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../infra/log';
import { ProblemError } from '../services/errors';

function send(res: Parameters<RequestHandler>[1], status: number, title: string, detail: string, extra: Record<string, unknown> = {}) {
  res.status(status).type('application/problem+json').json({ type: 'about:blank', title, status, detail, ...extra });
}

/** Paths in zod issues, as `data.site`. */
export function zodErrors(e: ZodError, prefix = '') {
  return e.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '$';
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}; remove them`;
    return { path: i.code === 'unrecognized_keys' && i.keys.length === 1 ? [path === '$' ? '' : path, i.keys[0]].filter(Boolean).join('.') : path, message };
  });
}

function isUnavailable(e: unknown): string | undefined {
  const err = e as { code?: unknown; name?: string; message?: string; cause?: unknown };
  const msg = String(err?.message ?? '');
  if (err?.name === 'ServiceError' || /UNAVAILABLE|14 UNAVAILABLE|Connection refused|failed to connect|DEADLINE_EXCEEDED/i.test(msg)) {
    if (/ECONNREFUSED.*5432|postgres|database/i.test(msg)) return 'postgres';
    return 'temporal';
  }
  if (err?.code === 'ECONNREFUSED' || err?.code === '57P01' || /ECONNREFUSED|Connection terminated|terminating connection/i.test(msg)) return 'postgres';
  if (err?.cause && err.cause !== e) return isUnavailable(err.cause);
  return undefined;
}

export const notFoundRoute: RequestHandler = (req, res) => {
  send(res, 404, 'Not Found', `no route ${req.method} ${req.path}; see /api/openapi.json`);
};

/** The one error handler: known errors become problem+json, unknown ones a logged 500 without details. */
export function problemHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof ProblemError) return send(res, err.status, err.title, err.message, err.extra);
    if (err instanceof ZodError) {
      const errors = zodErrors(err);
      return send(res, 400, 'Bad Request', `invalid request: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') return send(res, 400, 'Bad Request', 'the body is not valid JSON');
    if (type === 'entity.too.large') return send(res, 413, 'Content Too Large', 'the body is larger than the 1 MB limit');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') return send(res, 415, 'Unsupported Media Type', 'send UTF-8 JSON');
    const down = isUnavailable(err);
    if (down) {
      log.warn('dependency unavailable', { dependency: down, path: req.path, error: err });
      return send(res, 503, 'Service Unavailable', `${down} is not reachable; try again shortly`);
    }
    log.error('unhandled error', { path: req.path, method: req.method, error: err, cause: (err as { cause?: unknown })?.cause, stack: (err as Error)?.stack });
    return send(res, 500, 'Internal Server Error', 'an unexpected error occurred; it has been logged');
  };
}

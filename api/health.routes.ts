import { Router } from 'express';

export interface HealthChecks {
  postgres(): Promise<void>;
  temporal(): Promise<void>;
}

const withTimeout = (p: Promise<void>, ms: number) =>
  Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);

export function healthRoutes(checks: HealthChecks): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      (['postgres', 'temporal'] as const).map(async (name) => {
        try {
          await withTimeout(checks[name](), 2000);
          return [name, 'ok'] as const;
        } catch (e) {
          return [name, `down: ${(e as Error).message.split('\n')[0]}`] as const;
        }
      }),
    );
    const body = Object.fromEntries(results);
    const ok = results.every(([, v]) => v === 'ok');
    if (ok) return res.json(body);
    res.status(503).type('application/problem+json').json({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: `not ready: ${results.filter(([, v]) => v !== 'ok').map(([k]) => k).join(', ')} down`,
      ...body,
    });
  });
  return r;
}

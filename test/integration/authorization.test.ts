import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appFromServices } from '../../api/app';
import type { RateLimits } from '../../config/config';
import { addDays, localDate } from '../../engine/time';
import { createLogger } from '../../infra/log';
import { enc, startHarness, type Harness } from '../support/harness';

/**
 * Every route with every role, and with a token of another grid: each answer is the allowed one,
 * and a refusal says nothing about what it refused. The matrix is printed.
 */
let h: Harness;
const tokens: Record<string, string> = {};
const day = addDays(localDate(Date.now()), 20);
const p03 = `daily-patrol/grid-03/${day}`;

beforeAll(async () => {
  h = await startHarness();
  tokens.admin = h.token;
  const make = async (role: string, name: string, extra: Record<string, unknown> = {}) =>
    (tokens[name] = (await h.call('POST', '/api/tokens', { role, name, ...extra })).body.token);
  await make('ops', 'ops');
  await make('manager', 'manager');
  await make('grid-leader', 'leader-03', { memberId: 'm-grid-03-leader', grids: ['grid-03'] });
  await make('grid-worker', 'worker-03', { memberId: 'm-grid-03-worker', grids: ['grid-03'] });
  await make('grid-worker', 'worker-05', { memberId: 'm-grid-05-worker', grids: ['grid-05'] });
  expect((await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-03', input: { date: day } })).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

const roles = ['admin', 'ops', 'manager', 'leader-03', 'worker-03', 'worker-05'] as const;
type Role = (typeof roles)[number];
const ok = [200, 201];
/** [method, path, body, expected status per role (a list where either is right)] */
const routes: [string, string, unknown, Record<Role, number | number[]>][] = [
  ['GET', '/api/processes', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 200 }],
  ['GET', `/api/processes/${enc(p03)}`, undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 404 }],
  ['POST', `/api/processes/${enc(p03)}/events`, { type: 'NOT_AN_EVENT' }, { admin: 409, ops: 409, manager: 409, 'leader-03': 409, 'worker-03': 409, 'worker-05': 404 }],
  ['POST', `/api/processes/${enc(p03)}/cancel`, {}, { admin: 400, ops: 403, manager: 400, 'leader-03': 403, 'worker-03': 403, 'worker-05': 404 }],
  ['POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-03', input: { date: localDate(Date.now()) } }, { admin: ok, ops: ok, manager: ok, 'leader-03': ok, 'worker-03': ok, 'worker-05': 403 }],
  ['POST', '/api/processes', { definition: 'monthly-review', input: { month: '2031-01', date: '2031-01-25' } }, { admin: ok, ops: ok, manager: ok, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['GET', '/api/definitions', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 200 }],
  ['POST', '/api/definitions/validate', {}, { admin: 422, ops: 422, manager: 422, 'leader-03': 422, 'worker-03': 422, 'worker-05': 422 }],
  ['POST', '/api/definitions', {}, { admin: 422, ops: 422, manager: 403, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['POST', '/api/definitions/daily-patrol/simulate', { events: [] }, { admin: 400, ops: 400, manager: 400, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['POST', '/api/definitions/draft/simulate', { events: [] }, { admin: 400, ops: 400, manager: 400, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['POST', '/api/definitions/daily-patrol/migrate', { from: 1, to: 1, dryRun: true }, { admin: 400, ops: 400, manager: 403, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['GET', '/api/schedules', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['POST', `/api/schedules/${enc('no-such-schedule')}/trigger`, undefined, { admin: 404, ops: 404, manager: 403, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['GET', '/api/grids', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 200 }],
  ['GET', '/api/grids/grid-03', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 403 }],
  ['PUT', '/api/grids/grid-03/channel', {}, { admin: 400, ops: 400, manager: 400, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
  ['GET', '/api/rota/grid-03', undefined, { admin: 200, ops: 403, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 403 }],
  ['PUT', '/api/rota/grid-03/entries', {}, { admin: 400, ops: 403, manager: 400, 'leader-03': 400, 'worker-03': 403, 'worker-05': 403 }],
  ['DELETE', '/api/rota/grid-03/entries', undefined, { admin: 400, ops: 403, manager: 400, 'leader-03': 400, 'worker-03': 403, 'worker-05': 403 }],
  ['GET', '/api/tasks', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 200 }],
  ['POST', `/api/tasks/${enc(`${p03}#assigned`)}/complete`, { type: 'NOT_AN_EVENT' }, { admin: 409, ops: 409, manager: 409, 'leader-03': 409, 'worker-03': 409, 'worker-05': 404 }],
  ['GET', '/api/notifications', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 200, 'worker-05': 200 }],
  ['GET', '/api/deliveries', undefined, { admin: 200, ops: 200, manager: 200, 'leader-03': 200, 'worker-03': 403, 'worker-05': 403 }],
  ['POST', '/api/tokens', {}, { admin: 400, ops: 403, manager: 403, 'leader-03': 403, 'worker-03': 403, 'worker-05': 403 }],
];

test('every route answers each role as allowed, and refusals leak nothing', async () => {
  const matrix: Record<string, Record<string, string>> = {};
  const wrong: string[] = [];
  for (const [method, path, body, expected] of routes) {
    const row: Record<string, string> = {};
    for (const role of roles) {
      const res = await h.call(method, path, body, { authorization: `Bearer ${tokens[role]}` });
      const want = ([] as number[]).concat(expected[role]);
      row[role] = want.includes(res.status) ? String(res.status) : `${res.status}!=${want.join('|')}`;
      if (!want.includes(res.status)) wrong.push(`${method} ${path} as ${role}: ${res.status} ${JSON.stringify(res.body)}`);
      if (res.status === 403 || res.status === 404) {
        expect(Object.keys(res.body).sort()).toEqual(['detail', 'status', 'title', 'type']);
        // A refusal names what was asked for, never what is inside it.
        expect(JSON.stringify(res.body)).not.toMatch(/context|householdsVisited|phone|138\d{8}/);
      }
    }
    matrix[`${method} ${path.length > 60 ? `${path.slice(0, 57)}...` : path}`] = row;
  }
  console.table(matrix);
  expect(wrong).toEqual([]);
});

test('with no token, or a revoked one, every /api route is 401', async () => {
  const created = await h.call('POST', '/api/tokens', { role: 'manager', name: 'short-lived' });
  expect((await h.call('GET', '/api/processes', undefined, { authorization: `Bearer ${created.body.token}` })).status).toBe(200);
  expect((await h.call('POST', `/api/tokens/${created.body.id}/revoke`)).body.revoked).toBe(true);
  for (const [method, path, body] of routes) {
    expect((await h.call(method, path, body, { authorization: `Bearer ${created.body.token}` })).status).toBe(401);
    expect((await h.call(method, path, body, { authorization: '' })).status).toBe(401);
  }
});

test('a grid worker\'s list holds only its grid\'s processes', async () => {
  const res = await h.call('GET', '/api/processes?limit=500', undefined, { authorization: `Bearer ${tokens['worker-05']}` });
  expect(res.body.items.every((p: { grid: string }) => p.grid === 'grid-05')).toBe(true);
  const mine = await h.call('GET', '/api/processes?limit=500', undefined, { authorization: `Bearer ${tokens['worker-03']}` });
  expect(mine.body.items.map((p: { workflowId: string }) => p.workflowId)).toContain(p03);
});

/** The API over the test's services with the given rate limits, on a port of its own. */
async function appWithLimits(limits: { perRole?: Partial<RateLimits['perRole']>; unauthenticated?: number }) {
  const roomy = 600;
  const app = appFromServices(h.services, {
    adminToken: h.token,
    log: createLogger('error'),
    rateLimits: {
      perRole: { admin: roomy, ops: roomy, manager: roomy, 'grid-leader': roomy, 'grid-worker': roomy, ...limits.perRole },
      unauthenticated: limits.unauthenticated ?? roomy,
    },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise((r) => server.close(r)) };
}

test('a caller over its role\'s rate limit gets 429 with Retry-After, however it spaces its Authorization header; /metrics counts it', async () => {
  // 15 a minute is a burst of 3.
  const { base, close } = await appWithLimits({ perRole: { admin: 15 } });
  try {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (const header of [`Bearer ${h.token}`, `Bearer ${h.token}`, `Bearer ${h.token}`, `Bearer  ${h.token}`, `Bearer \t ${h.token}`]) {
      last = await fetch(`${base}/api/definitions`, { headers: { authorization: header } });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last?.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await last?.json()).detail).toMatch(/^more than 15 requests a minute from admin "admin", the limit for admin; retry after \d+ s \(Retry-After\)$/);
    // Another caller is not held back by the first.
    expect((await fetch(`${base}/api/definitions`, { headers: { authorization: `Bearer ${tokens.manager}` } })).status).toBe(200);
    const m = await (await fetch(`${base}/metrics`)).text();
    expect(m).toMatch(/gridflow_rate_limited_total [1-9]/);
    expect(m).toContain('gridflow_http_request_duration_seconds_bucket');
    const res = await fetch(`${base}/api/definitions`, { headers: { authorization: `Bearer ${tokens.ops}`, 'x-request-id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  } finally {
    await close();
  }
});

test('each role has its own limit: grid workers at theirs while a manager goes on; each worker token is its own caller', async () => {
  // 10 a minute is a burst of 2.
  const { base, close } = await appWithLimits({ perRole: { 'grid-worker': 10 } });
  const get = (who: string) => fetch(`${base}/api/tasks`, { headers: { authorization: `Bearer ${tokens[who]}` } }).then((r) => r.status);
  try {
    expect([await get('worker-03'), await get('worker-03'), await get('worker-03')]).toEqual([200, 200, 429]);
    expect([await get('worker-05'), await get('worker-05'), await get('worker-05')]).toEqual([200, 200, 429]);
    expect([await get('manager'), await get('manager'), await get('manager'), await get('manager')]).toEqual([200, 200, 200, 200]);
  } finally {
    await close();
  }
});

test('requests that fail to authenticate are limited by address, and past the limit refused before their token is looked up', async () => {
  const { base, close } = await appWithLimits({ unauthenticated: 10 });
  const get = (authorization?: string) => fetch(`${base}/api/processes`, { headers: authorization ? { authorization } : {} });
  try {
    expect([(await get('Bearer gf_nope_nope')).status, (await get()).status]).toEqual([401, 401]);
    const refused = await get('Bearer gf_still_nope');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).detail).toMatch(/^more than 10 requests a minute from this address failed to authenticate; send a valid token; retry after \d+ s/);
    expect((await get()).status).toBe(429);
  } finally {
    await close();
  }
});

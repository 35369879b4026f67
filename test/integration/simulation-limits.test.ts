import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appFromServices } from '../../api/app';
import { DefinitionVersion } from '../../db/entities';
import { createLogger } from '../../infra/log';
import { SimulationService } from '../../services/simulations.service';
import { NO_RATE_LIMITS, startHarness, type Harness } from '../support/harness';

/**
 * Simulation through the API is bounded: who may run one, how many steps, how many virtual days and
 * how much computing, and it runs off the API's event loop, so /healthz answers during a long one.
 */
let h: Harness;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness({ worker: false });
  for (const [role, name, extra] of [
    ['ops', 'sim-ops', {}],
    ['manager', 'sim-manager', {}],
    ['grid-leader', 'sim-leader-03', { memberId: 'm-grid-03-leader', grids: ['grid-03'] }],
    ['grid-worker', 'sim-worker-03', { memberId: 'm-grid-03-worker', grids: ['grid-03'] }],
  ] as const) {
    tokens[role] = (await h.call('POST', '/api/tokens', { role, name, ...extra })).body.token;
  }
});
afterAll(async () => {
  await h?.close();
});

/** Two states whose one-minute timers send each other back: one step a simulated minute. */
function pingPong(after = '1m') {
  const timer = (id: string, send: string) => ({ meta: { timers: [{ id, when: { after }, send }] } });
  return {
    key: 'ping-pong',
    title: 'Ping pong (timers that send each other events)',
    grid: 'none',
    machine: {
      id: 'ping-pong',
      initial: 'ping',
      states: {
        ping: { ...timer('to-pong', 'PONG'), on: { PONG: 'pong' } },
        pong: { ...timer('to-ping', 'PING'), on: { PING: 'ping' } },
      },
    },
  };
}
const startAt = '2026-01-01T00:00:00+08:00';
const monthsLater = (months: number) => new Date(Date.parse(startAt) + months * 30 * 86_400_000).toISOString();
const as = (role: string) => ({ authorization: `Bearer ${tokens[role]}` });

/**
 * Asks for /healthz `delayMs` after `during` starts. The time counts from when it was meant to be
 * asked: the API runs in this process, so a blocked event loop delays the asking too.
 */
async function healthzDuring(base: string, during: Promise<unknown>, delayMs: number) {
  let settled = false;
  void during.finally(() => (settled = true));
  const meant = performance.now() + delayMs;
  await new Promise((r) => setTimeout(r, delayMs));
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, ms: performance.now() - meant, duringSimulation: !settled };
}

test('only ops, managers and admins simulate; grid roles are told who may', async () => {
  const body = { document: pingPong(), startAt, until: '2026-01-01T01:00:00+08:00', events: [] };
  for (const role of ['grid-leader', 'grid-worker']) {
    const draft = await h.call('POST', '/api/definitions/draft/simulate', body, as(role));
    expect(draft.status).toBe(403);
    expect(draft.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(draft.body.detail).toBe(`POST /api/definitions/draft/simulate is for admin, ops, manager; you are ${role}`);
    const published = await h.call('POST', '/api/definitions/daily-patrol/simulate', { startAt, events: [] }, as(role));
    expect(published.status).toBe(403);
    expect(published.body.detail).toContain('is for admin, ops, manager');
  }
  for (const role of ['ops', 'manager']) {
    const ok = await h.call('POST', '/api/definitions/draft/simulate', body, as(role));
    expect(ok.status).toBe(200);
    expect(ok.body.steps).toHaveLength(61);
  }
});

test('one-minute timers simulated over four months: /healthz answers at once, and the run ends in the step limit (422), not a 500', async () => {
  const sim = h.call('POST', '/api/definitions/draft/simulate', { document: pingPong(), startAt, until: monthsLater(4), events: [] });
  const health = await healthzDuring(h.baseUrl, sim, 50);
  const res = await sim;
  console.log(`/healthz during a four-month simulation: ${health.ms.toFixed(1)} ms (simulation still running: ${health.duringSimulation})`);
  expect(health.status).toBe(200);
  expect(health.ms).toBeLessThan(1000);
  expect(res.status).toBe(422);
  expect(res.body.limit).toEqual({ name: 'steps', max: 5000 });
  expect(res.body.detail).toMatch(/^the simulation reached its limit of 5,000 steps at 2026-01-04T11:20:00\.000\+08:00 in state "(ping|pong)"/);
  expect(res.body.errors).toEqual([{ path: 'until', message: res.body.detail }]);
});

test('over seven months the same ends in the step limit, never in "Maximum call stack size exceeded"', async () => {
  const res = await h.call('POST', '/api/definitions/draft/simulate', { document: pingPong(), startAt, until: monthsLater(7), events: [] });
  expect(res.status).toBe(422);
  expect(res.body.limit.name).toBe('steps');
  expect(JSON.stringify(res.body)).not.toMatch(/call stack/i);
});

test('a span of more than 400 virtual days is refused before it runs, naming the limit', async () => {
  const res = await h.call('POST', '/api/definitions/daily-patrol/simulate', { grid: 'grid-03', startAt, until: monthsLater(14), events: [] });
  expect(res.status).toBe(422);
  expect(res.body.limit).toEqual({ name: 'days', max: 400 });
  expect(res.body.detail).toMatch(/^the simulation would span 420 days, .*; at most 400 days are simulated at once: bring until closer to the start$/);
});

test('timers that fire at once and send each other round are refused by validation, pointing at the timer', async () => {
  const res = await h.call('POST', '/api/definitions/draft/simulate', { document: pingPong('0s'), startAt, until: monthsLater(1), events: [] });
  expect(res.status).toBe(422);
  expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['document.machine.states.ping.meta.timers.0']);
  expect(res.body.errors[0].message).toContain('timer "to-pong" fires as soon as its state is entered (after: "0s")');
});

test('a run past its computing time is stopped with the time limit, while /healthz keeps answering', async () => {
  // The same API with room for 1,000,000 steps, so four months run until the 1.5 s limit stops them.
  const simulations = new SimulationService(h.services.calendar, { maxSteps: 1_000_000, maxDays: 400, timeoutMs: 1500 });
  const app = appFromServices({ ...h.services, simulations }, { adminToken: h.token, log: createLogger('error'), rateLimits: NO_RATE_LIMITS });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (until: string) =>
    fetch(`${base}/api/definitions/draft/simulate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ document: pingPong(), startAt, until, events: [] }),
    });
  try {
    // A short one first, so the thread has started and the long one is all computing.
    expect((await post('2026-01-01T01:00:00+08:00')).status).toBe(200);
    const started = performance.now();
    const sim = post(monthsLater(4));
    const health = await healthzDuring(base, sim, 300);
    const res = await sim;
    const body = await res.json();
    console.log(`/healthz 300 ms into a simulation stopped at its time limit: ${health.ms.toFixed(1)} ms (simulation still running: ${health.duringSimulation}); the simulation answered after ${(performance.now() - started).toFixed(0)} ms`);
    expect(health).toMatchObject({ status: 200, duringSimulation: true });
    expect(health.ms).toBeLessThan(1000);
    expect(res.status).toBe(422);
    expect(body.limit).toEqual({ name: 'time', max: 1500 });
    expect(body.detail).toMatch(/^the simulation ran past its limit of 1,500 ms of computing/);
    // The thread is free again for the next simulation.
    expect((await post('2026-01-01T01:00:00+08:00')).status).toBe(200);
  } finally {
    await new Promise((r) => server.close(r));
    await simulations.close();
  }
});

test('a definition stored before timer cycles were refused, whose timers fire at once for ever, is stopped by ending its thread; the next runs on a fresh one', async () => {
  const key = `legacy-spin-${Date.now().toString(36)}`;
  const document = { ...pingPong('0s'), key, machine: { ...pingPong('0s').machine, id: key } };
  const em = h.services.orm.em.fork();
  em.persist(Object.assign(new DefinitionVersion(), { key, version: 1, title: document.title, document, hash: key, createdBy: 'test', createdAt: new Date() }));
  await em.flush();
  const sim = h.call('POST', `/api/definitions/${key}/simulate`, { startAt, until: '2026-01-01T01:00:00+08:00', events: [] });
  const health = await healthzDuring(h.baseUrl, sim, 300);
  const res = await sim;
  expect(health).toMatchObject({ status: 200, duringSimulation: true });
  expect(health.ms).toBeLessThan(1000);
  expect(res.status).toBe(422);
  expect(res.body.limit).toEqual({ name: 'time', max: 2000 });
  expect(res.body.detail).toBe('the simulation ran past its limit of 2,000 ms of computing and was stopped; simulate a shorter span or fewer events');
  expect((await h.call('POST', '/api/definitions/draft/simulate', { document: pingPong(), startAt, until: '2026-01-01T01:00:00+08:00', events: [] })).status).toBe(200);
});

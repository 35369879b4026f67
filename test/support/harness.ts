import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Worker } from '@temporalio/worker';
import { loadConfig, type Config, type RateLimits } from '../../config/config';
import { appFromServices } from '../../api/app';
import { createLogger } from '../../infra/log';
import { createServices, requireEndpoints, type Services } from '../../services/container';
import { createWorker } from '../../worker/create-worker';
import { formatLocal } from '../../engine/time';

export interface Harness {
  baseUrl: string;
  taskQueue: string;
  services: Services;
  token: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** The same call with the token of a seeded member (`m-grid-03-worker`, `m-party-secretary`), made on first use. */
  /**
   * Sends an event to a process as the person whose task it is now (the grid's member of the task's
   * role; a community manager when no task is open), or as `memberId`.
   */
  send(workflowId: string, body: unknown, memberId?: string): Promise<{ status: number; body: any; headers: Headers }>;
  as(memberId: string): { call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>; token(): Promise<string> };
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Rate limits no test reaches; the limits have tests of their own. */
export const NO_RATE_LIMITS: RateLimits = {
  perRole: { admin: 1e9, ops: 1e9, manager: 1e9, 'grid-leader': 1e9, 'grid-worker': 1e9 },
  unauthenticated: 1e9,
};

/**
 * The API in-process against the real Temporal and PostgreSQL of the test run, on a task queue of
 * its own so test files never pick up each other's workflows. The worker is optional so a test can
 * run it as a separate process instead; `config` overrides what the environment configures.
 */
export async function startHarness(opts: { worker?: boolean; config?: Partial<Config> } = {}): Promise<Harness> {
  // Chat webhooks in tests go to local receivers; worker processes the tests spawn inherit this too.
  process.env.GRIDFLOW_WEBHOOK_HOSTS ??= '127.0.0.1';
  process.env.GRIDFLOW_WEBHOOK_ALLOW_PRIVATE ??= 'true';
  const taskQueue = `test-${crypto.randomUUID()}`;
  const config = requireEndpoints({ ...loadConfig(), taskQueue, ...opts.config });
  const services = await createServices(config, { schedulePrefix: `${taskQueue}/` });
  const log = createLogger('warn', { component: 'test-api' });
  // Tests poll hard.
  const app = appFromServices(services, { adminToken: config.adminToken, log, rateLimits: NO_RATE_LIMITS, webDir: config.webDir });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = config.adminToken as string;

  const memberTokens = new Map<string, Promise<string>>();
  const tokenOf = (memberId: string): Promise<string> => {
    if (!memberTokens.has(memberId)) {
      memberTokens.set(
        memberId,
        (async () => {
          const m = await services.community.member(memberId);
          if (!m) throw new Error(`no seeded member "${memberId}"`);
          const role = m.role === 'grid-leader' ? 'grid-leader' : m.role === 'partner' ? 'partner' : m.gridId ? 'grid-worker' : 'manager';
          return (await services.tokens.create({ role, name: memberId, memberId, grids: m.gridId ? [m.gridId] : undefined })).token;
        })(),
      );
    }
    return memberTokens.get(memberId) as Promise<string>;
  };

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let closeConnection: (() => Promise<void>) | undefined;

  const h: Harness = {
    baseUrl,
    taskQueue,
    services,
    token,
    async call(method, path, body, headers = {}) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    as(memberId) {
      return {
        token: () => tokenOf(memberId),
        call: async (method, path, body, headers = {}) => h.call(method, path, body, { authorization: `Bearer ${await tokenOf(memberId)}`, ...headers }),
      };
    },
    async send(workflowId, body, memberId) {
      const path = `/api/processes/${encodeURIComponent(workflowId)}/events`;
      if (memberId) return h.as(memberId).call('POST', path, body);
      const detail = await h.call('GET', `/api/processes/${encodeURIComponent(workflowId)}`);
      return h.as(holderOf(detail.body?.grid ?? null, detail.body?.tasks?.[0]?.role)).call('POST', path, body);
    },
    async startWorker() {
      const created = await createWorker({
        services,
        temporalAddress: config.temporalAddress,
        namespace: config.temporalNamespace,
        taskQueue,
        workflowBundlePath: config.workflowBundle,
      });
      worker = created.worker;
      closeConnection = () => created.connection.close();
      running = worker.run();
      services.delivery.start(200);
    },
    async stopWorker() {
      await services.delivery.stop();
      if (!worker) return;
      worker.shutdown();
      await running;
      await closeConnection?.();
      worker = undefined;
    },
    async close() {
      await h.stopWorker();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Publishing reconciles schedules, so a test that published one leaves it under this run's prefix.
      for await (const s of services.client.schedule.list()) {
        if (s.scheduleId.startsWith(`${taskQueue}/`)) await services.client.schedule.getHandle(s.scheduleId).delete().catch(() => undefined);
      }
      await services.close();
    },
  };
  if (opts.worker !== false) await h.startWorker();
  return h;
}

/** The seeded member who holds a task role in a grid (the first one for shared roles). */
export function holderOf(grid: string | null, role: string | undefined): string {
  if (!role || !grid || role === 'community-manager') return 'm-community-manager-1';
  if (role === 'party-secretary') return 'm-party-secretary';
  const suffix: Record<string, string> = { 'grid-worker': 'worker', 'grid-leader': 'leader', 'grid-part-time': 'part-time-1', 'grid-police': 'police' };
  return `m-${grid}-${suffix[role] ?? 'worker'}`;
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const enc = encodeURIComponent;

/** Quiet hours six to seven hours from now (Asia/Shanghai): a notice sent during a test is never held for them. */
export function awakeWindow(): { quietStart: string; quietEnd: string } {
  const clock = (offsetH: number) => formatLocal(Date.now() + offsetH * 3_600_000).slice(11, 16);
  return { quietStart: clock(6), quietEnd: clock(7) };
}

/**
 * A history without the notices the definition's own timers add (`@reminder:<id>`,
 * `@escalation:<id>`): a weekly report started after 15:00 in Shanghai gets its draft reminder at
 * once, so "nothing happened" means nothing a person or process sent.
 */
export function sentSteps<T extends { event: string }>(history: T[]): T[] {
  return history.filter((s) => !/^@(reminder|escalation):/.test(s.event));
}

/**
 * The harness of a test file, started before its first test and closed after its last: one line in
 * place of the same beforeAll/afterAll in every file. It answers once started, so use it inside a
 * test or a later hook.
 */
export function harnessForFile(opts: Parameters<typeof startHarness>[0] = {}): Harness {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(opts);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as Harness, {
    get(_target, key) {
      if (!started) throw new Error(`the harness is not started yet (it starts in beforeAll): use "${String(key)}" inside a test or a later hook`);
      const value: unknown = Reflect.get(started, key);
      return typeof value === 'function' ? value.bind(started) : value;
    },
  });
}

import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Worker } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { appFromServices } from '../../api/app';
import { createLogger } from '../../infra/log';
import { createServices, requireEndpoints, type Services } from '../../services/container';
import { createWorker } from '../../worker/create-worker';

export interface Harness {
  baseUrl: string;
  taskQueue: string;
  services: Services;
  token: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The API in-process against the real Temporal and PostgreSQL of the test run, on a task queue of
 * its own so test files never pick up each other's workflows. The worker is optional so a test can
 * run it as a separate process instead.
 */
export async function startHarness(opts: { worker?: boolean } = {}): Promise<Harness> {
  const taskQueue = `test-${crypto.randomUUID()}`;
  const config = requireEndpoints({ ...loadConfig(), taskQueue });
  const services = await createServices(config, { schedulePrefix: `${taskQueue}/` });
  const log = createLogger('warn', { component: 'test-api' });
  // Tests poll hard; the rate limit has a test of its own.
  const app = appFromServices(services, { adminToken: config.adminToken, log, rateLimit: { perMinute: 1_000_000, burst: 100_000 } });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = config.adminToken as string;

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
      await services.close();
    },
  };
  if (opts.worker !== false) await h.startWorker();
  return h;
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

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/config';
import { freePort } from '../../infra/postgres';
import { findTemporalCli, startTemporalDevServer, type DevServer } from '../../infra/temporal';
import { clusterDatabase, ensureTemporalServer, startTemporalCluster } from '../../infra/temporal-cluster';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { gridWorkerOf, pingCounter } from '../support/test-definitions';

// Each process here runs in its own grid; its worker (gridWorkerOf) sends the events.

/**
 * The Temporal server stops (SIGTERM) and comes back on the same store while processes are waiting
 * on timers and events: every process finishes, each step once, and the read model ends where the
 * workflows do. This file runs its own server so the shared one stays up: a dev server on its own
 * SQLite file, or with GRIDFLOW_TEMPORAL=cluster Temporal's own server on databases of its own in
 * the run's PostgreSQL.
 */
const doc = pingCounter({ key: 'fault-restart', title: 'Temporal restart (fault test)', counter: 'events', expireAfter: '30s' });

let server: DevServer | undefined;
let h: Harness | undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-fault-'));
const saved = process.env.TEMPORAL_ADDRESS;

afterAll(async () => {
  await h?.close().catch(() => undefined);
  await server?.stop();
  process.env.TEMPORAL_ADDRESS = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** This file's server on `port`, on the same store each time it is started. */
function ownServer(port: number): () => Promise<DevServer> {
  const config = loadConfig();
  if (config.temporalMode === 'cluster') {
    const suffix = path.basename(dir).replace(/\W/g, '_').toLowerCase();
    return () =>
      startTemporalCluster({
        tools: ensureTemporalServer(config.cacheDir),
        db: clusterDatabase(process.env.DATABASE_URL as string),
        databases: { store: `temporal_${suffix}`, visibility: `temporal_visibility_${suffix}` },
        dir: path.join(dir, 'cluster'),
        historyShards: config.temporalShards,
        port,
      });
  }
  const cli = findTemporalCli(config.cacheDir) as string;
  return () => startTemporalDevServer({ cli, dbFile: path.join(dir, 'temporal.db'), port, headless: true });
}

test('stopping and restarting the Temporal server loses and doubles nothing', async () => {
  const start = ownServer(await freePort());
  server = await start();
  process.env.TEMPORAL_ADDRESS = server.address;
  h = await startHarness();
  await h.services.definitions.publish(doc, 'test');

  const ids: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const grid = `grid-${String(i).padStart(2, '0')}`;
    const res = await h.call('POST', '/api/processes', { definition: doc.key, grid, businessKey: `${grid}/${Date.now()}` });
    expect(res.status).toBe(201);
    ids.push(res.body.workflowId);
  }
  for (const id of ids) expect((await h.send(id, { type: 'PING', requestId: 'before' }, gridWorkerOf(id))).status).toBe(200);

  await server.stop();
  // While it is down the API says so, and changes nothing.
  const down = await h.send(ids[0], { type: 'PING', requestId: 'during' }, gridWorkerOf(ids[0]));
  expect([503, 500]).toContain(down.status);
  await new Promise((r) => setTimeout(r, 2000));
  server = await start();

  // Requests after the restart are answered once the worker and the API have reconnected (their
  // backoff can outlast the timer on a loaded machine: then the process has ended, which is fine).
  for (const id of ids) {
    const again = await eventually(async () => {
      const r = await h?.send(id, { type: 'PING', requestId: 'after' }, gridWorkerOf(id));
      return (r?.status === 200 || (r?.status === 409 && /has ended/.test(r.body.detail))) && r;
    }, 90_000, 500);
    expect(again.status === 200 ? again.body.state : 'ended').toMatch(/open|ended/);
  }
  for (const id of ids) {
    const d = await eventually(async () => {
      const r = await h?.call('GET', `/api/processes/${enc(id)}`);
      return r?.body.status === 'completed' && r.body;
    }, 90_000, 500);
    const events = d.history.map((x: { event: string }) => x.event);
    expect(events.filter((e: string) => e === 'EXPIRE')).toHaveLength(1);
    expect(events[0]).toBe('@start');
    expect(d.state).toBe('expired');
    // "before" once; "after" and the request during the outage at most once each.
    const pings = events.filter((e: string) => e === 'PING').length;
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(pings).toBeLessThanOrEqual(3);
    expect(d.context.events).toBe(pings);
  }
  process.stdout.write(`temporal restart: ${ids.length} processes, ${ids.length} timers fired once each, 0 lost, 0 doubled\n`);
}, 180_000);

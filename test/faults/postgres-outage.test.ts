import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedCommunity } from '../../db/community.seed';
import { migrate, openOrm } from '../../db/orm';
import { DataKey } from '../../infra/crypto';
import type { ChildProcess } from 'node:child_process';
import { CommunityService } from '../../services/community.service';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { spawnEntry, stopProcess } from '../support/processes';
import { gridWorkerOf, pingCounter } from '../support/test-definitions';

// Each process here runs in its own grid; its worker (gridWorkerOf) sends the events.

/**
 * PostgreSQL stops for a while under load: the API answers 503 while it is away, workflows keep
 * their state and retry their projections, and when it is back the read model converges to the
 * workflows, with every step once. This file runs its own PostgreSQL so the shared one stays up.
 */
const doc = pingCounter({ key: 'fault-postgres', title: 'PostgreSQL outage (fault test)', counter: 'pings', expireAfter: '50s' });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-pg-fault-'));
fs.chmodSync(dir, 0o755);
const saved = process.env.DATABASE_URL;
let pg: ChildProcess | undefined;

/** PostgreSQL in a process of its own, so this test can stop it and start it again on the same data. */
function startPostgres(port?: number): Promise<{ url: string; port: number }> {
  pg = spawnEntry('scripts/embedded-postgres.ts', { args: [path.join(dir, 'pg'), ...(port ? [String(port)] : [])], stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    pg?.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /url (\S+)/.exec(out);
      if (m) resolve({ url: m[1], port: Number(new URL(m[1]).port) });
    });
    pg?.once('exit', (code) => reject(new Error(`embedded postgres exited with ${code}`)));
  });
}

const stopPostgres = () => stopProcess(pg, 'SIGTERM');
let h: Harness | undefined;

afterAll(async () => {
  await h?.close().catch(() => undefined);
  await stopPostgres();
  process.env.DATABASE_URL = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('stopping PostgreSQL for a while under load loses and doubles nothing; the read model converges', async () => {
  const { url, port } = await startPostgres();
  const orm = await openOrm(url);
  await migrate(orm);
  await seedCommunity(orm);
  await new CommunityService(orm, new DataKey(process.env.GRIDFLOW_DATA_KEY as string)).protectPhones();
  await orm.close();
  process.env.DATABASE_URL = url;
  h = await startHarness();
  await h.services.definitions.publish(doc, 'test');

  const ids: string[] = [];
  for (let i = 1; i <= 8; i++) {
    const grid = `grid-${String(i).padStart(2, '0')}`;
    ids.push((await h.call('POST', '/api/processes', { definition: doc.key, grid, businessKey: `${grid}/${Date.now()}` })).body.workflowId);
  }
  await eventually(async () => (await h?.call('GET', `/api/processes/${enc(ids[7])}`))?.status === 200);

  // Tokens are looked up in PostgreSQL: each worker's is made while it is still up.
  for (const id of ids) await h.as(gridWorkerOf(id)).token();
  await stopPostgres();
  // Load while it is away: events go to the workflows (Temporal is up); their projections wait.
  const during = await Promise.all(ids.map(async (id) => h?.send(id, { type: 'PING', requestId: 'during' }, gridWorkerOf(id))));
  const ready = await h.call('GET', '/readyz');
  // Timers fire and steps are taken meanwhile (Temporal is up): their projections retry.
  expect(ready.status).toBe(503);
  expect(ready.body.postgres).toMatch(/^down/);
  // Half a minute away.
  await new Promise((r) => setTimeout(r, 30_000));
  await startPostgres(port);

  // Retries of the same requests after it is back are the same steps.
  for (const id of ids) {
    const r = await eventually(async () => {
      const res = await h?.send(id, { type: 'PING', requestId: 'during' }, gridWorkerOf(id));
      return res?.status === 200 && res;
    }, 60_000, 500);
    expect(r.body.state).toBe('open');
  }
  for (const id of ids) {
    const d = await eventually(async () => {
      const res = await h?.call('GET', `/api/processes/${enc(id)}`);
      return res?.body.status === 'completed' && res.body;
    }, 60_000, 500);
    expect(d.history.map((x: { event: string }) => x.event)).toEqual(['@start', 'PING', 'EXPIRE']);
    expect(d.context.pings).toBe(1);
    const row = (await h.services.orm.em.fork().getConnection().execute<{ state: string; last_seq: number }[]>('select state, last_seq from process_instance where workflow_id = ?', [id]))[0];
    expect(row).toEqual({ state: 'expired', last_seq: 3 });
  }
  process.stdout.write(`postgres outage: ${ids.length} processes, ${during.filter((r) => r?.status === 200).length} events answered during the outage, all converged, 0 lost, 0 doubled\n`);
}, 180_000);

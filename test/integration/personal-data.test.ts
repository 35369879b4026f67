import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appFromServices } from '../../api/app';
import { createLogger } from '../../infra/log';
import { findTemporalCli } from '../../infra/temporal';
import { loadConfig } from '../../config/config';
import { enc, eventually, harnessForFile } from '../support/harness';

/**
 * A canary phone number given when an issue is raised must never be in clear in Temporal's history
 * (`temporal workflow show`), in the database, or in API answers; a manager unmasking a member's
 * phone is audited.
 */
const CANARY = '13912345678';
const h = harnessForFile();

function temporalShow(workflowId: string): Promise<string> {
  const cli = findTemporalCli(loadConfig().cacheDir) as string;
  return new Promise((resolve, reject) =>
    execFile(cli, ['workflow', 'show', '--workflow-id', workflowId, '--address', process.env.TEMPORAL_ADDRESS as string, '--output', 'json'], { maxBuffer: 50e6 }, (e, out) =>
      e ? reject(e) : resolve(out),
    ),
  );
}

test('a canary phone number is never in clear in Temporal\'s history, the database, the logs or the API', async () => {
  // Everything this process logs while the canary travels (the API's and the in-process worker's).
  const logged: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true)),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')))),
  ];
  // The API as deployed logs every request at info level: serve this test through such an app.
  const app = appFromServices(h.services, { adminToken: h.token, log: createLogger('debug', { component: 'api' }) });
  const server = await new Promise<Server>((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const worker = await h.as('m-grid-07-worker').token();
  const call = async (method: string, route: string, body?: unknown, token = h.token) => {
    const r = await fetch(`${base}${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const res = await call('POST', '/api/processes', {
    definition: 'issue',
    grid: 'grid-07',
    input: { source: 'hotline', category: '噪音扰民', description: '楼下商铺夜间噪音', reporter: '张女士', reporterPhone: CANARY },
  });
  expect(res.status).toBe(201);
  const id: string = res.body.workflowId;
  await call('POST', `/api/processes/${enc(id)}/events`, { type: 'ACCEPT' }, worker);
  const d = await eventually(async () => {
    const r = await call('GET', `/api/processes/${enc(id)}`);
    return r.body.history?.length >= 2 && r.body;
  });
  expect(d.context.input).toMatchObject({ reporter: '***', reporterPhone: '139****5678' });
  expect(JSON.stringify(d)).not.toContain(CANARY);
  // The workflow itself still has it (a handler may call back), encrypted in its history.
  const shown = await temporalShow(id);
  expect(shown.length).toBeGreaterThan(1000);
  expect(shown).toMatch(/binary\/encrypted|YmluYXJ5L2VuY3J5cHRlZA/);
  expect(shown).not.toContain(CANARY);
  expect(shown).not.toContain(Buffer.from(CANARY).toString('base64').slice(0, 12));
  expect(shown).not.toContain('楼下商铺');
  // A refused event with the canary in it: the caller is told, the logs are not.
  const refused = await call('POST', `/api/processes/${enc(id)}/events`, { type: 'HANDLE_IN_GRID', data: { note: CANARY, extra: CANARY } }, worker);
  expect(refused.status).toBe(400);
  await new Promise((r) => setTimeout(r, 500));
  for (const spy of spies) spy.mockRestore();
  await new Promise((r) => server.close(r));
  expect(logged.length).toBeGreaterThan(0);
  expect(logged.join('\n')).not.toContain(CANARY);
  // Nowhere in the database.
  const conn = h.services.orm.em.fork().getConnection();
  for (const table of ['process_instance', 'transition_record', 'notification', 'process_record', 'delivery', 'audit_log']) {
    const rows = await conn.execute<{ n: string }[]>(`select count(*) as n from ${table} t where t::text like ?`, [`%${CANARY}%`]);
    expect({ table, n: Number(rows[0].n) }).toEqual({ table, n: 0 });
  }
});

test('phone numbers are encrypted at rest, masked in answers, and unmasked only for managers, audited', async () => {
  const conn = h.services.orm.em.fork().getConnection();
  const clear = await conn.execute<{ n: string }[]>(`select count(*) as n from member where phone ~ '^[0-9]+$'`);
  expect(Number(clear[0].n)).toBe(0);
  const grid = await h.call('GET', '/api/grids/grid-07');
  expect(grid.body.members.every((m: { phone: string }) => /^138\*{4}\d{4}$/.test(m.phone))).toBe(true);
  const worker = await h.call('POST', '/api/tokens', { role: 'grid-worker', name: 'w7', memberId: 'm-grid-07-worker', grids: ['grid-07'] });
  expect((await h.call('GET', '/api/grids/grid-07/members/m-grid-07-leader/phone', undefined, { authorization: `Bearer ${worker.body.token}` })).status).toBe(403);
  const manager = await h.call('POST', '/api/tokens', { role: 'manager', name: 'manager-unmask' });
  const unmasked = await h.call('GET', '/api/grids/grid-07/members/m-grid-07-leader/phone', undefined, { authorization: `Bearer ${manager.body.token}`, 'x-request-id': 'unmask-1' });
  expect(unmasked.status).toBe(200);
  expect(unmasked.body.phone).toMatch(/^138\d{8}$/);
  const audit = await conn.execute<{ actor: string; data: { requestId: string } }[]>(`select actor, data from audit_log where action = 'phone.unmask' and subject = 'm-grid-07-leader'`);
  expect(audit).toEqual([expect.objectContaining({ actor: 'manager-unmask', data: expect.objectContaining({ requestId: 'unmask-1' }) })]);
});

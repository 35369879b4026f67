import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { enc, eventually, startHarness, type Harness } from '../support/harness';

/**
 * The 12345 hotline files tickets with its own credential; a ticket sent twice is one issue, and
 * the issue's status goes back to the hotline's webhook, signed, retried while the receiver is
 * down. Duplicates are merged into one issue and every ticket follows the kept one.
 */
let h: Harness;
let receiver: http.Server;
const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
let failFirst = 2;

beforeAll(async () => {
  h = await startHarness();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      // The receiver is down for the first attempts: the outbox must keep the messages and retry.
      if (failFirst-- > 0) return void res.writeHead(503).end('down');
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
});
afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  await h?.close();
});

const GRID = 'grid-10';
const ticketBody = (ticketId: string) => ({ ticketId, grid: GRID, category: '市政设施', description: '地下车库污水管破裂', urgency: 'normal', reporter: '张先生', reporterPhone: '13800001234' });

async function register(name: string) {
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/status`;
  const res = await h.call('POST', '/api/intake/systems', { name, webhookUrl: url });
  expect(res.status).toBe(201);
  return res.body as { token: string; webhookSecret: string };
}

const file = (token: string, body: unknown) => h.call('POST', '/api/intake/tickets', body, { authorization: `Bearer ${token}` });
const messagesOf = (system: string, ticketId: string) =>
  received.map((r) => ({ ...r, json: JSON.parse(r.body) })).filter((m) => m.json.system === system && m.json.ticketId === ticketId);

test('a hotline ticket sent twice is one issue with source hotline; its status changes come back signed, after the receiver was down', async () => {
  const system = `hotline-${Date.now().toString(36)}`;
  const { token, webhookSecret } = await register(system);
  const ticketId = `T${Date.now()}`;

  const first = await file(token, ticketBody(ticketId));
  expect(first.status).toBe(201);
  expect(first.body).toMatchObject({ system, ticketId, workflowId: expect.stringMatching(/^issue\//) });
  const again = await file(token, ticketBody(ticketId));
  expect(again.status).toBe(200);
  expect(again.body.workflowId).toBe(first.body.workflowId);
  const id = first.body.workflowId as string;

  const issue = await h.call('GET', `/api/processes/${enc(id)}`);
  expect(issue.body.context.input.source).toBe('hotline');
  expect(JSON.stringify(issue.body.context)).not.toContain('13800001234');

  expect((await h.send(id, { type: 'ACCEPT' })).status).toBe(200);
  const msgs = await eventually(async () => {
    const m = messagesOf(system, ticketId);
    return m.length >= 2 && m;
  }, 20_000);
  expect(msgs.map((m) => m.json.status)).toEqual(['received', 'accepted']);
  expect(msgs[1].json).toMatchObject({ workflowId: id, state: 'triage', event: 'ACCEPT' });
  for (const m of msgs) {
    const ts = String(m.headers['x-gridflow-timestamp']);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(120);
    const expected = `sha256=${crypto.createHmac('sha256', webhookSecret).update(`${ts}.${m.body}`).digest('hex')}`;
    expect(m.headers['x-gridflow-signature']).toBe(expected);
    expect(m.headers['x-gridflow-delivery-id']).toEqual(expect.stringContaining(ticketId));
  }
  // The refused attempts are on record, and both messages were delivered in the end.
  const deliveries = (await h.call('GET', `/api/deliveries?workflowId=${enc(id)}`)).body.items as { status: string; history: { ok: boolean; statusCode: number }[] }[];
  expect(deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered']);
  expect(deliveries.flatMap((d) => d.history).filter((a) => !a.ok).map((a) => a.statusCode)).toEqual([503, 503]);

  const status = await h.call('GET', `/api/intake/tickets/${ticketId}`, undefined, { authorization: `Bearer ${token}` });
  expect(status.body).toMatchObject({ system, ticketId, workflowId: id, state: 'triage', status: 'accepted' });
});

test('an intake credential opens nothing but intake, and a user token does not open intake', async () => {
  const { token } = await register(`only-${Date.now().toString(36)}`);
  for (const path of ['/api/processes', '/api/me', '/api/tasks', '/api/grids']) {
    expect((await h.call('GET', path, undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
  }
  const admin = await h.call('POST', '/api/intake/tickets', ticketBody('X1'));
  expect(admin.status).toBe(401);
  expect(admin.body.detail).toMatch(/intake credential.*POST \/api\/intake\/systems/);
  const worker = await h.as('m-grid-10-worker').call('POST', '/api/intake/systems', { name: 'mine' });
  expect(worker.status).toBe(403);
  const bad = await file(token, { ...ticketBody('X2'), grid: 'grid-99' });
  expect(bad.status).toBe(400);
  expect(bad.body.detail).toMatch(/grid-99/);
});

test('a duplicate is merged into the kept issue: it ends rejected as a duplicate pointing at it, and both tickets follow the kept issue', async () => {
  const system = `merge-${Date.now().toString(36)}`;
  const { token } = await register(system);
  const kept = (await file(token, ticketBody('K-1'))).body.workflowId as string;
  const dup = (await file(token, ticketBody('D-1'))).body.workflowId as string;
  expect(dup).not.toBe(kept);
  await eventually(async () => (await h.call('GET', `/api/processes/${enc(dup)}`)).status === 200);

  // Another grid's worker does not see either issue.
  const stranger = await h.as('m-grid-04-worker').call('POST', `/api/processes/${enc(kept)}/merge`, { duplicate: dup });
  expect(stranger.status).toBe(404);

  const merged = await h.as('m-grid-10-worker').call('POST', `/api/processes/${enc(kept)}/merge`, { duplicate: dup });
  expect(merged.status).toBe(200);
  expect(merged.body.reporters).toEqual([
    expect.objectContaining({ workflowId: kept, source: 'hotline', tickets: [{ system, ticketId: 'K-1' }], merged: false }),
    expect.objectContaining({ workflowId: dup, source: 'hotline', tickets: [{ system, ticketId: 'D-1' }], merged: true, mergedBy: 'm-grid-10-worker' }),
  ]);
  const d = await h.call('GET', `/api/processes/${enc(dup)}`);
  expect(d.body.state).toBe('rejected');
  expect(d.body.history.at(-1)).toMatchObject({ event: 'REJECT', data: expect.objectContaining({ reason: 'duplicate', referTo: kept }) });
  expect((await h.call('GET', `/api/processes/${enc(dup)}/reporters`)).body.mergedInto).toBe(kept);
  // Merging again answers with the same merge; merging into the duplicate is refused.
  expect((await h.as('m-grid-10-worker').call('POST', `/api/processes/${enc(kept)}/merge`, { duplicate: dup })).body.merged).toBe(false);
  const intoDup = await h.as('m-grid-10-worker').call('POST', `/api/processes/${enc(dup)}/merge`, { duplicate: kept });
  expect(intoDup.status).toBe(409);

  const merge = await eventually(async () => messagesOf(system, 'D-1').find((m) => m.json.status === 'merged'), 20_000);
  expect(merge.json).toMatchObject({ workflowId: dup, mergedInto: kept, kept: { workflowId: kept, state: 'reported', status: 'received' } });

  expect((await h.send(kept, { type: 'ACCEPT' })).status).toBe(200);
  for (const ticket of ['K-1', 'D-1']) {
    const m = await eventually(async () => messagesOf(system, ticket).find((x) => x.json.workflowId === kept && x.json.status === 'accepted'), 20_000);
    expect(m.json.state).toBe('triage');
  }
  const status = await h.call('GET', `/api/intake/tickets/D-1`, undefined, { authorization: `Bearer ${token}` });
  expect(status.body).toMatchObject({ workflowId: dup, mergedInto: kept, status: 'accepted' });
});

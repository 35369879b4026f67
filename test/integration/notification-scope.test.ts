import { readEvents } from '../support/sse';
import type { DefinitionDocument } from '../../engine/document.schema';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { workerTask } from '../support/test-definitions';

/**
 * The inbox and the live stream are scoped by grid for every token, with or without a member; a
 * caller holds a bounded number of streams, and a revoked or expired token's stream is closed.
 */
let h: Harness;
beforeAll(async () => {
  // Two streams a caller, and tokens asked again every 300 ms (30 s in production).
  h = await startHarness({ config: { streams: { perCaller: 2, recheckMs: 300 } } });
});
afterAll(async () => {
  await h?.close();
});

/** Two reminders for the grid's worker, half a second apart. */
function reminders(key: string): DefinitionDocument {
  return workerTask({
    key,
    title: 'Two quick reminders (test)',
    taskTitle: '开始',
    event: 'START',
    templates: { nudge: { title: '{{context.grid}} 提醒', body: '请开始' } },
    reminders: [
      { id: 'first', when: { after: '500ms' }, to: 'grid-worker', template: 'nudge' },
      { id: 'second', when: { after: '1000ms' }, to: 'grid-worker', template: 'nudge' },
    ],
  });
}

async function token(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await h.call('POST', '/api/tokens', { name: `scope-${Math.random().toString(36).slice(2)}`, ...body });
  expect(res.status).toBe(201);
  return res.body;
}
const as = (t: string) => ({ authorization: `Bearer ${t}` });

interface Stream {
  status: number;
  body: any;
  notices: { id: string; grid: string; memberId: string; workflowId: string }[];
  closed?: { reason: string };
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens the notification stream and collects what it sends until it ends or is closed. */
async function openStream(t: string, query = ''): Promise<Stream> {
  const controller = new AbortController();
  const res = await fetch(`${h.baseUrl}/api/notifications/stream${query}`, { headers: as(t), signal: controller.signal });
  const stream: Stream = { status: res.status, body: undefined, notices: [], ended: Promise.resolve(), close: () => controller.abort() };
  if (res.status !== 200) {
    stream.body = await res.json();
    return stream;
  }
  stream.ended = readEvents(res, (event, data) => {
    if (event === 'notification') stream.notices.push(data as Stream['notices'][number]);
    if (event === 'closed') stream.closed = data as Stream['closed'];
  });
  return stream;
}

/** Starts the reminders in both grids and waits until every one of them is written. */
async function remindBothGrids(): Promise<Record<string, string>> {
  const key = `scope-${Date.now().toString(36)}`;
  expect((await h.call('POST', '/api/definitions', reminders(key))).status).toBe(201);
  const ids: Record<string, string> = {};
  for (const grid of ['grid-03', 'grid-05']) {
    ids[grid] = (await h.call('POST', '/api/processes', { definition: key, grid, businessKey: `${grid}/${Date.now()}` })).body.workflowId;
  }
  await eventually(async () => {
    const rows = await h.services.orm.em.fork().getConnection().execute<{ n: string }[]>(`select count(*) as n from notification where workflow_id in (?, ?)`, [ids['grid-03'], ids['grid-05']]);
    return Number(rows[0].n) === 4;
  }, 20_000, 200);
  // The stream polls every 300 ms.
  await new Promise((r) => setTimeout(r, 1000));
  return ids;
}

test('a grid-03 worker token without a member, naming grid-05\'s worker, gets none of grid-05\'s notices, on the stream or in the inbox', async () => {
  const noMember = await token({ role: 'grid-worker', grids: ['grid-03'] });
  const prying = await openStream(noMember.token, '?member=m-grid-05-worker');
  const narrowed = await openStream(noMember.token, '?member=m-grid-03-worker');
  expect([prying.status, narrowed.status]).toEqual([200, 200]);
  const ids = await remindBothGrids();
  prying.close();
  narrowed.close();
  const ours = (s: Stream) => s.notices.filter((n) => Object.values(ids).includes(n.workflowId));
  expect(ours(prying)).toEqual([]);
  // Naming a member of its own grid narrows to that member.
  expect(ours(narrowed).map((n) => [n.workflowId, n.memberId])).toEqual([
    [ids['grid-03'], 'm-grid-03-worker'],
    [ids['grid-03'], 'm-grid-03-worker'],
  ]);

  const inbox = await h.call('GET', `/api/notifications?member=m-grid-05-worker&workflowId=${enc(ids['grid-05'])}`, undefined, as(noMember.token));
  expect(inbox).toMatchObject({ status: 200, body: { items: [] } });
  // A manager sees grid-05's worker's two.
  const manager = await token({ role: 'manager' });
  expect((await h.call('GET', `/api/notifications?member=m-grid-05-worker&workflowId=${enc(ids['grid-05'])}`, undefined, as(manager.token))).body.items).toHaveLength(2);
});

test('a grid token that speaks for a member may not name another: 403, saying who may', async () => {
  const worker03 = await token({ role: 'grid-worker', memberId: 'm-grid-03-worker', grids: ['grid-03'] });
  const detail = 'a grid-worker token reads only the notices of its own member ("m-grid-03-worker"), not "m-grid-05-worker"; ops, managers and admins read any member\'s';
  const stream = await openStream(worker03.token, '?member=m-grid-05-worker');
  expect(stream).toMatchObject({ status: 403, body: { status: 403, detail } });
  const inbox = await h.call('GET', '/api/notifications?member=m-grid-05-worker', undefined, as(worker03.token));
  expect(inbox).toMatchObject({ status: 403, body: { detail } });
  expect((await h.call('GET', '/api/notifications?member=me', undefined, as(worker03.token))).status).toBe(200);
});

test('a caller holds at most two open streams here; a third is 429 until one closes, and other callers are not held back', async () => {
  const worker = await token({ role: 'grid-worker', memberId: 'm-grid-03-worker', grids: ['grid-03'] });
  const first = await openStream(worker.token);
  const second = await openStream(worker.token);
  const third = await openStream(worker.token);
  expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
  expect(third.body.detail).toMatch(/^grid-worker "scope-[a-z0-9]+" already has 2 open notification streams, the most one caller may hold; close one before opening another$/);
  const other = await token({ role: 'grid-worker', memberId: 'm-grid-03-worker', grids: ['grid-03'] });
  const others = await openStream(other.token);
  expect(others.status).toBe(200);
  first.close();
  await first.ended;
  const again = await eventually(async () => {
    const s = await openStream(worker.token);
    if (s.status === 200) return s;
    return undefined;
  }, 5000, 100);
  for (const s of [second, again, others]) s.close();
});

test('revoking a token, or its expiry, closes its open stream within the check interval', async () => {
  const revoked = await token({ role: 'grid-worker', memberId: 'm-grid-03-worker', grids: ['grid-03'] });
  const expiring = await token({ role: 'grid-leader', memberId: 'm-grid-03-leader', grids: ['grid-03'] });
  const kept = await token({ role: 'grid-worker', memberId: 'm-grid-03-worker', grids: ['grid-03'] });
  const [a, b, c] = await Promise.all([openStream(revoked.token), openStream(expiring.token), openStream(kept.token)]);
  expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);

  expect((await h.call('POST', `/api/tokens/${revoked.id}/revoke`)).body.revoked).toBe(true);
  await h.services.orm.em.fork().getConnection().execute(`update api_token set expires_at = now() - interval '1 second' where id = ?`, [expiring.id]);
  const t0 = Date.now();
  await Promise.all([a.ended, b.ended]);
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(a.closed).toEqual({ reason: 'the token was revoked or has expired; sign in again' });
  expect(b.closed).toEqual({ reason: 'the token was revoked or has expired; sign in again' });
  // A valid token's stream stays open.
  let cEnded = false;
  void c.ended.then(() => (cEnded = true));
  await new Promise((r) => setTimeout(r, 700));
  expect(cEnded).toBe(false);
  c.close();
});

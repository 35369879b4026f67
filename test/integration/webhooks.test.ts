import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_WEBHOOK_POLICY } from '../../config/config';
import type { DefinitionDocument } from '../../engine/document.schema';
import { postWebhook, WebhookRefused } from '../../services/webhooks';
import { awakeWindow, enc, eventually, startHarness, type Harness } from '../support/harness';

/**
 * Chat webhooks go only to allowed hosts at public addresses (tests allow loopback through the
 * configuration), never follow a redirect, and grid roles see a status code, not what the webhook said.
 */
let h: Harness;
const servers: http.Server[] = [];

beforeAll(async () => {
  // The harness allows 127.0.0.1 so receivers can run here; the refusals below use stricter policies.
  h = await startHarness();
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await h?.close();
});

/** A local HTTP server that answers every request with `answer` and records the requests. */
async function server(answer: (res: http.ServerResponse) => void) {
  const received: { url: string; body: string }[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body });
      answer(res);
    });
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return { received, port: (s.address() as AddressInfo).port };
}

/** One reminder to the grid's leader half a second after the start. */
function remindLeader(key: string): DefinitionDocument {
  return {
    key,
    title: 'A quick reminder (test)',
    grid: 'required',
    templates: { nudge: { title: '{{context.grid}} 提醒', body: '请处理' } },
    machine: {
      id: key,
      initial: 'waiting',
      states: {
        waiting: {
          meta: { task: { role: 'grid-leader', title: '处理', due: { after: '1h' } }, reminders: [{ id: 'nudge', when: { after: '500ms' }, to: 'grid-leader', template: 'nudge' }] },
          on: { DONE: 'done' },
        },
        done: { type: 'final' },
      },
    },
  };
}

async function remindIn(grid: string): Promise<string> {
  const key = `hook-${grid}-${Date.now().toString(36)}`;
  expect((await h.call('POST', '/api/definitions', remindLeader(key))).status).toBe(201);
  return (await h.call('POST', '/api/processes', { definition: key, grid, businessKey: `${grid}/${Date.now()}` })).body.workflowId;
}

async function token(role: string, extra: Record<string, unknown> = {}) {
  return (await h.call('POST', '/api/tokens', { role, name: `hooks-${role}-${Date.now()}`, ...extra })).body.token as string;
}

// Quiet hours that never hold this file's notices (a fixed 00:00-00:01 did from 16:00 to 16:01 UTC).
const quiet = awakeWindow();

test('by default only the WeCom robot host is allowed; other hosts and non-public addresses are refused, naming what is allowed', async () => {
  const strict = await startHarness({ worker: false, config: { webhooks: DEFAULT_WEBHOOK_POLICY } });
  const loopbackListed = await startHarness({ worker: false, config: { webhooks: { hosts: ['127.0.0.1', 'localhost', '169.254.169.254', '[::1]'], allowPrivate: false } } });
  try {
    const put = (on: Harness, webhookUrl: string) => on.call('PUT', '/api/grids/grid-11/channel', { webhookUrl, ...quiet });
    const other = await put(strict, 'https://hooks.example.com/send?key=k');
    expect(other.status).toBe(400);
    expect(other.body.detail).toBe('webhook host "hooks.example.com" is not allowed; allowed hosts: qyapi.weixin.qq.com (GRIDFLOW_WEBHOOK_HOSTS)');
    expect(other.body.errors).toEqual([{ path: 'webhookUrl', message: other.body.detail }]);
    expect((await put(strict, 'http://127.0.0.1:9/send')).body.detail).toMatch(/^webhook host "127.0.0.1" is not allowed; allowed hosts: qyapi\.weixin\.qq\.com/);

    // Listed, but loopback and link-local: refused while private addresses are not allowed, whether written or looked up.
    for (const [url, detail] of [
      ['http://127.0.0.1:9/send', 'webhook host "127.0.0.1" is a loopback address'],
      ['http://[::1]:9/send', 'webhook host "::1" is a loopback address'],
      ['http://169.254.169.254/latest/meta-data', 'webhook host "169.254.169.254" is a link-local address'],
      ['http://localhost:9/send', 'webhook host "localhost" is at '],
    ]) {
      const res = await put(loopbackListed, url);
      expect([url, res.status, res.body.detail]).toEqual([url, 400, expect.stringContaining(detail)]);
      expect(res.body.detail).toContain('webhooks go to public addresses only (GRIDFLOW_WEBHOOK_ALLOW_PRIVATE=true allows others)');
    }
    expect((await strict.call('GET', '/api/grids/grid-11/channel')).status).toBe(404);
  } finally {
    await strict.close();
    await loopbackListed.close();
  }
});

test('a send checks the address it connects to: a listed name that resolves to loopback is refused before anything is sent', async () => {
  const receiver = await server((res) => res.end('{"errcode":0}'));
  const policy = { hosts: ['localhost', '127.0.0.1'], allowPrivate: false };
  await expect(postWebhook(`http://localhost:${receiver.port}/send`, { msgtype: 'text' }, {}, policy)).rejects.toThrow(WebhookRefused);
  await expect(postWebhook(`http://127.0.0.1:${receiver.port}/send`, { msgtype: 'text' }, {}, policy)).rejects.toThrow('is a loopback address');
  expect(receiver.received).toEqual([]);
  // Allowed by the operator, the same send goes through.
  expect((await postWebhook(`http://localhost:${receiver.port}/send`, { msgtype: 'text' }, {}, { ...policy, allowPrivate: true })).status).toBe(200);
  expect(receiver.received).toHaveLength(1);
});

test('a webhook that redirects is not followed: the attempt fails with the 3xx and the target never gets the message', async () => {
  const target = await server((res) => res.end('{"errcode":0}'));
  const redirecting = await server((res) => {
    res.writeHead(302, { location: `http://127.0.0.1:${target.port}/elsewhere` });
    res.end();
  });
  expect((await h.call('PUT', '/api/grids/grid-10/channel', { webhookUrl: `http://127.0.0.1:${redirecting.port}/send?key=k`, format: 'text', ...quiet })).status).toBe(200);
  const id = await remindIn('grid-10');
  const failed = await eventually(async () => {
    const items = (await h.call('GET', `/api/deliveries?workflowId=${enc(id)}`)).body.items;
    return items[0]?.history.length >= 1 && items[0];
  }, 20_000, 200);
  expect(failed.status).toBe('pending');
  expect(failed.history[0]).toMatchObject({ ok: false, statusCode: 302 });
  expect(failed.history[0].error).toBe(`HTTP 302: the webhook redirects to http://127.0.0.1:${target.port}/elsewhere; redirects are not followed, so set the URL it redirects to`);
  expect(redirecting.received.length).toBeGreaterThanOrEqual(1);
  expect(target.received).toEqual([]);
});

test('grid leaders see the status code and a general sentence, not what the webhook answered; ops and managers see the answer', async () => {
  const failing = await server((res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"errcode":93000,"errmsg":"invalid webhook url, internal host 10.1.2.3, secret s3cr3t"}');
  });
  expect((await h.call('PUT', '/api/grids/grid-09/channel', { webhookUrl: `http://127.0.0.1:${failing.port}/send?key=k`, ...quiet })).status).toBe(200);
  const id = await remindIn('grid-09');
  await eventually(async () => (await h.call('GET', `/api/deliveries?workflowId=${enc(id)}`)).body.items[0]?.history.length >= 1, 20_000, 200);

  const leader = await token('grid-leader', { memberId: 'm-grid-09-leader', grids: ['grid-09'] });
  const seen = (await h.call('GET', `/api/deliveries?workflowId=${enc(id)}`, undefined, { authorization: `Bearer ${leader}` })).body.items[0];
  const general = 'the webhook answered HTTP 500; ops and managers see the details in GET /api/deliveries';
  expect(seen.lastError).toBe(general);
  expect(seen.history[0]).toMatchObject({ ok: false, statusCode: 500, error: general });
  expect(JSON.stringify(seen)).not.toMatch(/s3cr3t|10\.1\.2\.3|errcode|93000/);

  for (const role of ['ops', 'manager']) {
    const detailed = (await h.call('GET', `/api/deliveries?workflowId=${enc(id)}`, undefined, { authorization: `Bearer ${await token(role)}` })).body.items[0];
    expect(detailed.history[0].error).toBe('HTTP 500, errcode 93000: {"errcode":93000,"errmsg":"invalid webhook url, internal host 10.1.2.3, secret s3cr3t"}');
    expect(detailed.lastError).toContain('s3cr3t');
  }
  // Stop the retries of this test's failing receiver.
  expect((await h.call('PUT', '/api/grids/grid-09/channel', { webhookUrl: `http://127.0.0.1:${failing.port}/send?key=k`, enabled: false })).status).toBe(200);
});

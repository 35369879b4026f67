/// <reference lib="dom" />
/**
 * The field page without the network, in Debian's Chromium against a real gridflow (API, worker,
 * Temporal dev server, PostgreSQL): it installs (manifest, icons, service worker), opens offline
 * from the service worker's cache with the last known tasks, queues check-ins with photos taken
 * offline, sends them in order when the network returns (a replay after a lost answer applied once),
 * and shows a queued action the server refuses with the server's reason.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { appFromServices } from '../../api/app';
import { loadConfig } from '../../config/config';
import { addDays, localDate } from '../../engine/time';
import { createLogger } from '../../infra/log';
import { csrfTokenOf } from '../../services/sessions.service';
import { SignInService } from '../../services/sign-in.service';
import { NO_RATE_LIMITS, enc, eventually, type Harness } from '../support/harness';
import { PHONE, screenshot, signIn, unlabelled } from '../support/browser';
import { closeBrowser, startBrowserRun } from '../support/browser-run';

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];
const GRID = 'grid-06';
const WORKER = `m-${GRID}-worker`;
const started: string[] = [];

beforeAll(async () => {
  ({ h, browser } = await startBrowserRun());
}, 120_000);
afterAll(async () => {
  await closeBrowser(browser, contexts);
  // The patrols of far-off days leave no open task behind for other tests of this grid.
  for (const id of started) await h?.call('POST', `/api/processes/${enc(id)}/cancel`, { reason: 'offline browser test done' }).catch(() => undefined);
  await h?.close();
});

// ---- pictures as a phone's camera would give them, and what came out -----------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A `width` x `height` RGB PNG with a gradient coloured by `seed`: larger than the phone keeps. */
function photoPng(width: number, height: number, seed: number): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 255) / width;
      row[2 + x * 3] = (y * 255) / height;
      row[3 + x * 3] = (seed * 97) & 0xff;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}
/** A JPEG's size from its start-of-frame marker. */
function jpegSize(b: Buffer): { width: number; height: number } {
  let i = 2;
  while (i < b.length) {
    const marker = b[i + 1];
    const len = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    i += 2 + len;
  }
  throw new Error('no start-of-frame marker in the JPEG');
}
const pngSize = (b: Buffer) => ({ width: b.readUInt32BE(16), height: b.readUInt32BE(20) });

// ---- the test's patrols and pages ----------------------------------------------------------------

/** A patrol of grid-06 for a day far from today (no timer of its day fires during the test), started by its worker. */
async function walkingPatrol(daysAhead: number): Promise<string> {
  const res = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: GRID, input: { date: addDays(localDate(Date.now()), daysAhead) } });
  expect([200, 201]).toContain(res.status);
  const id = res.body.workflowId as string;
  started.push(id);
  await eventually(async () => (await h.call('GET', `/api/processes/${enc(id)}`)).status === 200, 20_000);
  expect((await h.send(id, { type: 'START' }, WORKER)).body.state).toBe('patrolling');
  return id;
}

/** The worker's task of that patrol, once the read model has it. */
async function taskOf(workflowId: string): Promise<{ id: string; title: string }> {
  return eventually(async () => {
    const r = await h.as(WORKER).call('GET', '/api/tasks?assignee=me&status=open');
    return (r.body.items as { id: string; workflowId: string; title: string }[]).find((t) => t.workflowId === workflowId && t.title === '走访签到并提交今日巡查');
  }, 20_000);
}

async function phonePage(): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'allow' });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    // Requests that fail because the network is off are the point of this test, not a fault.
    if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|Failed to fetch|ERR_CONNECTION_RESET/.test(m.text())) problems.push(m.text());
  });
  return { page, context, problems };
}

/** Signed in as the worker, with the service worker controlling the page and the task's form data kept. */
async function openFieldPage(taskId: string): Promise<{ page: Page; context: BrowserContext; problems: string[]; card: ReturnType<Page['locator']> }> {
  const p = await phonePage();
  await signIn(p.page, h.baseUrl, await h.as(WORKER).token());
  await p.page.getByRole('heading', { level: 1, name: '我的任务' }).waitFor();
  await p.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 });
  const card = p.page.locator(`li[data-task="${taskId}"]`);
  // The buttons are enabled once the definition's schemas and the grid's sites are in (and kept on the phone).
  await card.getByRole('button', { name: '签到' }).and(p.page.locator(':enabled')).waitFor({ timeout: 20_000 });
  return { ...p, card };
}

async function checkIn(card: ReturnType<Page['locator']>, site: string, households: string, photo: { name: string; buffer: Buffer }) {
  await card.getByRole('button', { name: '签到' }).click();
  await card.getByLabel(/签到地点/).fill(site);
  await card.getByLabel('走访户数').fill(households);
  await card.getByLabel(/照片或文件/).setInputFiles({ name: photo.name, mimeType: 'image/png', buffer: photo.buffer });
  await card.getByRole('button', { name: '确认签到' }).click();
}

test('the field page installs: a manifest named 盛世网格 with its icons, and a service worker at the root under the console\'s policy', async () => {
  const console = await fetch(`${h.baseUrl}/`);
  const sw = await fetch(`${h.baseUrl}/sw.js`);
  expect(sw.status).toBe(200);
  expect(sw.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(sw.headers.get('cache-control')).toBe('no-cache');
  expect(sw.headers.get('content-security-policy')).toBe(console.headers.get('content-security-policy'));
  const manifestRes = await fetch(`${h.baseUrl}/manifest.webmanifest`);
  expect(manifestRes.headers.get('content-type')).toBe('application/manifest+json; charset=utf-8');
  const manifest = await manifestRes.json();
  expect(manifest).toMatchObject({ name: '盛世网格', display: 'standalone', start_url: './#/my', scope: './' });
  for (const icon of manifest.icons as { src: string; sizes: string; type: string }[]) {
    const res = await fetch(`${h.baseUrl}/${icon.src}`);
    expect([icon.src, res.status, res.headers.get('content-type')?.split(';')[0]]).toEqual([icon.src, 200, icon.type]);
    if (icon.type === 'image/png') {
      const [w, hgt] = icon.sizes.split('x').map(Number);
      expect(pngSize(Buffer.from(await res.arrayBuffer()))).toEqual({ width: w, height: hgt });
    }
  }

  // Chromium's own verdict: the page is installable (its manifest parses, icons load, a worker controls it).
  const { page, context } = await phonePage();
  await page.goto(`${h.baseUrl}/`);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 });
  const cdp = await context.newCDPSession(page);
  const parsed = (await cdp.send('Page.getAppManifest')) as { errors: unknown[]; url: string };
  expect(parsed.errors).toEqual([]);
  expect(parsed.url).toBe(`${h.baseUrl}/manifest.webmanifest`);
  const installability = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
  // Playwright's contexts are incognito-like, which Chromium names but which says nothing of the page.
  expect(installability.installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);
}, 60_000);

test('offline, a grid worker checks in twice with photos; both wait on the phone and reach the patrol once each with their photos when the network returns', async () => {
  const patrol = await walkingPatrol(150);
  const task = await taskOf(patrol);
  const { page, context, problems, card } = await openFieldPage(task.id);

  await context.setOffline(true);
  // Opened again with no network: the service worker's copy of the console, the tasks last seen.
  await page.reload();
  const banner = page.locator('.offline-banner');
  // The time arrives with the cached answer; the help text below also says 上次同步, so wait for the time itself.
  await banner.locator('.synced').waitFor();
  await expect(banner.textContent()).resolves.toMatch(/^离线 · 上次同步 \d\d\/\d\d \d\d:\d\d显示的是上次同步时的任务/);
  await card.waitFor();
  await expect(card.locator('h3').textContent()).resolves.toBe('走访签到并提交今日巡查');

  await checkIn(card, '地下车库B1', '3', { name: 'IMG_0001.png', buffer: photoPng(2400, 1800, 1) });
  await page.getByRole('status').filter({ hasText: '签到 · 已保存在本机，联网后发送' }).waitFor();
  await checkIn(card, '3号楼楼梯间', '5', { name: 'IMG_0002.png', buffer: photoPng(2400, 1800, 2) });
  const waiting = page.locator('.outbox li.queued[data-status="waiting"]');
  await waiting.nth(1).waitFor();
  await expect(waiting.count()).resolves.toBe(2);
  // Listed in the order they will be sent.
  await expect(waiting.allTextContents()).resolves.toEqual([expect.stringContaining('地下车库B1'), expect.stringContaining('3号楼楼梯间')]);
  for (const item of await waiting.all()) {
    await expect(item.textContent()).resolves.toContain('等待发送');
    await expect(item.textContent()).resolves.toContain('照片 1 张');
    await item.locator('img').waitFor();
  }
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'worker-offline-queue-phone');
  // Nothing reached the server.
  expect((await h.call('GET', `/api/processes/${enc(patrol)}`)).body.context.checkIns).toBe(0);

  // The network returns, but the first event's answer is lost on the way back: the server has applied
  // it, the page does not know. It sends it again with the same request id.
  const eventPosts: { requestId: string; site: string; evidence: number }[] = [];
  await page.route('**/api/processes/*/events', async (route) => {
    const body = route.request().postDataJSON() as { requestId: string; data: { site: string; evidence?: unknown[] } };
    eventPosts.push({ requestId: body.requestId, site: body.data.site, evidence: body.data.evidence?.length ?? 0 });
    if (eventPosts.length === 1) {
      const applied = await route.fetch();
      expect(applied.status()).toBe(200);
      await route.abort('connectionreset');
    } else await route.continue();
  });
  await context.setOffline(false);
  const sent = page.locator('.outbox li.queued[data-status="sent"]');
  await sent.nth(1).waitFor({ timeout: 30_000 });
  await expect(sent.count()).resolves.toBe(2);
  await banner.waitFor({ state: 'detached' });
  await screenshot(page, 'worker-offline-sent-phone');

  // In order, the first one twice under one request id, each with its photo's reference.
  expect(eventPosts.map((p) => p.site)).toEqual(['地下车库B1', '地下车库B1', '3号楼楼梯间']);
  expect(eventPosts[1].requestId).toBe(eventPosts[0].requestId);
  expect(eventPosts[2].requestId).not.toBe(eventPosts[0].requestId);
  expect(eventPosts.map((p) => p.evidence)).toEqual([1, 1, 1]);

  // The patrol, through the API: two check-ins, once each, each with its photo as a stored JPEG of 1600 px.
  const detail = await eventually(async () => {
    const d = await h.call('GET', `/api/processes/${enc(patrol)}`);
    return d.body.history?.filter((s: { event: string }) => s.event === 'CHECK_IN').length === 2 ? d.body : undefined;
  }, 20_000);
  expect(detail.context).toMatchObject({ checkIns: 2, householdsVisited: 8, sites: ['地下车库B1', '3号楼楼梯间'] });
  const checkIns = detail.history.filter((s: { event: string }) => s.event === 'CHECK_IN') as { actor: string; data: { site: string; evidence: { sha256: string; name: string; type: string; size: number }[] } }[];
  expect(checkIns.map((s) => [s.data.site, s.actor, s.data.evidence.map((e) => [e.name, e.type])])).toEqual([
    ['地下车库B1', WORKER, [['IMG_0001.jpg', 'image/jpeg']]],
    ['3号楼楼梯间', WORKER, [['IMG_0002.jpg', 'image/jpeg']]],
  ]);
  const files = (await h.call('GET', `/api/processes/${enc(patrol)}/evidence`)).body.items as { sha256: string; size: number; uploadedBy: string }[];
  expect(files.map((f) => f.sha256).sort()).toEqual(checkIns.map((s) => s.data.evidence[0].sha256).sort());
  for (const f of files) {
    expect(f.uploadedBy).toBe(WORKER);
    const bytes = Buffer.from(await (await fetch(`${h.baseUrl}/api/processes/${enc(patrol)}/evidence/${f.sha256}`, { headers: { authorization: `Bearer ${h.token}` } })).arrayBuffer());
    expect(jpegSize(bytes)).toEqual({ width: 1600, height: 1200 });
    // Resized on the phone: a fraction of the 2400 x 1800 picture taken.
    expect(bytes.length).toBeLessThan(1024 * 1024);
  }
  // The status line tells of the last one sent, and the task stays for the submit.
  await page.getByRole('status').filter({ hasText: '签到 · 已完成：巡查中' }).waitFor();
  expect(problems).toEqual([]);
}, 120_000);

test('a check-in queued offline for a patrol submitted meanwhile is shown as refused with the server\'s reason', async () => {
  const patrol = await walkingPatrol(151);
  const task = await taskOf(patrol);
  const { page, context, problems, card } = await openFieldPage(task.id);

  await context.setOffline(true);
  await page.locator('.offline-banner').waitFor();
  await checkIn(card, '5号楼地下室', '2', { name: 'IMG_0003.png', buffer: photoPng(1200, 900, 3) });
  await page.locator('.outbox li.queued[data-status="waiting"]').waitFor();

  // Meanwhile the patrol is checked in and submitted from elsewhere (another phone, the API).
  expect((await h.send(patrol, { type: 'CHECK_IN', data: { site: '粮食局', households: 4 } }, WORKER)).status).toBe(200);
  expect((await h.send(patrol, { type: 'SUBMIT' }, WORKER)).body).toMatchObject({ state: 'completed', status: 'completed' });

  await context.setOffline(false);
  const refused = page.locator('.outbox li.queued[data-status="refused"]');
  await refused.waitFor({ timeout: 30_000 });
  const text = await refused.textContent();
  expect(text).toContain('被拒绝');
  expect(text).toContain('流程现在不接受这项操作（可能已提交或已结束）');
  expect(text).toMatch(new RegExp(`process "${patrol}" has ended \\(completed\\)`));
  await expect(refused.getByRole('alert').count()).resolves.toBe(1);
  // The photo stays with the refused action until the worker dismisses it.
  await refused.locator('img').waitFor();
  // The ended patrol's task leaves the list; the refusal stays.
  await card.waitFor({ state: 'detached' });
  await screenshot(page, 'worker-offline-refused-phone');
  // The patrol has the one check-in made meanwhile, not the refused one.
  const d = await h.call('GET', `/api/processes/${enc(patrol)}`);
  expect(d.body.context).toMatchObject({ checkIns: 1, sites: ['粮食局'] });

  await refused.getByRole('button', { name: /知道了/ }).click();
  await refused.waitFor({ state: 'detached' });
  // Dismissed for good: not back after a reload.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: '我的任务' }).waitFor();
  await expect(page.locator('.outbox li.queued[data-status="refused"]').count()).resolves.toBe(0);
  expect(problems).toEqual([]);
}, 120_000);

test('online, an issue report with a photo goes at once through the same outbox: the photo resized on the phone, the issue started', async () => {
  const patrol = await walkingPatrol(152);
  const task = await taskOf(patrol);
  const { page, problems, card } = await openFieldPage(task.id);
  await card.getByRole('button', { name: '上报问题' }).click();
  const photo = card.getByLabel(/照片或文件/);
  // The phone offers its camera for any picture type; the page makes it a JPEG.
  await expect(photo.getAttribute('accept')).resolves.toBe('image/*');
  await expect(photo.getAttribute('capture')).resolves.toBe('environment');
  await card.getByLabel(/问题类别/).fill('消防安全');
  await card.getByLabel(/问题描述/).fill('地下车库消防通道停放电动车');
  await photo.setInputFiles({ name: 'fire-lane.png', mimeType: 'image/png', buffer: photoPng(1800, 2400, 4) });
  await card.getByRole('button', { name: '确认上报问题' }).click();
  await page.getByRole('status').filter({ hasText: '上报问题 · 已完成：巡查中' }).waitFor();
  await page.locator('.outbox li.queued[data-status="sent"][data-type="REPORT_ISSUE"]').waitFor();

  const report = await eventually(async () => {
    const d = await h.call('GET', `/api/processes/${enc(patrol)}`);
    return d.body.history?.find((s: { event: string }) => s.event === 'REPORT_ISSUE') as { data: { category: string; evidence: { sha256: string; type: string }[] } } | undefined;
  }, 20_000);
  expect(report.data).toMatchObject({ category: '消防安全', evidence: [{ type: 'image/jpeg' }] });
  const bytes = Buffer.from(await (await fetch(`${h.baseUrl}/api/processes/${enc(patrol)}/evidence/${report.data.evidence[0].sha256}`, { headers: { authorization: `Bearer ${h.token}` } })).arrayBuffer());
  expect(jpegSize(bytes)).toEqual({ width: 1200, height: 1600 });
  // The report started the grid's issue, as a report without a photo does.
  const issue = await eventually(async () => ((await h.call('GET', `/api/processes/${enc(patrol)}`)).body.children as string[] | undefined)?.find((c) => c.startsWith('issue/')), 20_000);
  expect((await h.call('GET', `/api/processes/${enc(issue)}`)).body.context.input).toMatchObject({ source: 'patrol', category: '消防安全', description: '地下车库消防通道停放电动车' });
  expect(problems).toEqual([]);
}, 90_000);

test('signed in with a console session (no token), the photo and the check-in go with the session\'s CSRF token', async () => {
  // The same gridflow with WeCom sign-in configured, so the console's cookie sessions are on; the
  // session is opened as the WeCom callback would open it.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signIn = new SignInService(
    { wecom: { corpId: 'ww-test', secret: 'unused', agentId: '1000002', redirectUrl: `${base}/auth/wecom/callback`, baseUrl: 'http://127.0.0.1:9', authorizeUrl: 'http://127.0.0.1:9/authorize' }, session: { secureCookie: false, lifetimeMs: 3_600_000, idleMs: 3_600_000 } },
    h.services.sessions,
  );
  server.on('request', appFromServices({ ...h.services, signIn }, { adminToken: h.token, log: createLogger('error'), rateLimits: NO_RATE_LIMITS, webDir: loadConfig().webDir }));
  try {
    const patrol = await walkingPatrol(153);
    const task = await taskOf(patrol);
    const session = await h.services.sessions.open(WORKER, 'wecom', `offline-${Date.now().toString(36)}`, {});
    const { page, context, problems } = await phonePage();
    await context.addCookies([
      { name: 'gridflow_session', value: session.secret, url: base, httpOnly: true, sameSite: 'Lax' },
      { name: 'gridflow_csrf', value: csrfTokenOf(session.secret), url: base, sameSite: 'Lax' },
    ]);
    await page.goto(`${base}/#/my`);
    const card = page.locator(`li[data-task="${task.id}"]`);
    await card.getByRole('button', { name: '签到' }).and(page.locator(':enabled')).waitFor({ timeout: 20_000 });
    // No token anywhere: the cookie is all there is.
    expect(await page.evaluate(() => sessionStorage.getItem('gridflow.token') ?? localStorage.getItem('gridflow.token'))).toBeNull();
    await checkIn(card, '6号楼车棚', '2', { name: 'IMG_0005.png', buffer: photoPng(800, 600, 5) });
    await page.locator('.outbox li.queued[data-status="sent"]').or(card.getByRole('alert')).waitFor();
    // A refusal would be shown in the form (the upload without the CSRF token is a 403).
    expect(await card.getByRole('alert').allTextContents()).toEqual([]);
    const checkIns = await eventually(async () => {
      const d = await h.call('GET', `/api/processes/${enc(patrol)}`);
      const found = d.body.history?.filter((x: { event: string }) => x.event === 'CHECK_IN') as { actor: string; data: { evidence: { uploadedBy?: string; type: string }[] } }[] | undefined;
      return found?.length ? found : undefined;
    }, 20_000);
    expect(checkIns.map((c) => [c.actor, c.data.evidence.map((e) => e.type)])).toEqual([[WORKER, ['image/jpeg']]]);
    expect(problems).toEqual([]);
  } finally {
    // The page's notification stream holds a connection open.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}, 90_000);

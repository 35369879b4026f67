/// <reference lib="dom" />
/**
 * Signing in to the console through an identity provider, in Chromium: the in-process OpenID
 * Provider's login page, back to the console with a session cookie, grid-03's worker seeing grid-03
 * only and acting (the console sends the CSRF token), then a manager revoking the session.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { appFromServices } from '../../api/app';
import { loadConfig } from '../../config/config';
import { addDays, localDate } from '../../engine/time';
import { createLogger } from '../../infra/log';
import { SignInService } from '../../services/sign-in.service';
import { PHONE, launchChromium, screenshot, unlabelled } from '../support/browser';
import { NO_RATE_LIMITS, eventually, startHarness, type Harness } from '../support/harness';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider';

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let server: http.Server;
let base: string;
let provider: TestProvider;
const subject = `wang-${Date.now().toString(36)}`;

beforeAll(async () => {
  h = await startHarness();
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = await startOidcProvider({ redirectUris: [`${base}/auth/oidc/callback`], accounts: { [subject]: { name: '王小三' } } });
  const signIn = new SignInService(
    {
      oidc: { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, redirectUrl: `${base}/auth/oidc/callback`, scopes: 'openid profile' },
      session: { secureCookie: false, lifetimeMs: 12 * 3_600_000, idleMs: 2 * 3_600_000 },
    },
    h.services.sessions,
  );
  // The console as the run built it (GRIDFLOW_WEB_DIR, set by the global set-up).
  server.on('request', appFromServices({ ...h.services, signIn }, { adminToken: h.token, log: createLogger('error'), rateLimits: NO_RATE_LIMITS, webDir: loadConfig().webDir }));
  expect((await h.call('POST', '/api/members/m-grid-03-worker/identities', { provider: 'oidc', subject })).status).toBe(201);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await provider?.close();
  await h?.close();
});

test('grid-03\'s worker signs in through the unified sign-in, sees only grid-03 and acts; once a manager revokes the session the next request is refused', async () => {
  // Patrols of grid-03 and grid-05 on a day of this test's own (other tests start today's patrols of
  // grid-03 and act on them): the worker of grid-03 must see the one and not the other.
  const day = addDays(localDate(Date.now()), 35);
  const patrols: Record<string, string> = {};
  for (const grid of ['grid-03', 'grid-05']) {
    const started = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, input: { date: day } });
    expect([200, 201]).toContain(started.status);
    patrols[grid] = started.body.workflowId;
  }

  context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page: Page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));

  // The sign-in page offers the provider next to the token field.
  await page.goto(`${base}/`);
  const viaProvider = page.getByRole('link', { name: '用统一身份登录' });
  await viaProvider.waitFor();
  await page.getByLabel('访问令牌').waitFor();
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'sign-in-phone');

  // The provider's own login page, then back to the console with a session.
  await viaProvider.click();
  await page.getByRole('heading', { name: '统一身份认证（测试）' }).waitFor();
  await page.getByLabel('账号').selectOption(subject);
  await page.getByRole('button', { name: '确认登录' }).click();
  await page.getByRole('heading', { level: 1, name: '我的任务' }).waitFor();
  // Signed in as the registry's member, by name.
  await page.locator('.who').filter({ hasText: '第三网格专职网格员' }).waitFor();
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === 'gridflow_session');
  expect(session).toEqual(expect.objectContaining({ httpOnly: true, sameSite: 'Lax' }));
  // The page's script cannot read the session cookie, only the CSRF one.
  await expect(page.evaluate(() => document.cookie)).resolves.not.toContain('gridflow_session');

  // Only grid-03: its patrol's task is listed, grid-05's is not, and the API says the same.
  const own = page.locator(`li[data-task^="${patrols['grid-03']}#"]`);
  await own.waitFor({ timeout: 20_000 });
  await expect(page.locator(`li[data-task^="${patrols['grid-05']}#"]`).count()).resolves.toBe(0);
  const seen = await page.evaluate(async () => {
    const tasks = await (await fetch('/api/tasks?assignee=me')).json();
    const processes = await (await fetch('/api/processes?definition=daily-patrol')).json();
    return { tasks: tasks.items.map((t: { grid: string }) => t.grid), processes: processes.items.map((p: { grid: string }) => p.grid) };
  });
  expect(seen.tasks.length).toBeGreaterThan(0);
  expect(seen.processes.length).toBeGreaterThan(0);
  expect(new Set([...seen.tasks, ...seen.processes])).toEqual(new Set(['grid-03']));
  await page.goto(`${base}/#/processes`);
  await page.locator(`tr[data-workflow-id="${patrols['grid-03']}"]`).waitFor();
  await expect(page.locator(`tr[data-workflow-id="${patrols['grid-05']}"]`).count()).resolves.toBe(0);

  // One tap acts: the console sends the session's CSRF token with the event.
  await page.goto(`${base}/#/my`);
  const card = page.locator(`li[data-task="${patrols['grid-03']}#assigned"]`);
  await card.getByRole('button', { name: '开始巡查' }).click();
  await page.getByText(/开始巡查 · 已完成：/).waitFor();
  expect((await h.call('GET', `/api/processes/${encodeURIComponent(patrols['grid-03'])}`)).body.state).toBe('patrolling');
  await screenshot(page, 'worker-signed-in-with-provider-phone');

  // A manager finds the session and revokes it.
  const manager = h.as('m-community-manager-1');
  const listed = await manager.call('GET', '/api/members/m-grid-03-worker/sessions');
  // This test's own session: the OIDC API test signs grid-03's worker in too, under its own subjects.
  const active = (listed.body.items as { id: string; state: string; provider: string; subject: string }[]).filter((s) => s.state === 'active' && s.provider === 'oidc' && s.subject === subject);
  expect(active).toHaveLength(1);
  expect((await manager.call('DELETE', `/api/sessions/${active[0].id}`)).status).toBe(200);

  // The next request is refused, and the console says why on its sign-in page.
  const refused = await page.evaluate(async () => {
    const r = await fetch('/api/tasks?assignee=me');
    return { status: r.status, detail: (await r.json()).detail as string };
  });
  expect(refused.status).toBe(401);
  expect(refused.detail).toContain('revoked by m-community-manager-1');
  await page.reload();
  await page.getByText(/登录已失效: the session was revoked by m-community-manager-1/).waitFor();
  await page.getByRole('link', { name: '用统一身份登录' }).waitFor();
  await eventually(async () => !(await page.evaluate(() => document.cookie)).includes('gridflow_csrf'));
  await screenshot(page, 'sign-in-session-revoked-phone');
  expect(problems).toEqual([]);
}, 120_000);

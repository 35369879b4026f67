/// <reference lib="dom" />
/**
 * The street office in a real browser (issue 18): its page lists both communities of 新华西街道
 * with their figures and a rank, and a community's name opens that community's dashboard, with
 * its own grids only. A community manager has no street page in the menu. Screenshot for the README.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import type { Harness } from '../support/harness';
import { DESKTOP, openPage, screenshot, signIn } from '../support/browser';
import { closeBrowser, startBrowserRun } from '../support/browser-run';

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ({ h, browser } = await startBrowserRun());
}, 120_000);
afterAll(async () => {
  await closeBrowser(browser, contexts);
  await h?.close();
});

test('the street office sees both communities side by side and drills down into 林苑社区\'s dashboard', async () => {
  const { page, problems } = await openPage(browser, contexts, DESKTOP);
  await signIn(page, h.baseUrl, await h.as('m-street-office').token());
  await page.getByRole('link', { name: '街道' }).click();
  await page.getByRole('heading', { level: 1, name: '各社区总览' }).waitFor();
  const table = page.getByRole('table', { name: /各社区运行与评比/ });
  await table.waitFor();
  await expect(table.locator('tbody tr').count()).resolves.toBe(2);
  await expect(table.locator('tr[data-community="linyuan"] th').textContent()).resolves.toBe('林苑社区');
  await expect(table.locator('tr[data-community="shengshi"] th').textContent()).resolves.toBe('盛世社区');
  await expect(table.locator('tr[data-community="linyuan"] td').nth(1).textContent()).resolves.toBe('3');
  await screenshot(page, 'street-communities-desktop');

  await table.getByRole('link', { name: '林苑社区' }).click();
  await page.getByRole('heading', { level: 1, name: '运行总览 · 林苑社区' }).waitFor();
  // The overdue-by-grid table lists 林苑's grids only.
  const grids = page.locator('tr[data-grid]');
  await grids.first().waitFor();
  const ids = await grids.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-grid')));
  expect(ids.length).toBeGreaterThan(0);
  expect(ids.every((g) => g?.startsWith('linyuan.'))).toBe(true);
  await page.getByRole('link', { name: '← 返回各社区总览' }).click();
  await page.getByRole('heading', { level: 1, name: '各社区总览' }).waitFor();
  expect(problems).toEqual([]);
});

test('a community manager has no street page in the menu, and the page shows only their own community', async () => {
  const { page, problems } = await openPage(browser, contexts, DESKTOP);
  await signIn(page, h.baseUrl, await h.as('m-linyuan-community-manager').token());
  await expect(page.getByRole('link', { name: '街道' }).count()).resolves.toBe(0);
  await page.goto(`${h.baseUrl}/#/street`);
  const table = page.getByRole('table', { name: /各社区运行与评比/ });
  await table.waitFor();
  await expect(table.locator('tbody tr').count()).resolves.toBe(1);
  await expect(table.locator('tbody th').textContent()).resolves.toBe('林苑社区');
  expect(problems).toEqual([]);
});

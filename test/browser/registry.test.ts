/// <reference lib="dom" />
/**
 * The register page in a real browser against a real gridflow: grid-10's leader uploads a CSV
 * file and the same rows as an Excel workbook, finds an entry masked, shows it in clear, edits it,
 * and opens the coverage view; a worker sees the coverage on a phone. Screenshots for the README.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parse } from 'yaml';
import { addDays, localDate } from '../../engine/time';
import { enc, startHarness, type Harness } from '../support/harness';
import { DESKTOP, PHONE, launchChromium, openPage, screenshot, signIn, unlabelled } from '../support/browser';
import { xlsx } from '../support/xlsx';

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];
const tag = `B${Date.now().toString(36).toUpperCase()}`;

beforeAll(async () => {
  h = await startHarness();
  browser = await launchChromium();
  // The coverage view follows the registry-driven definition: the same document the API test publishes.
  const example = parse(fs.readFileSync(path.join(__dirname, '..', '..', 'definitions', 'examples', 'care-visit.definition.yaml'), 'utf8'));
  const doc = { ...example, schedule: { ...example.schedule, holidays: 'run', weekends: 'run', makeUpWorkdays: 'run' } };
  expect([200, 201]).toContain((await h.call('POST', '/api/definitions', doc)).status);
  // Publishing created its schedule on this file's task queue; nothing here needs it. Paused, it
  // cannot fire (Mondays 00:00 UTC) while the API test runs and start rounds for that file's households.
  expect((await h.call('POST', `/api/schedules/${enc(`${h.taskQueue}/care-visit`)}/pause`, { note: 'not needed by this test' })).status).toBe(200);
}, 120_000);
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await h?.close();
});

async function newPage(viewport = DESKTOP): Promise<{ page: Page; problems: string[] }> {
  return openPage(browser, contexts, viewport);
}

test('a grid leader imports the register from a CSV file and again from an Excel workbook, shows and edits an entry, and sees who is still to be visited', async () => {
  const since = addDays(localDate(Date.now()), -3);
  const csv = ['户号,类别,网格,姓名,联系电话,身份证号,住址,走访周期,纳入日期,状态', `${tag}-01,独居老人,第十网格,孙八,13812340001,,信达家园9号楼1单元101,,${since},在册`, `${tag}-02,低保,10,周九,,,信达家园9号楼2单元202,,${since},`].join('\r\n');
  const { page, problems } = await newPage();
  await signIn(page, h.baseUrl, await h.as('m-grid-10-leader').token());
  await page.getByRole('link', { name: '重点人群' }).click();
  await page.getByRole('heading', { level: 1, name: '重点人群台账' }).waitFor();

  await page.getByLabel('CSV 或 Excel 文件').setInputFiles({ name: '重点人群台账.csv', mimeType: 'text/csv', buffer: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]) });
  await page.getByRole('button', { name: '导入', exact: true }).click();
  await page.getByText('已导入 2 行：新增 2，更新 0，未变 0。').waitFor();
  // The same two entries as an Excel workbook: the page sends it as one, and nothing changes.
  const rows = csv.split('\r\n').map((line, i) => line.split(',').map((v) => (v === '' ? null : i > 0 && v === since ? { date: v } : v)));
  await page.getByLabel('CSV 或 Excel 文件').setInputFiles({ name: '重点人群台账.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: xlsx([{ name: 'Sheet1', rows }]) });
  await page.getByRole('button', { name: '导入', exact: true }).click();
  await page.getByText('已导入 2 行：新增 0，更新 0，未变 2。').waitFor();

  await page.getByLabel('户号').fill(`${tag}-01`);
  await page.getByRole('button', { name: '查询' }).click();
  const row = page.locator(`tr[data-household="${tag}-01"]`);
  await row.waitFor();
  await expect(row.textContent()).resolves.toContain('孙*');
  await expect(row.textContent()).resolves.not.toContain('孙八');
  await expect(row.textContent()).resolves.toContain('138****0001');

  await page.getByRole('button', { name: `查看 ${tag}-01 独居老人` }).click();
  await page.getByText('已显示明文，本次查看已记入审计日志。').waitFor();
  await expect(row.textContent()).resolves.toContain('孙八');
  await page.getByRole('button', { name: `编辑 ${tag}-01 独居老人` }).click();
  const form = page.getByRole('form', { name: `编辑 ${tag}-01 独居老人` });
  await form.getByLabel('联系电话').fill('13812340002');
  expect(await unlabelled(page)).toEqual([]);
  await form.getByRole('button', { name: '保存' }).click();
  await form.waitFor({ state: 'detached' });
  await expect(row.textContent()).resolves.toContain('138****0002');
  await screenshot(page, 'registry-list-desktop');

  await page.getByRole('link', { name: '走访覆盖' }).click();
  await page.getByRole('heading', { level: 1, name: '入户走访覆盖' }).waitFor();
  const owed = page.locator(`section[data-grid="grid-10"] tr:has(th:text-is("${tag}-01"))`);
  await owed.waitFor();
  expect(['pending', 'overdue']).toContain(await owed.getAttribute('data-status'));
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'registry-coverage-desktop');

  // The grid's worker on a phone: the same coverage, no upload form.
  const phone = await newPage(PHONE);
  await signIn(phone.page, h.baseUrl, await h.as('m-grid-10-worker').token());
  await phone.page.goto(`${h.baseUrl}/#/registry/coverage?grid=grid-10`);
  await phone.page.locator(`section[data-grid="grid-10"] tr:has(th:text-is("${tag}-02"))`).waitFor();
  await screenshot(phone.page, 'registry-coverage-phone');
  await phone.page.goto(`${h.baseUrl}/#/registry`);
  await phone.page.getByRole('heading', { level: 1, name: '重点人群台账' }).waitFor();
  await expect(phone.page.getByLabel('CSV 或 Excel 文件').count()).resolves.toBe(0);
  expect([...problems, ...phone.problems]).toEqual([]);
}, 120_000);

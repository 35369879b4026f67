/// <reference lib="dom" />
/**
 * The duty rota's week view in a real browser against a real gridflow: grid-09's leader puts the
 * worker on leave with a stand-in, and the week shows who takes the worker's tasks; the worker reads
 * the same week without the edit buttons. Screenshots for the README.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { addDays, localDate } from '../../engine/time';
import { weekdayOf } from '../../engine/working-days';
import type { Harness } from '../support/harness';
import { DESKTOP, PHONE, openPage, screenshot, signIn, unlabelled } from '../support/browser';
import { closeBrowser, startBrowserRun } from '../support/browser-run';

const GRID = 'grid-09';
// A week far ahead (Monday to Sunday) that no other test plans work for; its entries are removed afterwards.
const ahead = addDays(localDate(Date.now()), 77);
const MONDAY = addDays(ahead, -((weekdayOf(ahead) + 6) % 7));
const WEDNESDAY = addDays(MONDAY, 2);

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ({ h, browser } = await startBrowserRun());
}, 120_000);
afterAll(async () => {
  for (const member of [`m-${GRID}-worker`, `m-${GRID}-part-time-1`]) await h?.call('DELETE', `/api/rota/${GRID}/entries?member=${member}&from=${MONDAY}&to=${addDays(MONDAY, 6)}`);
  await closeBrowser(browser, contexts);
  await h?.close();
});

test('a grid leader puts the worker on leave with a stand-in for Wednesday, and the week shows the stand-in taking the worker\'s tasks', async () => {
  const staff = (await h.call('GET', `/api/grids/${GRID}`)).body.members as { id: string; name: string }[];
  const nameOf = (id: string) => staff.find((m) => m.id === id)?.name as string;
  const worker = nameOf(`m-${GRID}-worker`);
  const standIn = nameOf(`m-${GRID}-part-time-1`);

  const { page, problems } = await openPage(browser, contexts, DESKTOP);
  await signIn(page, h.baseUrl, await h.as(`m-${GRID}-leader`).token());
  await page.getByRole('link', { name: '值班表' }).click();
  await page.getByRole('heading', { level: 1, name: '网格值班表' }).waitFor();
  await page.goto(`${h.baseUrl}/#/rota?grid=${GRID}&from=${MONDAY}`);
  const gridName = (await h.call('GET', `/api/grids/${GRID}`)).body.name as string;
  await page.getByRole('table', { name: `${gridName} ${MONDAY} 至 ${addDays(MONDAY, 6)} 值班安排` }).waitFor();
  const taskRow = page.locator('tfoot tr');
  await expect(taskRow.textContent()).resolves.toContain(`${worker}（照常）`);

  await page.getByRole('button', { name: `编辑 ${worker} ${WEDNESDAY}` }).click();
  await page.getByLabel('安排', { exact: true }).selectOption('leave');
  await page.getByLabel('代岗人').selectOption(`m-${GRID}-part-time-1`);
  await page.getByLabel('备注').fill('病假');
  expect(await unlabelled(page)).toEqual([]);
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('已保存，变更 1 天。').waitFor();

  // Wednesday: the worker is on leave, the part-time member stands in and takes the worker's tasks.
  const workerRow = page.locator(`tr[data-member="m-${GRID}-worker"]`);
  await page.locator('tfoot td', { hasText: `${standIn}（代岗）` }).waitFor();
  await expect(workerRow.locator('td').nth(2).textContent()).resolves.toContain(`请假（代岗人：${standIn}）`);
  await expect(page.locator(`tr[data-member="m-${GRID}-part-time-1"] td`).nth(2).textContent()).resolves.toContain(`代 ${worker}`);
  await expect(taskRow.locator('td').nth(1).textContent()).resolves.toBe(`${worker}（照常）`);
  const day = (await h.call('GET', `/api/rota/${GRID}?from=${WEDNESDAY}&to=${WEDNESDAY}`)).body.days[0];
  expect(day.worker).toEqual({ member: `m-${GRID}-part-time-1`, why: 'stand-in', for: `m-${GRID}-worker` });
  await screenshot(page, 'leader-rota-desktop');
  expect(problems).toEqual([]);
});

test('the grid\'s worker reads the week on a phone, without edit buttons and with who may change it', async () => {
  const { page, problems } = await openPage(browser, contexts, PHONE);
  await signIn(page, h.baseUrl, await h.as(`m-${GRID}-worker`).token());
  // Not in the worker's menu; a link still opens the week to read.
  await expect(page.getByRole('link', { name: '值班表' }).count()).resolves.toBe(0);
  await page.goto(`${h.baseUrl}/#/rota?grid=${GRID}&from=${MONDAY}`);
  const leader = ((await h.call('GET', `/api/grids/${GRID}`)).body.members as { id: string; name: string }[]).find((m) => m.id === `m-${GRID}-leader`)?.name;
  await page.getByText(`您可以查看本网格的值班表；如需修改，请联系管理人员或网格长${leader}。`).waitFor();
  await expect(page.getByRole('button', { name: /^编辑 / }).count()).resolves.toBe(0);
  await screenshot(page, 'worker-rota-phone');
  expect(problems).toEqual([]);
});

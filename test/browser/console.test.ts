/// <reference lib="dom" />
/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a real
 * gridflow: the API and a worker on the test run's Temporal dev server and PostgreSQL. One journey
 * per group of users, with screenshots at desktop and phone width for the README.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addDays, localDate } from '../../engine/time';
import { eventually, type Harness } from '../support/harness';
import { DESKTOP, PHONE, openPage, screenshot, signIn, unlabelled } from '../support/browser';
import { closeBrowser, startBrowserRun } from '../support/browser-run';

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];
const run = Date.now().toString(36);

beforeAll(async () => {
  ({ h, browser } = await startBrowserRun());
}, 120_000);
afterAll(async () => {
  await closeBrowser(browser, contexts);
  await h?.close();
});

async function token(role: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call('POST', '/api/tokens', { role, name: `${role}-${run}`, ...extra });
  expect(res.status).toBe(201);
  return res.body.token;
}

async function newPage(viewport = DESKTOP): Promise<Page> {
  const { page, problems } = await openPage(browser, contexts, viewport);
  (page as unknown as { problems: string[] }).problems = problems;
  return page;
}
const pageErrors = (page: Page) => (page as unknown as { problems: string[] }).problems;

test('a manager finds an overdue issue of grid-04 from the dashboard and opens its timeline', async () => {
  const key = `browser-issue-${run}`;
  const steps = { raised: ['受理诉求', 'DELIBERATE', 'deliberating'], deliberating: ['组织议事协商', 'HANDLE', 'handling'], handling: ['办理诉求', 'VERIFY', 'verifying'], verifying: ['核实办理结果', 'EVALUATE', 'evaluating'] } as const;
  const states: Record<string, unknown> = {};
  for (const [state, [title, event, next]] of Object.entries(steps)) states[state] = { meta: { task: { role: 'grid-leader', title, due: { after: '2s' } } }, on: { [event]: next } };
  states.evaluating = { on: { CLOSE: 'closed' } };
  states.closed = { type: 'final' };
  const published = await h.call('POST', '/api/definitions', { key, title: '居民诉求（五步法）', grid: 'required', machine: { id: key, initial: 'raised', states } });
  expect(published.status).toBe(201);
  const businessKey = `SQ-${run}`;
  const started = await h.call('POST', '/api/processes', { definition: key, grid: 'grid-04', businessKey });
  expect(started.status).toBe(201);
  const id = started.body.workflowId as string;
  for (const type of ['DELIBERATE', 'HANDLE']) expect((await h.send(id, { type }, 'm-grid-04-leader')).status).toBe(200);
  // The handling step is due 2 s after it began: wait until the read model calls it overdue.
  await eventually(async () => {
    const r = await h.call('GET', `/api/processes?grid=grid-04&overdue=true&q=${businessKey}`);
    return r.body.items?.length ? true : undefined;
  }, 20_000);
  // The month's ranking ranks only grids with something measured: grid-04 walks and submits a
  // patrol of this month (admin may start one for any day). Not today's, nor the day before or after:
  // today's patrols are the schedule test's (on its own task queue, which no worker polls once that
  // file ends), and a run may cross midnight in Shanghai. So the 1st, or the 4th early in the month.
  // The month is read once, so the patrol's and the evaluation's are the same.
  const today = localDate(Date.now());
  const month = today.slice(0, 7);
  const day = `${month}-${Number(today.slice(8, 10)) >= 3 ? '01' : '04'}`;
  const patrol = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-04', input: { date: day } });
  expect([200, 201]).toContain(patrol.status);
  if (patrol.body.state !== 'completed') {
    for (const [type, data] of [['START'], ['CHECK_IN', { site: '粮食局', households: 6 }], ['SUBMIT']] as const) await h.send(patrol.body.workflowId, { type, data }, 'm-grid-04-worker');
  }
  await eventually(async () => {
    const e = await h.call('GET', `/api/evaluations/${month}`);
    return e.body.grids?.some((g: { grid: string; rank: number | null }) => g.grid === 'grid-04' && g.rank !== null) || undefined;
  }, 20_000);

  const page = await newPage();
  await signIn(page, h.baseUrl, await token('manager'));
  await page.getByRole('heading', { level: 1, name: '运行总览' }).waitFor();
  const grid04 = page.locator('tr[data-grid="grid-04"]');
  await grid04.waitFor();
  await page.locator('figure.chart svg[role="img"]').waitFor();
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'manager-dashboard-desktop');

  // Overdue by grid: grid-04's count is a link to its overdue processes.
  await grid04.getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: '流程列表' }).waitFor();
  expect(new URL(page.url()).hash).toContain('grid=grid-04');
  await page.getByLabel('关键词').fill(businessKey);
  await page.getByRole('button', { name: '查询' }).click();
  const row = page.locator(`tr[data-workflow-id="${id}"]`);
  await row.waitFor();
  await expect(row.locator('.badge.warn').textContent()).resolves.toBe('已超时');
  await screenshot(page, 'manager-processes-desktop');
  await row.getByRole('link', { name: businessKey }).click();
  await page.locator('main h1').waitFor();

  // The process page: the diagram with the current state, the timeline, the task and its deadline.
  await page.getByRole('heading', { level: 1, name: new RegExp(`^居民诉求（五步法）：.*${businessKey}$`) }).waitFor();
  await page.locator('g.current[data-state="handling"]').waitFor();
  const timeline = page.locator('ol.timeline li');
  await expect(timeline.count()).resolves.toBe(3);
  await expect(timeline.nth(1).textContent()).resolves.toContain('DELIBERATE');
  await expect(timeline.nth(2).textContent()).resolves.toContain('HANDLE');
  await expect(page.locator('#tasks-h + ul').textContent()).resolves.toContain('办理诉求');
  await expect(page.locator('.facts .badge.warn').textContent()).resolves.toBe('已超时');
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'manager-process-desktop');

  // The same pages fit a phone.
  const phone = await newPage(PHONE);
  await signIn(phone, h.baseUrl, await token('manager'));
  await phone.getByRole('heading', { level: 1, name: '运行总览' }).waitFor();
  await phone.locator('tr[data-grid="grid-04"]').waitFor();
  await screenshot(phone, 'manager-dashboard-phone');
  await phone.goto(`${h.baseUrl}/#/processes?grid=grid-04&overdue=true&q=${businessKey}`);
  await phone.locator(`tr[data-workflow-id="${id}"]`).waitFor();
  await screenshot(phone, 'manager-processes-phone');
  await phone.goto(`${h.baseUrl}/#/processes/${encodeURIComponent(id)}`);
  await phone.locator('g.current[data-state="handling"]').waitFor();
  await screenshot(phone, 'manager-process-phone');
  expect([...pageErrors(page), ...pageErrors(phone)]).toEqual([]);
}, 120_000);

test('an operator fixes an invalid definition guided by the error, simulates it and publishes it', async () => {
  const key = `browser-visit-${run}`;
  const doc = {
    key,
    title: '困难群众上门探访',
    grid: 'required',
    events: { VISIT: { type: 'object', required: ['note'], properties: { note: { type: 'string', minLength: 1, maxLength: 500 } } } },
    machine: {
      id: key,
      initial: 'scheduled',
      states: {
        scheduled: { meta: { task: { role: 'grid-worker', title: '上门探访', due: { after: '3d' } } }, on: { VISIT: 'visited' } },
        visited: { on: { CLOSE: 'closed' } },
        closed: { type: 'final' },
      },
    },
  };
  expect((await h.call('POST', '/api/definitions', doc)).status).toBe(201);

  const page = await newPage();
  await signIn(page, h.baseUrl, await token('ops'));
  await page.getByRole('heading', { level: 1, name: '流程定义' }).waitFor();
  await screenshot(page, 'ops-definitions-desktop');
  await page.getByRole('link', { name: '编辑 困难群众上门探访' }).click();
  await page.getByRole('heading', { level: 1, name: `编辑流程定义：${key}` }).waitFor();
  const editor = page.getByLabel('定义文档（YAML）');
  const summary = page.locator('#validation-summary');
  await expect(summary.filter({ hasText: '定义有效' }).waitFor()).resolves.toBeUndefined();
  await page.locator('[data-state="visited"]').waitFor();

  // A revisit from "visited" back to "scheduled", with the target mistyped.
  const text = await editor.inputValue();
  const closeLine = text.split('\n').find((l) => l.trim() === 'CLOSE: closed') as string;
  expect(closeLine).toBeDefined();
  const indent = closeLine.slice(0, closeLine.indexOf('CLOSE'));
  await editor.fill(text.replace(closeLine, `${closeLine}\n${indent}REVISIT: schedulde`));
  await summary.filter({ hasText: '发现 1 处错误' }).waitFor();
  const problem = page.locator('.problems li').first();
  await expect(problem.textContent()).resolves.toContain('schedulde');
  const badLine = text.split('\n').indexOf(closeLine) + 2;
  await expect(page.locator('.gutter .bad').textContent().then((s) => s?.trim())).resolves.toBe(String(badLine));
  await screenshot(page, 'ops-editor-error-desktop');

  // The error names its line; the button takes the cursor there with the line selected.
  await problem.getByRole('button', { name: new RegExp(`跳到第 ${badLine} 行`) }).click();
  const selected = await editor.evaluate((el: HTMLTextAreaElement) => el.value.slice(el.selectionStart, el.selectionEnd));
  expect(selected).toBe(`${indent}REVISIT: schedulde`);
  await page.keyboard.type(`${indent}REVISIT: scheduled`);
  await summary.filter({ hasText: '定义有效' }).waitFor();
  // The diagram follows the text: the new transition is drawn.
  await page.locator('.editor-side svg').filter({ hasText: 'REVISIT' }).waitFor();

  // Simulate a visit, a revisit, a second visit and the close on the virtual clock.
  const events: [string, string, string][] = [
    ['+1h', 'VISIT', '{"note":"上门了解生活困难"}'],
    ['+1d', 'REVISIT', ''],
    ['+2d', 'VISIT', '{"note":"送去慰问品"}'],
    ['+2d', 'CLOSE', ''],
  ];
  for (let i = 0; i < events.length; i++) {
    if (i > 0) await page.getByRole('button', { name: '添加事件' }).click();
    await page.getByLabel(`时间 ${i + 1}`).fill(events[i][0]);
    await page.getByLabel(`类型 ${i + 1}`).selectOption(events[i][1]);
    if (events[i][2]) await page.getByLabel(`数据（JSON） ${i + 1}`).fill(events[i][2]);
  }
  await page.getByRole('button', { name: '开始模拟' }).click();
  await page.locator('.final').filter({ hasText: '最终状态：closed（completed）' }).waitFor();
  await expect(page.locator('.sim-steps tbody tr').count()).resolves.toBeGreaterThanOrEqual(5);

  // The change against the published version, then publish with a note.
  await page.getByRole('button', { name: '比较差异' }).click();
  await page.locator('.diff').filter({ hasText: 'REVISIT' }).waitFor();
  await page.getByLabel('变更说明').fill('已探访的对象可以安排回访');
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'ops-editor-desktop');
  await page.getByRole('button', { name: '发布', exact: true }).click();
  await page.getByText('已发布为第 2 版').waitFor();

  const versions = await h.call('GET', `/api/definitions/${key}/versions`);
  expect(versions.body.items[0]).toMatchObject({ version: 2, note: '已探访的对象可以安排回访' });
  const latest = await h.call('GET', `/api/definitions/${key}`);
  expect(latest.body.machine.states.visited.on.REVISIT).toBe('scheduled');

  // In the editor Tab indents; Esc then Tab leaves it, so keyboard users are never trapped.
  await editor.focus();
  await page.keyboard.press('Control+End');
  const before = await editor.inputValue();
  await page.keyboard.press('Tab');
  await expect(editor.inputValue()).resolves.toBe(`${before}  `);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.not.toBe('definition-yaml');

  const phone = await newPage(PHONE);
  await signIn(phone, h.baseUrl, await token('ops'));
  await phone.getByRole('link', { name: '编辑 困难群众上门探访' }).waitFor();
  await screenshot(phone, 'ops-definitions-phone');
  await phone.goto(`${h.baseUrl}/#/definitions/${key}`);
  await phone.locator('#validation-summary').filter({ hasText: '定义有效' }).waitFor();
  await screenshot(phone, 'ops-editor-phone');
  expect([...pageErrors(page), ...pageErrors(phone)]).toEqual([]);
}, 120_000);

test('a grid worker starts, checks in, reports an issue and submits a patrol on a phone and sees the reminder arrive', async () => {
  const key = `browser-patrol-${run}`;
  const grid = 'grid-07';
  expect(
    (
      await h.call('POST', '/api/definitions', {
        key,
        title: '每日巡查',
        grid: 'required',
        events: {
          START: { type: 'object', properties: { note: { type: 'string', maxLength: 500 } } },
          CHECK_IN: { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 100 }, households: { type: 'integer', minimum: 0, maximum: 1000 } } },
          REPORT_ISSUE: {
            type: 'object',
            required: ['category', 'description'],
            properties: {
              category: { type: 'string', minLength: 1, maxLength: 50 },
              description: { type: 'string', minLength: 1, maxLength: 2000 },
              location: { type: 'string', maxLength: 200 },
              urgency: { type: 'string', enum: ['normal', 'urgent'] },
            },
          },
          SUBMIT: { type: 'object', properties: { summary: { type: 'string', maxLength: 2000 } } },
        },
        templates: { nudge: { title: '巡查提醒：{{context.grid}} 今日巡查请在 18:00 前提交', body: '已签到 {{context.checkIns}} 处，走访完成后请提交。' } },
        machine: {
          id: key,
          initial: 'assigned',
          context: { checkIns: 0 },
          states: {
            assigned: { meta: { task: { role: 'grid-worker', title: '开始今日网格巡查', due: { after: '8h' } } }, on: { START: 'patrolling' } },
            patrolling: {
              meta: {
                task: { role: 'grid-worker', title: '走访签到并提交今日巡查', due: { after: '8h' } },
                reminders: [{ id: 'nudge', when: { after: '4s' }, to: 'grid-worker', template: 'nudge' }],
              },
              on: {
                CHECK_IN: { actions: [{ type: 'assign', params: { increment: { checkIns: 1 } } }] },
                REPORT_ISSUE: { actions: [{ type: 'record', params: { kind: 'issue-reported', data: { category: { $ref: 'event.data.category' }, description: { $ref: 'event.data.description' } } } }] },
                SUBMIT: { guard: { type: 'compare', params: { left: { $ref: 'context.checkIns' }, op: 'gte', right: 1 } }, target: 'submitted' },
              },
            },
            submitted: { type: 'final' },
          },
        },
      })
    ).status,
  ).toBe(201);
  const started = await h.call('POST', '/api/processes', { definition: key, grid, businessKey: `${grid}/${run}` });
  expect(started.status).toBe(201);
  const id = started.body.workflowId as string;
  const workerToken = await token('grid-worker', { memberId: `m-${grid}-worker`, grids: [grid] });
  const taskOf = async () => {
    const r = await h.call('GET', '/api/tasks?assignee=me&status=open', undefined, { authorization: `Bearer ${workerToken}` });
    return (r.body.items as { id: string; workflowId: string; title: string }[]).find((t) => t.workflowId === id);
  };

  const page = await newPage(PHONE);
  await signIn(page, h.baseUrl, workerToken);
  await page.getByRole('heading', { level: 1, name: '我的任务' }).waitFor();
  await page.getByText('实时更新中').waitFor();
  // A grid worker's navigation has only their own page; the managers' pages say no.
  await expect(page.getByRole('navigation', { name: '主导航' }).getByRole('link').allTextContents()).resolves.toEqual(['我的任务', '重点人群']);
  const first = await eventually(taskOf, 20_000);
  const card = page.locator(`li[data-task="${first.id}"]`);
  await expect(card.locator('h3').textContent()).resolves.toBe('开始今日网格巡查');
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'worker-tasks-phone');

  // One tap starts the patrol; the next task takes its place.
  await card.getByRole('button', { name: '开始巡查' }).click();
  await page.getByText('开始巡查 · 已完成：patrolling').waitFor();
  const second = await eventually(async () => {
    const t = await taskOf();
    return t && t.title === '走访签到并提交今日巡查' ? t : undefined;
  }, 20_000);
  const patrol = page.locator(`li[data-task="${second.id}"]`);
  await patrol.waitFor();

  // Check in: the form asks for the site (the grid's sites are suggested).
  await patrol.getByRole('button', { name: '签到' }).click();
  await patrol.getByLabel(/签到地点/).fill('3号楼');
  await patrol.getByLabel('走访户数').fill('6');
  await screenshot(page, 'worker-check-in-phone');
  await patrol.getByRole('button', { name: '确认签到' }).click();
  await page.getByText('签到 · 已完成：patrolling').waitFor();

  // Report an issue: a form of text fields, no photos.
  await patrol.getByRole('button', { name: '上报问题' }).click();
  await patrol.getByLabel(/问题类别/).fill('环境卫生');
  await patrol.getByLabel(/问题描述/).fill('5号楼楼道堆放杂物，影响通行');
  await patrol.getByLabel('位置').fill('5号楼2单元');
  await patrol.getByLabel('紧急程度').selectOption('normal');
  await patrol.getByRole('button', { name: '确认上报问题' }).click();
  await page.getByText('上报问题 · 已完成：patrolling').waitFor();

  // The reminder (4 s into the patrol) arrives in the inbox by itself, over the live stream.
  // The notice names the grid as the registry does (第七网格), where the template wrote its id.
  const notice = page.locator('.notices .notice').filter({ hasText: '巡查提醒：第七网格 今日巡查请在 18:00 前提交' });
  await notice.waitFor({ timeout: 20_000 });
  await expect(notice.textContent()).resolves.toContain('已签到 1 处');
  await screenshot(page, 'worker-reminder-phone');

  // Submit: one tap, and the day's task list is empty of this patrol.
  await page.locator(`li[data-task="${second.id}"]`).getByRole('button', { name: '提交' }).click();
  await page.getByText('提交 · 已完成：submitted').waitFor();
  await page.locator(`li[data-task="${second.id}"]`).waitFor({ state: 'detached' });
  const detail = await h.call('GET', `/api/processes/${encodeURIComponent(id)}`);
  expect(detail.body).toMatchObject({ status: 'completed', state: 'submitted' });
  expect(detail.body.history.map((s: { event: string }) => s.event)).toEqual(expect.arrayContaining(['START', 'CHECK_IN', 'REPORT_ISSUE', 'SUBMIT']));

  await page.goto(`${h.baseUrl}/#/dashboard`);
  await page.getByRole('alert').filter({ hasText: '无权查看' }).waitFor();
  await page.goto(`${h.baseUrl}/#/my`);

  // Read the reminder; the desktop view of the same page.
  await notice.getByRole('button', { name: /标为已读/ }).click();
  await notice.locator('.badge').waitFor({ state: 'detached' });
  const desk = await newPage(DESKTOP);
  await signIn(desk, h.baseUrl, workerToken);
  await desk.locator('.notices .notice').first().waitFor();
  await screenshot(desk, 'worker-tasks-desktop');
  expect([...pageErrors(page), ...pageErrors(desk)]).toEqual([]);
}, 120_000);

test('a grid worker submits the weekly report choosing the issues to escalate from the grid\'s open issues', async () => {
  const grid = 'grid-09';
  const issue = await h.call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'resident', category: '设施维修', description: '9号楼单元门损坏' } });
  expect(issue.status).toBe(201);
  const issueId = issue.body.workflowId as string;
  await eventually(async () => (await h.call('GET', `/api/processes/${encodeURIComponent(issueId)}`)).status === 200);
  expect((await h.send(issueId, { type: 'ACCEPT' }, `m-${grid}-worker`)).status).toBe(200);
  // A report of a later week, so the schedule's reports stay out of the way.
  const report = await h.call('POST', '/api/processes', { definition: 'weekly-report', grid, input: { date: addDays(localDate(Date.now()), 27) } });
  expect(report.status).toBe(201);
  const reportId = report.body.workflowId as string;
  const workerToken = await token('grid-worker', { memberId: `m-${grid}-worker`, grids: [grid] });
  const page = await newPage(PHONE);
  await signIn(page, h.baseUrl, workerToken);
  const card = page.locator(`li[data-task="${reportId}#drafting"]`);
  await card.waitFor({ timeout: 20_000 });
  // The built-in report is shown by its names: the grid's, and the event's (SUBMIT is 提交周报).
  await card.locator('.meta').filter({ hasText: '第九网格' }).waitFor();
  await card.getByRole('button', { name: '提交周报' }).click();
  // The form offers this grid's open issues as checkboxes, nothing to type.
  const choice = card.getByRole('checkbox', { name: issueId });
  await choice.waitFor();
  await card.getByLabel(/工作情况/).fill('本周单元门损坏一件，需社区协调');
  await choice.check();
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'worker-weekly-report-phone');
  await card.getByRole('button', { name: '确认提交周报' }).click();
  await page.getByText('提交周报 · 已完成：待审核').waitFor();
  const d = await h.call('GET', `/api/processes/${encodeURIComponent(reportId)}`);
  expect(d.body.context.report).toMatchObject({ escalate: [issueId] });
  expect(pageErrors(page)).toEqual([]);
}, 60_000);

test('the street office sees what reached the street, filtered by level in the process list', async () => {
  const grid = 'grid-10';
  const issue = await h.call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'resident', category: '市政设施', description: '跨小区道路积水' } });
  const id = issue.body.workflowId as string;
  await eventually(async () => (await h.call('GET', `/api/processes/${encodeURIComponent(id)}`)).status === 200);
  expect((await h.send(id, { type: 'ACCEPT' }, `m-${grid}-worker`)).status).toBe(200);
  expect((await h.send(id, { type: 'ESCALATE' }, `m-${grid}-leader`)).body.state).toBe('community-review');
  expect((await h.send(id, { type: 'ESCALATE', data: { reason: '需街道协调市政' } }, 'm-community-manager-1')).body.state).toBe('street-review');
  const page = await newPage();
  await signIn(page, h.baseUrl, await token('manager', { name: `street-${run}`, memberId: 'm-street-office' }));
  await page.goto(`${h.baseUrl}/#/processes`);
  await page.getByLabel('层级').selectOption('street');
  await page.getByLabel('关键词').fill(id.split('/')[1]);
  await page.getByRole('button', { name: '查询' }).click();
  await page.getByRole('link', { name: id.split('/')[1] }).waitFor();
  expect(await unlabelled(page)).toEqual([]);
  await screenshot(page, 'street-processes-desktop');
  expect(pageErrors(page)).toEqual([]);
}, 60_000);

test('the console is usable by keyboard, switches to English and keeps the API strict', async () => {
  const page = await newPage();
  await page.goto(`${h.baseUrl}/`);
  // Keyboard only: the language switch, then the token field, typing, Enter.
  await page.getByRole('button', { name: '切换到英文' }).focus();
  await page.keyboard.press('Enter');
  await page.getByLabel('Access token').waitFor();
  await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('en');
  await page.getByLabel('Access token').focus();
  await page.keyboard.type('not-a-token');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
  await page.getByLabel('Access token').fill(await token('manager'));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'What is running' }).waitFor();
  // Opening a page by keyboard puts focus on its heading, so a screen reader announces it.
  await page.getByRole('navigation').getByRole('link', { name: 'Processes' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Processes' }).waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'Processes');
  // The skip link shows itself when focused and moves focus to the main content.
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await skip.focus();
  expect((await skip.boundingBox())?.x).toBeGreaterThanOrEqual(0);
  await page.keyboard.press('Enter');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('main');
  // The next Tab reaches a control, and it shows a focus ring.
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => ({ tag: document.activeElement?.tagName, outline: getComputedStyle(document.activeElement as Element).outlineStyle }));
  expect(['A', 'BUTTON', 'INPUT', 'SELECT']).toContain(focused.tag);
  expect(focused.outline).not.toBe('none');
  const headers = (await fetch(`${h.baseUrl}/`)).headers;
  expect(headers.get('content-security-policy')).toContain("script-src 'self'");
  // The API keeps its own stricter policy and never answers with HTML.
  const api = await fetch(`${h.baseUrl}/api/me`);
  expect(api.status).toBe(401);
  expect(api.headers.get('content-type')).toContain('application/problem+json');
  await page.evaluate(() => localStorage.setItem('gridflow.lang', 'zh'));
  expect(pageErrors(page)).toEqual([]);
}, 60_000);

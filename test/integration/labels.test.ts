import type { DefinitionDocument } from '../../engine/document.schema';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { workerTask } from '../support/test-definitions';

/**
 * People read names, machines read codes: a CSV export carries the grid's registry name and the
 * state's display name next to their codes, in the language asked for, and a notice names its
 * grid (第三网格) where the process wrote its id, while the stored notice keeps what was rendered.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const key = `labelled-${Date.now().toString(36)}`;

/** A waiting state with display names, and a reminder to the grid's worker half a second in. */
const definition = (): DefinitionDocument =>
  workerTask({
    key,
    title: '带名称的检查（测试）',
    taskTitle: '现场检查',
    event: 'CHECK',
    templates: { nudge: { title: '检查提醒：{{context.grid}} 请处理', body: '业务编号 {{context.businessKey}}（grid-03 的检查）' } },
    reminders: [{ id: 'nudge', when: { after: '500ms' }, to: 'grid-worker', template: 'nudge' }],
    labels: {
      states: { waiting: { zh: '待检查', en: 'Awaiting inspection' }, done: { zh: '已检查', en: 'Inspected' } },
      events: { CHECK: { zh: '完成检查', en: 'Inspect' } },
    },
  });

/** CSV text as rows of named cells (the cells here hold no commas or quotes). */
function csvRows(text: string): Record<string, string>[] {
  const [head, ...lines] = text.replace(/^\uFEFF/, '').trim().split('\r\n');
  const columns = head.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [columns[i], cell])));
}

let workflowId: string;
beforeAll(async () => {
  expect((await h.call('POST', '/api/definitions', definition())).status).toBe(201);
  const started = await h.call('POST', '/api/processes', { definition: key, grid: 'grid-03', businessKey: `grid-03/${Date.now()}` });
  expect(started.status).toBe(201);
  workflowId = started.body.workflowId;
  await eventually(async () => (await h.call('GET', `/api/processes?definition=${key}`)).body.items.length === 1, 20_000, 200);
});

test('the process list as CSV names the grid and the state next to their codes, in Chinese unless English is asked for', async () => {
  const zh = await h.call('GET', `/api/processes?definition=${key}&format=csv`);
  expect(zh.status).toBe(200);
  const [row] = csvRows(zh.body as string);
  expect(row).toMatchObject({ workflowId, grid: 'grid-03', gridName: '第三网格', state: 'waiting', stateName: '待检查' });
  const header = (zh.body as string).split('\r\n')[0].replace(/^\uFEFF/, '').split(',');
  // Each name right after its code.
  expect(header.indexOf('gridName')).toBe(header.indexOf('grid') + 1);
  expect(header.indexOf('stateName')).toBe(header.indexOf('state') + 1);

  const [en] = csvRows((await h.call('GET', `/api/processes?definition=${key}&format=csv&lang=en`)).body as string);
  expect(en).toMatchObject({ state: 'waiting', stateName: 'Awaiting inspection', gridName: '第三网格' });

  const refused = await h.call('GET', `/api/processes?definition=${key}&format=csv&lang=fr`);
  expect(refused.status).toBe(400);
  expect(JSON.stringify(refused.body.errors)).toContain('lang');
});

test('the counts per state as CSV name each state', async () => {
  const res = await h.call('GET', `/api/processes-counts?definition=${key}&format=csv`);
  expect(res.status).toBe(200);
  expect(csvRows(res.body as string)).toEqual([{ definition: key, state: 'waiting', stateName: '待检查', count: '1', overdue: '0' }]);
});

test('a state the definition does not name is exported by its code', async () => {
  // The built-in daily patrol names its states; this one's CSV shows what happens without a name.
  const unnamed = { ...definition(), key: `${key}-bare`, labels: undefined };
  unnamed.machine = { ...unnamed.machine, id: unnamed.key };
  expect((await h.call('POST', '/api/definitions', unnamed)).status).toBe(201);
  await h.call('POST', '/api/processes', { definition: unnamed.key, grid: 'grid-05', businessKey: `grid-05/${Date.now()}` });
  const rows = await eventually(async () => {
    const r = csvRows((await h.call('GET', `/api/processes?definition=${unnamed.key}&format=csv`)).body as string);
    return r.length === 1 && r;
  }, 20_000, 200);
  expect(rows[0]).toMatchObject({ grid: 'grid-05', gridName: '第五网格', state: 'waiting', stateName: 'waiting' });
});

test('a notice names its grid for people, leaves a business key whole, and is stored as the process rendered it', async () => {
  const inbox = await eventually(async () => {
    const res = await h.call('GET', `/api/notifications?member=m-grid-03-worker&workflowId=${enc(workflowId)}`);
    return res.body.items?.length === 1 && res.body.items;
  }, 20_000, 200);
  expect(inbox[0]).toMatchObject({
    grid: 'grid-03',
    gridName: '第三网格',
    title: '检查提醒：第三网格 请处理',
    body: `业务编号 ${workflowId}（第三网格 的检查）`,
  });
  const stored = await h.services.orm.em.fork().getConnection().execute<{ title: string; body: string }[]>(`select title, body from notification where workflow_id = ?`, [workflowId]);
  expect(stored).toEqual([{ title: '检查提醒：grid-03 请处理', body: `业务编号 ${workflowId}（grid-03 的检查）` }]);
});

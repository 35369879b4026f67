import crypto from 'node:crypto';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { searchAttributeKeys } from '../../workflows/messages';
import { ProcessService } from '../../services/processes.service';

/**
 * Partners as members: the property company named as an issue's owner handles it through its own
 * member, sees that work and nothing else, and may hand it back with a reason (退单).
 */
let h: Harness;
// Not grid-02: the stories count that grid's issues of the week.
const grid = 'grid-12';
const company = 'm-org-rongbo';
const owner = { kind: 'property-company', id: 'org-rongbo', name: '融泊公司' };

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const detail = async (id: string, as?: string) => (await (as ? h.as(as).call('GET', `/api/processes/${enc(id)}`) : h.call('GET', `/api/processes/${enc(id)}`))).body;
async function act(id: string, member: string, type: string, data?: Record<string, unknown>) {
  const res = await h.send(id, { type, data }, member);
  expect({ type, member, status: res.status, detail: res.body.detail }).toEqual({ type, member, status: 200, detail: undefined });
  return res.body;
}

async function deliberating(description: string): Promise<string> {
  const id = (await h.call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'resident', category: '环境卫生', description } })).body.workflowId as string;
  await eventually(async () => (await detail(id)).history?.length >= 1);
  await act(id, `m-${grid}-worker`, 'ACCEPT');
  await act(id, `m-${grid}-worker`, 'NEEDS_DELIBERATION');
  return id;
}

test('the sewage pipe: the property company returns it once with a reason, resolves it with a photo, and the resident rates it through the link', async () => {
  const id = await deliberating('地下车库污水管道破裂，污水外溢');
  const other = await deliberating('楼道灯不亮');
  await act(id, `m-${grid}-leader`, 'DECIDE', { plan: '物业公司清理并修复管道', owner });

  // The company's member sees its task, with what it may do, and nothing of the grid's other work.
  const tasks = await eventually(async () => {
    const r = await h.as(company).call('GET', '/api/tasks?assignee=me');
    return r.body.items?.find((t: { workflowId: string }) => t.workflowId === id);
  });
  expect(tasks).toMatchObject({ role: 'partner', assignee: company, owner: '融泊公司', events: ['ACKNOWLEDGE', 'EXTEND', 'PAUSE', 'PROGRESS', 'RESOLVE', 'RETURN'] });
  const list = await h.as(company).call('GET', '/api/processes?limit=500');
  expect(list.body.items.map((p: { workflowId: string }) => p.workflowId)).toEqual([id]);
  expect((await h.as(company).call('GET', `/api/processes/${enc(other)}`)).status).toBe(404);
  expect((await h.as('m-org-partner-unit-1').call('GET', `/api/processes/${enc(id)}`)).status).toBe(404);
  expect((await h.as(company).call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'resident', category: 'x', description: 'y' } })).status).toBe(403);
  // Told of the new work in its own inbox.
  const inbox = await eventually(async () => {
    const r = await h.as(company).call('GET', '/api/notifications?member=me');
    return r.body.items?.find((n: { workflowId: string }) => n.workflowId === id);
  });
  expect(inbox.title).toContain('新派单');

  // The grid's worker no longer handles it; the company does.
  const byWorker = await h.send(id, { type: 'RESOLVE', data: { result: 'x' } }, `m-${grid}-worker`);
  expect(byWorker.status).toBe(403);
  expect(byWorker.body.detail).toContain('may be sent by partner of grid-12');

  // 退单: back to the grid leader with the reason, who decides again.
  expect((await act(id, company, 'RETURN', { reason: '管道属市政管网，需先由城建部门确认产权' })).state).toBe('deliberation');
  const returned = await detail(id);
  expect(returned.context).toMatchObject({ owner: null, handler: null, returns: [expect.objectContaining({ reason: '管道属市政管网，需先由城建部门确认产权', by: company })] });
  expect((await h.as(company).call('GET', `/api/processes/${enc(id)}`)).status).toBe(404);
  await act(id, `m-${grid}-leader`, 'DECIDE', { plan: '城建部门已确认产权，物业公司负责清理和修复', owner });
  await act(id, company, 'ACKNOWLEDGE', { note: '已安排维修班组' });
  await act(id, company, 'PROGRESS', { note: '已抽排污水，更换破损管段' });
  // The photo goes up first; the event carries its reference, never the file.
  const photo = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'), crypto.randomBytes(16)]);
  const up = await fetch(`${h.baseUrl}/api/processes/${enc(id)}/evidence?name=${enc('修复后.png')}`, { method: 'POST', headers: { authorization: `Bearer ${await h.as(company).token()}`, 'content-type': 'image/png' }, body: photo });
  expect(up.status).toBe(201);
  expect((await act(id, company, 'RESOLVE', { result: '管道已修复，车库已清洗', evidence: [await up.json()] })).state).toBe('verification');
  expect((await detail(id)).context.result).toBe('管道已修复，车库已清洗');
  // Someone other than the company verifies.
  expect((await act(id, `m-${grid}-worker`, 'VERIFY_OK', { note: '现场查看，已无渗漏' })).state).toBe('awaiting-evaluation');
  // The resident who reported it rates the result through the link the grid hands out.
  const link = await h.as(`m-${grid}-leader`).call('POST', `/api/processes/${enc(id)}/satisfaction-link`);
  expect(link.status).toBe(201);
  const rated = await fetch(`${h.baseUrl}${link.body.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ satisfaction: 4, comment: '处理及时' }) });
  expect(await rated.json()).toEqual({ state: 'closed' });
  const history = (await detail(id)).history.map((x: { event: string; actor: string }) => `${x.event}:${x.actor ?? ''}`);
  expect(history).toEqual(
    expect.arrayContaining([`RETURN:${company}`, `ACKNOWLEDGE:${company}`, `RESOLVE:${company}`, `VERIFY_OK:m-${grid}-worker`, expect.stringMatching(/^EVALUATE:resident:/)]),
  );
});

test('a partner token must speak for a member of an organisation', async () => {
  const none = await h.call('POST', '/api/tokens', { role: 'partner', name: 'no-member' });
  expect(none.status).toBe(400);
  const wrong = await h.call('POST', '/api/tokens', { role: 'partner', name: 'a-worker', memberId: `m-${grid}-worker` });
  expect(wrong.status).toBe(400);
  expect(wrong.body.detail).toContain('a partner token cannot speak for them');
});

test('levels that act: the community dispatches an escalated issue to a partner unit; the street sends one back down with instructions', async () => {
  const up = await deliberating('小区绿地被占用堆放建筑垃圾');
  const first = await h.send(up, { type: 'ESCALATE', data: { reason: '涉及多方，格内无法协调' } }, `m-${grid}-leader`);
  expect(first.body.state).toBe('community-review');
  // The community's task; a grid leader may not dispatch at that level.
  const refused = await h.send(up, { type: 'DISPATCH', data: { plan: 'x', owner } }, `m-${grid}-leader`);
  expect(refused.status).toBe(403);
  expect(refused.body.detail).toContain('may be sent by community-manager or party-secretary or manager');
  await act(up, 'm-community-manager-1', 'DISPATCH', { plan: '包联单位清运建筑垃圾并恢复绿地', owner: { kind: 'partner-unit', id: 'org-partner-unit-1', name: '包联单位一' } });
  const partnerTask = await eventually(async () => {
    const r = await h.as('m-org-partner-unit-1').call('GET', '/api/tasks?assignee=me');
    return r.body.items?.find((t: { workflowId: string }) => t.workflowId === up);
  });
  expect(partnerTask).toMatchObject({ role: 'partner', state: 'handling' });
  expect((await act(up, 'm-org-partner-unit-1', 'RESOLVE', { result: '已清运并补种草皮' })).state).toBe('verification');

  const street = await deliberating('跨小区道路积水');
  await act(street, `m-${grid}-leader`, 'ESCALATE');
  await act(street, 'm-community-manager-1', 'ESCALATE', { reason: '需街道协调市政' });
  expect((await detail(street)).tasks).toEqual([expect.objectContaining({ role: 'street-office' })]);
  // The street office's view: what has reached the street.
  const streetToken = await h.as('m-street-office').token();
  const reached = await h.call('GET', '/api/processes?level=street&limit=500', undefined, { authorization: `Bearer ${streetToken}` });
  expect(reached.body.items.map((p: { workflowId: string }) => p.workflowId)).toContain(street);
  expect(reached.body.items.map((p: { workflowId: string }) => p.workflowId)).not.toContain(up);
  const down = await h.send(street, { type: 'SEND_DOWN', data: { instructions: '属小区内部排水，请网格协调物业疏通' } }, 'm-street-office');
  expect(down.body.state).toBe('deliberation');
  expect((await detail(street)).context).toMatchObject({ level: 'grid', instructions: '属小区内部排水，请网格协调物业疏通' });
});

test('where a process belongs, for every check before an event: the read model, else the workflow, else the search attributes of a start no worker has run', async () => {
  const id = await deliberating('楼顶防水层破损漏雨');
  await act(id, `m-${grid}-leader`, 'DECIDE', { plan: '物业公司修补防水层', owner });
  expect(await h.services.processes.gridOf(id)).toEqual({ grid, owner: 'org-rongbo', community: 'shengshi' });

  const queries = counting('query');
  const idle = idleStarts();
  const started = (await idle.start()).workflowId;
  try {
    // A read model that lost the row: the workflow itself says where it is and who owns it (one
    // query), so another partner still does not reach the work and the company still does.
    await h.services.orm.em.fork().getConnection().execute('delete from process_instance where workflow_id = ?', [id]);
    expect(await h.services.processes.gridOf(id)).toEqual({ grid, owner: 'org-rongbo', community: 'shengshi' });
    expect(queries.n).toBe(1);
    expect((await h.send(id, { type: 'PROGRESS', data: { note: 'x' } }, 'm-org-partner-unit-1')).status).toBe(404);
    expect((await h.send(id, { type: 'ACKNOWLEDGE' }, company)).status).toBe(200);

    // Started where no worker polls: no workflow task has completed, so no step was taken and no
    // owner named. The search attributes place it, without asking a workflow that cannot answer.
    const before = queries.n;
    expect(await h.services.processes.gridOf(started)).toEqual({ grid, owner: null, community: 'shengshi' });
    expect(queries.n).toBe(before);
    expect((await h.as('m-grid-03-worker').call('POST', `/api/processes/${enc(started)}/events`, { type: 'ACCEPT' })).status).toBe(404);
    expect(queries.n).toBe(before);
  } finally {
    queries.restore();
    await idle.terminate(started);
  }
});

test('an event right after a start is placed from what this API started, without asking Temporal; another API process asks it', async () => {
  // Two API processes on a queue no worker polls, so no row can appear: what each knows is all it has.
  const deps = (h.services.processes as unknown as { deps: ConstructorParameters<typeof ProcessService>[0] }).deps;
  const queue = `idle-${crypto.randomUUID()}`;
  const here = new ProcessService({ ...deps, taskQueue: queue });
  const other = new ProcessService({ ...deps, taskQueue: queue });
  const { workflowId } = await here.start({ definition: 'issue', grid, input: { source: 'resident', category: '环境卫生', description: '刚上报' } });
  const describes = counting('describe');
  try {
    expect(await here.gridOf(workflowId)).toEqual({ grid, owner: null, community: 'shengshi' });
    expect(describes.n).toBe(0);
    expect(await other.gridOf(workflowId)).toEqual({ grid, owner: null, community: 'shengshi' });
    expect(describes.n).toBe(1);
  } finally {
    describes.restore();
    await h.services.client.workflow.getHandle(workflowId).terminate('test done');
  }
});

/** Counts the calls of one method of the workflow handles the services' Temporal client gives out, until restored. */
function counting(method: 'query' | 'describe'): { readonly n: number; restore(): void } {
  const client = h.services.client.workflow;
  const getHandle = client.getHandle.bind(client);
  let n = 0;
  client.getHandle = ((...a: Parameters<typeof getHandle>) => {
    const handle = getHandle(...a);
    const real = (handle[method] as (...x: unknown[]) => unknown).bind(handle);
    (handle as unknown as Record<string, unknown>)[method] = (...x: unknown[]) => {
      n++;
      return real(...x);
    };
    return handle;
  }) as typeof client.getHandle;
  return {
    get n() {
      return n;
    },
    restore: () => {
      client.getHandle = getHandle;
    },
  };
}

/** Starts issues of `grid` on a task queue no worker polls, through the Temporal client as the API does. */
function idleStarts() {
  const queue = `idle-${crypto.randomUUID()}`;
  return {
    start: async () => {
      const workflowId = `issue/idle-${crypto.randomUUID()}`;
      await h.services.client.workflow.start('runProcess', {
        taskQueue: queue,
        workflowId,
        args: [{ definition: { key: 'issue', version: 1, document: {} as never }, calendar: undefined as never, businessKey: workflowId, grid, input: {}, day: '2026-12-03', startedBy: 'test', revision: 1 }],
        typedSearchAttributes: [
          { key: searchAttributeKeys.definition, value: 'issue' },
          { key: searchAttributeKeys.grid, value: grid },
          { key: searchAttributeKeys.community, value: 'shengshi' },
          { key: searchAttributeKeys.state, value: '' },
        ],
      });
      return { workflowId };
    },
    terminate: (workflowId: string) => h.services.client.workflow.getHandle(workflowId).terminate('test done'),
  };
}

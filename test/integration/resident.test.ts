import { enc, eventually, startHarness, type Harness } from '../support/harness';

/**
 * The resident's voice: once an issue is verified, the grid hands the resident a signed, expiring
 * link; the resident rates the result without an account and sees nothing personal; the answer
 * closes the issue, or reopens it below the definition's threshold.
 */
let h: Harness;
const grid = 'grid-06';
const worker = `m-${grid}-worker`;
const leader = `m-${grid}-leader`;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const detail = async (id: string) => (await h.call('GET', `/api/processes/${enc(id)}`)).body;
async function act(id: string, member: string, type: string, data?: Record<string, unknown>) {
  const res = await h.send(id, { type, data }, member);
  expect({ type, status: res.status, detail: res.body.detail }).toEqual({ type, status: 200, detail: undefined });
}
const link = async (id: string, member = worker) => h.as(member).call('POST', `/api/processes/${enc(id)}/satisfaction-link`);

test('the resident rates through a link: unsatisfied reopens the issue, satisfied closes it; the link shows nothing personal', async () => {
  const id = (
    await h.call('POST', '/api/processes', {
      definition: 'issue',
      grid,
      input: { source: 'resident', category: '设施维修', description: '3号楼单元门闭门器损坏', reporter: '王阿姨', reporterPhone: '13912345678' },
    })
  ).body.workflowId as string;
  await eventually(async () => (await detail(id)).history?.length >= 1);
  await act(id, worker, 'ACCEPT');
  // Too early: the link is for an issue awaiting evaluation.
  expect((await link(id)).status).toBe(409);
  await act(id, worker, 'HANDLE_IN_GRID');
  await act(id, worker, 'RESOLVE', { result: '已更换闭门器' });
  await act(id, leader, 'VERIFY_OK');

  // Who may hand one out: the grid's staff and managers; not ops, not another grid, not a partner.
  expect((await link(id, 'm-grid-05-worker')).status).toBe(404);
  expect((await link(id, 'm-org-rongbo')).status).toBe(404);
  const ops = await h.call('POST', '/api/tokens', { role: 'ops', name: 'resident-test-ops' });
  expect((await h.call('POST', `/api/processes/${enc(id)}/satisfaction-link`, undefined, { authorization: `Bearer ${ops.body.token}` })).status).toBe(403);
  // Nor the handler or the verifier: they may not collect the rating of their own work.
  const own = await link(id, worker);
  expect(own.status).toBe(403);
  expect(own.body.detail).toContain('you handled or verified');
  expect((await link(id, leader)).status).toBe(403);
  const partTime = `m-${grid}-part-time-1`;
  const made = await link(id, partTime);
  expect(made.status).toBe(201);
  expect(made.body.url).toMatch(/^\/r\/[\w-]+\.[\w-]+$/);
  expect(Date.parse(made.body.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
  const audit = await h.services.orm.em.fork().getConnection().execute<{ actor: string }[]>(`select actor from audit_log where action = 'satisfaction.link' and subject = ?`, [id]);
  expect(audit.map((a) => a.actor)).toEqual([partTime]);

  // The page needs no token and shows the category only.
  const page = await fetch(`${h.baseUrl}${made.body.url}`);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('您反映的「设施维修」问题已办理完毕');
  expect(html).toContain('name="satisfaction" value="5"');
  expect(html).not.toMatch(/王阿姨|1391234|闭门器|grid-06/);
  // Any other spelling of the signature is refused: one changed character, or the last one's spare bits.
  const flip = (url: string, at: number) => url.slice(0, at) + (url[at] === 'A' ? 'B' : 'A') + url.slice(at + 1);
  for (const at of [made.body.url.length - 10, made.body.url.length - 1]) expect((await fetch(`${h.baseUrl}${flip(made.body.url, at)}`)).status).toBe(404);

  // Unsatisfied, through the form: below the threshold (3) the issue goes back to handling.
  const answered = await fetch(`${h.baseUrl}${made.body.url}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'satisfaction=2&comment=%E9%97%A8%E8%BF%98%E6%98%AF%E5%85%B3%E4%B8%8D%E4%B8%8A' });
  expect(answered.status).toBe(200);
  expect(await answered.text()).toContain('感谢您的评价');
  const reopened = await detail(id);
  expect(reopened).toMatchObject({ state: 'handling', context: { satisfaction: 2, comment: '门还是关不上', reopenCount: 1 } });
  expect(reopened.history.at(-1)).toMatchObject({ event: 'EVALUATE', actor: expect.stringMatching(/^resident:/) });
  // The same link answers once.
  const again = await fetch(`${h.baseUrl}${made.body.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ satisfaction: 5 }) });
  expect(again.status).toBe(409);
  expect((await detail(id)).state).toBe('handling');

  // Handled again and verified again: a new link, and this time satisfied.
  await act(id, worker, 'RESOLVE', { result: '更换为液压闭门器，已调试' });
  await act(id, leader, 'VERIFY_OK');
  const second = await link(id, 'm-community-manager-1');
  const json = await fetch(`${h.baseUrl}${second.body.url}`, { headers: { accept: 'application/json' } });
  expect(await json.json()).toEqual({ category: '设施维修', open: true });
  const done = await fetch(`${h.baseUrl}${second.body.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ satisfaction: 5, comment: '满意' }) });
  expect(await done.json()).toEqual({ state: 'closed' });
  expect(await (await fetch(`${h.baseUrl}${second.body.url}`)).text()).toContain('这件事已经评价过了');
});

test('an expired link or a bad rating is refused and changes nothing', async () => {
  const signer = h.services.satisfaction as unknown as { sign(p: { w: string; e: number; v: number; n: string }): string };
  const expired = signer.sign({ w: 'issue/2026-000001', e: Date.now() - 1000, v: 0, n: 'x' });
  expect((await fetch(`${h.baseUrl}/r/${expired}`)).status).toBe(404);
  const bad = await fetch(`${h.baseUrl}/r/${signer.sign({ w: 'issue/2026-000001', e: Date.now() + 60_000, v: 0, n: 'y' })}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ satisfaction: 9 }) });
  expect(bad.status).toBe(400);
});

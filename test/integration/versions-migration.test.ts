import type { DefinitionDocument } from '../../engine/document.schema';
import { enc, eventually, harnessForFile } from '../support/harness';

const h = harnessForFile();

/** As the holder of the current task, or as `member`. */
const post = (id: string, type: string, data?: Record<string, unknown>, member?: string) => h.send(id, { type, data }, member);
const get = async (id: string) => (await h.call('GET', `/api/processes/${enc(id)}`)).body;

test('issue v1 instances finish on v1 while new ones start on v2, and the diff names the running ones', async () => {
  const v1 = await h.call('GET', '/api/definitions/issue');
  const from: number = v1.body.version;
  const input = { source: 'hotline', category: '噪音扰民', description: '夜间施工噪音' };
  const old = await h.call('POST', '/api/processes', { definition: 'issue', grid: 'grid-06', input });
  expect(old.body.definition.version).toBe(from);
  const oldId: string = old.body.workflowId;
  await post(oldId, 'ACCEPT');

  // Version 2: the worker is reminded an hour before the acceptance deadline.
  const doc = structuredClone(v1.body) as DefinitionDocument & { version?: number; createdAt?: string };
  delete doc.version;
  delete doc.createdAt;
  // Unique, so the test makes a new version even against a database that kept an earlier run's.
  doc.description = `${doc.description} (reminder added ${Date.now()})`;
  doc.machine.states.reported.meta = {
    ...doc.machine.states.reported.meta,
    reminders: [{ id: 'accept-soon', when: { before: '1h' }, to: 'grid-worker', template: 'issue-accept-overdue' }],
  };
  const published = await h.call('POST', '/api/definitions?note=remind%20before%20acceptance', doc);
  expect(published.status).toBe(201);
  const to: number = published.body.version;
  expect(to).toBe(from + 1);

  const fresh = await h.call('POST', '/api/processes', { definition: 'issue', grid: 'grid-06', input });
  expect(fresh.body.definition.version).toBe(to);
  expect((await get(fresh.body.workflowId)).deadlines.map((d: { id: string }) => d.id)).toContain('accept-soon');

  const diff = await h.call('GET', `/api/definitions/issue/diff?from=${from}&to=${to}`);
  expect(diff.status).toBe(200);
  expect(diff.body.changes).toEqual([expect.objectContaining({ subject: 'reminder', kind: 'added', state: 'reported', name: 'accept-soon' })]);
  expect(diff.body.running).toEqual(expect.arrayContaining([expect.objectContaining({ state: 'triage', changes: 0 })]));
  expect(diff.body.runningTotal).toBeGreaterThanOrEqual(1);

  // The old instance carries on, and ends, on the version it started with.
  await post(oldId, 'HANDLE_IN_GRID');
  await post(oldId, 'RESOLVE', { result: '已协调停工' });
  // Verified by someone other than the resolver.
  await post(oldId, 'VERIFY_OK', undefined, 'm-grid-06-leader');
  await post(oldId, 'EVALUATE', { satisfaction: 4 }, 'm-community-manager-1');
  const done = await get(oldId);
  expect(done).toMatchObject({ state: 'closed', status: 'completed', definitionVersion: from });
  expect(new Set(done.history.map((x: { version: number }) => x.version))).toEqual(new Set([from]));
});

const v1Doc = (key: string): DefinitionDocument => ({
  key,
  title: 'Migration test v1',
  grid: 'required',
  machine: {
    id: key,
    initial: 'open',
    states: {
      open: { meta: { task: { role: 'grid-worker', title: 'Work', due: { after: '1h' } } }, on: { HOLD: 'held', CLOSE: 'closed' } },
      held: { meta: { task: { role: 'grid-leader', title: 'Release', due: { after: '1h' } } }, on: { RELEASE: 'open' } },
      closed: { type: 'final' },
    },
  },
});

const v2Doc = (key: string): DefinitionDocument => ({
  key,
  title: 'Migration test v2',
  grid: 'required',
  machine: {
    id: key,
    initial: 'working',
    states: {
      working: {
        meta: { task: { role: 'grid-worker', title: 'Work', due: { after: '4s' } }, timers: [{ id: 'time-up', when: { after: '4s' }, send: 'TIME_UP' }] },
        on: { CLOSE: 'closed', HOLD: 'held', TIME_UP: 'expired' },
      },
      held: { meta: { task: { role: 'grid-leader', title: 'Release', due: { after: '1h' } } }, on: { RELEASE: 'working' } },
      closed: { type: 'final' },
      expired: { type: 'final' },
    },
  },
});

test('a migration dry run lists what would move and what blocks it; the real run moves them and their timers fire at the recomputed times', async () => {
  const key = `migrate-${Date.now().toString(36)}`;
  expect((await h.call('POST', '/api/definitions', v1Doc(key))).body.version).toBe(1);
  const ids: string[] = [];
  for (const grid of ['grid-01', 'grid-02', 'grid-03']) {
    const res = await h.call('POST', '/api/processes', { definition: key, grid, businessKey: grid });
    ids.push(res.body.workflowId);
  }
  await post(ids[2], 'HOLD');
  await eventually(async () => (await get(ids[2])).state === 'held' && (await get(ids[0])).history.length > 0);
  expect((await h.call('POST', '/api/definitions', v2Doc(key))).body.version).toBe(2);

  // Without a mapping, "open" has nowhere to go in v2.
  const blockedRun = await h.call('POST', `/api/definitions/${key}/migrate`, { from: 1, to: 2, dryRun: true });
  expect(blockedRun.status).toBe(200);
  expect(blockedRun.body.moves).toEqual([expect.objectContaining({ workflowId: ids[2], from: 'held', to: 'held' })]);
  expect(blockedRun.body.blocked.map((b: { workflowId: string; reason: string }) => [b.workflowId, b.reason])).toEqual([
    [ids[0], 'state "open" does not exist in the target version; map it to one of: closed, expired, held, working'],
    [ids[1], 'state "open" does not exist in the target version; map it to one of: closed, expired, held, working'],
  ]);
  const refused = await h.call('POST', `/api/definitions/${key}/migrate`, { from: 1, to: 2 });
  expect(refused.status).toBe(409);
  expect(refused.body.blocked).toHaveLength(2);
  expect((await get(ids[0])).definitionVersion).toBe(1);

  const plan = await h.call('POST', `/api/definitions/${key}/migrate`, { from: 1, to: 2, mapping: { open: 'working' }, workflowIds: [ids[0], ids[1]], dryRun: true });
  expect(plan.body.blocked).toEqual([]);
  expect(plan.body.moves.map((m: { from: string; to: string; deadlines: { id: string }[] }) => [m.from, m.to, m.deadlines.map((d) => d.id)])).toEqual([
    ['open', 'working', ['time-up']],
    ['open', 'working', ['time-up']],
  ]);

  const before = Date.now();
  const run = await h.call('POST', `/api/definitions/${key}/migrate`, { from: 1, to: 2, mapping: { open: 'working' }, workflowIds: [ids[0], ids[1]] });
  expect(run.status).toBe(200);
  expect(run.body.failed).toEqual([]);
  expect(run.body.moved.map((m: { workflowId: string; to: { version: number; state: string } }) => [m.workflowId, m.to])).toEqual([
    [ids[0], { version: 2, state: 'working' }],
    [ids[1], { version: 2, state: 'working' }],
  ]);
  const migrated = await get(ids[0]);
  expect(migrated).toMatchObject({ state: 'working', definitionVersion: 2 });
  expect(migrated.history.at(-1)).toMatchObject({ event: '@migrate', from: 'open', to: 'working', version: 2 });
  // The untouched instance stays on version 1.
  expect((await get(ids[2])).definitionVersion).toBe(1);

  // The v2 timer, recomputed from the migration, fires about 4 s later.
  for (const id of [ids[0], ids[1]]) {
    const ended = await eventually(async () => {
      const d = await get(id);
      return d.status === 'completed' && d;
    }, 20_000, 250);
    expect(ended.state).toBe('expired');
    const firedAt = Date.parse(ended.history.at(-1).at);
    expect(firedAt - before).toBeGreaterThanOrEqual(3_900);
  }
  const audit = await h.services.orm.em.fork().getConnection().execute<{ actor: string; data: { moved: unknown[] } }[]>(
    `select actor, data from audit_log where action = 'migrate' and subject = ?`,
    [`definition:${key}`],
  );
  expect(audit).toHaveLength(1);
  expect(audit[0].actor).toBe('admin');
  expect(audit[0].data.moved).toHaveLength(2);
});

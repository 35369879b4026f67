import type { DefinitionDocument } from '../../engine/document.schema';
import { enc, eventually, harnessForFile } from '../support/harness';

const h = harnessForFile();

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const uniq = () => Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);

/** 关爱走访: a weekly visit to vulnerable households, not built in, with a reminder and an escalation. */
function careVisit(key: string, remindAfter: string, escalateAfter: string): DefinitionDocument {
  return {
    key,
    title: '关爱走访（困难群体）',
    description: 'A weekly visit to each vulnerable household of the grid.',
    grid: 'required',
    businessKey: '{grid}/{week}',
    input: { type: 'object', properties: { date: { type: 'string', format: 'date' }, households: { type: 'integer', minimum: 1 } } },
    events: {
      VISIT: { type: 'object', required: ['household'], properties: { household: { type: 'string', minLength: 1 }, note: { type: 'string' } } },
      DONE: { type: 'object', properties: {} },
    },
    templates: {
      'visit-reminder': { title: '{{context.grid}} 本周关爱走访尚未完成', body: '已走访 {{context.visits}} 户' },
      'visit-overdue': { title: '督办：{{context.grid}} 关爱走访超时', body: '请网格长督促' },
    },
    machine: {
      id: key,
      initial: 'visiting',
      context: { visits: 0 },
      states: {
        visiting: {
          meta: {
            task: { role: 'grid-worker', title: '走访困难群体并记录', due: { after: escalateAfter } },
            reminders: [{ id: 'remind', when: { after: remindAfter }, to: 'grid-worker', template: 'visit-reminder' }],
            escalations: [{ id: 'overdue', when: { after: '0s', of: 'due' }, to: 'grid-leader', template: 'visit-overdue' }],
          },
          on: {
            VISIT: { actions: [{ type: 'assign', params: { increment: { visits: 1 } } }] },
            DONE: { target: 'done', guard: { type: 'compare', params: { left: { $ref: 'context.visits' }, op: 'gte', right: 1 } } },
          },
        },
        done: { type: 'final' },
      },
    },
  };
}

test('a new process is written, validated, simulated, published and run through the API with no code change', async () => {
  const key = `care-visit-${uniq()}`;
  const doc = careVisit(key, '2s', '4s');

  const valid = await h.call('POST', '/api/definitions/validate', doc);
  expect(valid).toMatchObject({ status: 200, body: { valid: true, warnings: [] } });

  // Unknown until published.
  expect((await h.call('POST', `/api/definitions/${key}/simulate`, { events: [] })).status).toBe(404);
  const published = await h.call('POST', '/api/definitions?note=first%20version', doc);
  expect(published.status).toBe(201);
  expect(published.body).toMatchObject({ key, version: 1, unchanged: false });
  // The same document again is the same version.
  expect((await h.call('POST', '/api/definitions', doc)).body).toMatchObject({ version: 1, unchanged: true });

  const sim = await h.call('POST', `/api/definitions/${key}/simulate`, {
    grid: 'grid-03',
    startAt: '2026-11-23T09:00:00+08:00',
    events: [
      { at: '2026-11-23T09:00:01+08:00', type: 'DONE' },
      { at: '2026-11-23T09:00:03+08:00', type: 'VISIT', data: { household: '3号楼2单元' } },
      { at: '2026-11-23T09:00:05+08:00', type: 'DONE' },
    ],
  });
  expect(sim.status).toBe(200);
  expect(sim.body.steps.map((s: { at: string; event: string; to: string; rejected?: unknown; notifications: { role: string[] }[] }) => [s.at.slice(11, 19), s.event, s.to, s.rejected ? 'refused' : '', s.notifications.map((n) => n.role.join('+')).join(',')])).toEqual([
    ['09:00:00', '@start', 'visiting', '', ''],
    ['09:00:01', 'DONE', 'visiting', 'refused', ''],
    ['09:00:02', '@reminder:remind', 'visiting', '', 'grid-worker'],
    ['09:00:03', 'VISIT', 'visiting', '', ''],
    ['09:00:04', '@escalation:overdue', 'visiting', '', 'grid-leader'],
    ['09:00:05', 'DONE', 'done', '', ''],
  ]);
  expect(sim.body.final).toMatchObject({ state: 'done', status: 'completed', context: { visits: 1 } });

  const started = await h.call('POST', '/api/processes', { definition: key, grid: 'grid-03', input: { households: 6 } });
  expect(started.status).toBe(201);
  const id: string = started.body.workflowId;
  expect(id).toMatch(new RegExp(`^${key}/grid-03/\\d{4}-W\\d{2}$`));
  expect((await h.send(id, { type: 'VISIT', data: { household: '3号楼2单元' } })).body.state).toBe('visiting');
  // The reminder and the escalation arrive on the real clock, to grid-03's worker and leader.
  const notes = await eventually(async () => {
    const rows = await h.services.orm.em.fork().getConnection().execute<{ member_id: string; kind: string }[]>(
      'select member_id, kind from notification where workflow_id = ? order by at',
      [id],
    );
    return rows.length === 2 && rows;
  }, 15_000, 250);
  expect(notes.map((n) => `${n.kind}:${n.member_id}`)).toEqual(['reminder:m-grid-03-worker', 'escalation:m-grid-03-leader']);
  expect((await h.send(id, { type: 'DONE' })).body).toMatchObject({ state: 'done', status: 'completed' });

  const list = await h.call('GET', '/api/definitions');
  expect(list.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ key, latestVersion: 1 })]));
  const versions = await h.call('GET', `/api/definitions/${key}/versions`);
  expect(versions.body.items).toEqual([expect.objectContaining({ version: 1, note: 'first version', createdBy: 'admin' })]);
});

describe('thirty malformed or unsafe documents get 422 with the path and what would be valid, and none is stored', () => {
  const base = careVisit('malformed-base', '1h', '2h');
  type Case = [string, (d: any) => void, string, string];
  const cases: Case[] = [
    ['a missing key', (d) => delete d.key, 'key', 'required'],
    ['a key that is not kebab-case', (d) => (d.key = 'Care Visit'), 'key', 'kebab-case'],
    ['a missing title', (d) => delete d.title, 'title', 'required'],
    ['an unknown top-level field', (d) => (d.owner = 'x'), '$', 'unknown key "owner"'],
    ['a machine without states', (d) => delete d.machine.states, 'machine.states', 'required'],
    ['an initial state that does not exist', (d) => (d.machine.initial = 'start'), 'machine.initial', 'visiting'],
    ['an unknown target state', (d) => (d.machine.states.visiting.on.DONE.target = 'finished'), 'machine.states.visiting.on.DONE.target', 'done'],
    ['an unreachable state', (d) => (d.machine.states.orphan = { type: 'final' }), 'machine.states.orphan', 'unreachable'],
    ['a non-final state with no way out', (d) => (d.machine.states.stuck = {}, (d.machine.states.visiting.on.STUCK = 'stuck')), 'machine.states.stuck', 'no way out'],
    ['an XState delay instead of a timer', (d) => (d.machine.states.visiting.after = { 1000: 'done' }), 'machine.states.visiting', 'meta.timers'],
    ['an invoke', (d) => (d.machine.states.visiting.invoke = { src: 'x' }), 'machine.states.visiting', 'startProcess'],
    ['an unknown action', (d) => (d.machine.states.visiting.on.VISIT.actions[0].type = 'increment'), 'machine.states.visiting.on.VISIT.actions.0.type', 'known: assign'],
    ['assign params of the wrong shape', (d) => (d.machine.states.visiting.on.VISIT.actions[0].params = { add: { visits: 1 } }), 'machine.states.visiting.on.VISIT.actions.0.params', 'add'],
    ['an unknown guard', (d) => (d.machine.states.visiting.on.DONE.guard.type = 'atLeast'), 'machine.states.visiting.on.DONE.guard.type', 'compare'],
    ['a guard with an unknown operator', (d) => (d.machine.states.visiting.on.DONE.guard.params.op = '>='), 'machine.states.visiting.on.DONE.guard.params.op', 'gte'],
    ['an unknown role for the task', (d) => (d.machine.states.visiting.meta.task.role = 'volunteer'), 'machine.states.visiting.meta.task.role', 'grid-worker'],
    ['an unknown role for an escalation', (d) => (d.machine.states.visiting.meta.escalations[0].to = 'mayor'), 'machine.states.visiting.meta.escalations.0.to', 'grid-leader'],
    ['an unknown template', (d) => (d.machine.states.visiting.meta.reminders[0].template = 'nope'), 'machine.states.visiting.meta.reminders.0.template', 'visit-reminder'],
    ['a duration that does not parse', (d) => (d.machine.states.visiting.meta.reminders[0].when = { after: 'two hours' }), 'machine.states.visiting.meta.reminders.0.when.after', 'use e.g.'],
    ['a wall-clock time that does not parse', (d) => (d.machine.states.visiting.meta.task.due = { at: '25:00' }), 'machine.states.visiting.meta.task.due.at', 'HH:mm'],
    ['a time with both after and at', (d) => (d.machine.states.visiting.meta.reminders[0].when = { after: '1h', at: '09:00' }), 'machine.states.visiting.meta.reminders.0.when', 'exactly one'],
    ['working days counted backwards', (d) => (d.machine.states.visiting.meta.reminders[0].when = { before: '1wd' }), 'machine.states.visiting.meta.reminders.0.when.before', 'forward only'],
    ['a timer whose event nobody handles', (d) => (d.machine.states.visiting.meta.timers = [{ id: 't', when: { after: '1h' }, send: 'TIMEOUT' }]), 'machine.states.visiting.meta.timers.0.send', 'VISIT'],
    ['a schedule that does not parse', (d) => (d.schedule = { cron: 'every friday', fanOut: 'grids' }), 'schedule.cron', '5-field cron'],
    ['a schedule with an unknown fan-out', (d) => (d.schedule = { cron: '0 9 * * 5', fanOut: 'households' }), 'schedule.fanOut', 'grids'],
    ['an unknown time zone', (d) => (d.timezone = 'Asia/Beijing'), 'timezone', 'Asia/Shanghai'],
    ['an unknown business key placeholder', (d) => (d.businessKey = '{grid}/{date}'), 'businessKey', '{day}'],
    ['a $ref outside the allowed scopes', (d) => (d.machine.states.visiting.on.DONE.guard.params.left = { $ref: 'process.env.SECRET' }), 'machine.states.visiting.on.DONE.guard.params.left.$ref', 'event'],
    ['assigning a field the engine sets', (d) => (d.machine.states.visiting.on.VISIT.actions[0].params = { set: { grid: 'grid-99' } }), 'machine.states.visiting.on.VISIT.actions.0.params.set.grid', 'engine'],
    ['event data of the wrong shape', (d) => (d.events.VISIT = { type: 'object', properties: { household: { type: 'text' } } }), 'events.VISIT.properties.household.type', 'string'],
  ];

  test('there are thirty', () => {
    expect(cases).toHaveLength(30);
  });

  test.each(cases)('%s', async (_name, mutate, path, fragment) => {
    const doc = clone(base) as any;
    doc.key = `malformed-${uniq()}`;
    doc.machine.id = doc.key;
    mutate(doc);
    const res = await h.call('POST', '/api/definitions', doc);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toContain(path);
    const messages = res.body.errors.filter((e: { path: string }) => e.path === path).map((e: { message: string }) => e.message).join(' | ');
    expect(messages).toContain(fragment);
    // Validation alone says the same, and nothing was stored.
    expect((await h.call('POST', '/api/definitions/validate', doc)).status).toBe(422);
    if (typeof doc.key === 'string') expect((await h.call('GET', `/api/definitions/${enc(doc.key)}`)).status).toBe(404);
  });
});

test('a draft is simulated and compared with the published version without being stored', async () => {
  const key = `care-draft-${uniq()}`;
  const doc = careVisit(key, '1h', '2h');
  const events = [
    { at: '2026-11-23T10:00:00+08:00', type: 'VISIT', data: { household: '5号楼' } },
    { at: '2026-11-23T11:00:00+08:00', type: 'DONE' },
  ];
  // Before it is published: a draft still simulates; a diff has nothing to compare with.
  const sim = await h.call('POST', '/api/definitions/draft/simulate', { document: doc, grid: 'grid-02', startAt: '2026-11-23T09:00:00+08:00', events });
  expect(sim.status).toBe(200);
  expect(sim.body).toMatchObject({ key, version: 'draft', final: { state: 'done', status: 'completed' } });
  expect(sim.body.steps.map((s: { event: string }) => s.event)).toEqual(['@start', '@reminder:remind', 'VISIT', '@escalation:overdue', 'DONE']);
  expect((await h.call('POST', '/api/definitions/draft/diff', { document: doc })).status).toBe(404);
  expect((await h.call('GET', `/api/definitions/${key}`)).status).toBe(404);

  // An invalid draft: 422 with the path inside the document; a bad body: 400.
  const broken = clone(doc) as any;
  broken.machine.states.visiting.on.DONE.target = 'don';
  const refused = await h.call('POST', '/api/definitions/draft/simulate', { document: broken, events });
  expect(refused.status).toBe(422);
  expect(refused.body.errors[0].path).toBe('document.machine.states.visiting.on.DONE.target');
  expect((await h.call('POST', '/api/definitions/draft/simulate', { events })).status).toBe(400);

  // Published, then changed: the diff names the change and the running instances of that version.
  expect((await h.call('POST', '/api/definitions', doc)).status).toBe(201);
  expect((await h.call('POST', '/api/processes', { definition: key, grid: 'grid-02' })).status).toBe(201);
  const changed = clone(doc) as any;
  changed.machine.states.visiting.on.CANCEL = 'done';
  // The read model has the new instance once the worker has projected its start.
  const diff = await eventually(async () => {
    const d = await h.call('POST', '/api/definitions/draft/diff', { document: changed });
    return d.body.runningTotal > 0 && d;
  });
  expect(diff.status).toBe(200);
  expect(diff.body).toMatchObject({ key, from: 1, to: 'draft', runningTotal: 1, running: [{ state: 'visiting', running: 1, changes: 1 }] });
  expect(diff.body.changes).toEqual([expect.objectContaining({ subject: 'transition', kind: 'added', state: 'visiting', name: 'CANCEL' })]);
  expect((await h.call('GET', `/api/definitions/${key}/versions`)).body.items).toHaveLength(1);
});

test('GET /api/me says who the token is', async () => {
  const me = await h.call('GET', '/api/me');
  expect(me).toMatchObject({ status: 200, body: { name: 'admin', role: 'admin', grids: 'all', member: null } });
  const created = await h.call('POST', '/api/tokens', { role: 'grid-worker', name: 'w', memberId: 'm-grid-06-worker', grids: ['grid-06'] });
  const worker = await h.call('GET', '/api/me', undefined, { authorization: `Bearer ${created.body.token}` });
  expect(worker.body).toEqual({ name: 'w', role: 'grid-worker', grids: ['grid-06'], member: 'm-grid-06-worker', community: 'shengshi', communities: ['shengshi'] });
  expect((await h.call('GET', '/api/me', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
});

import { addDays, localDate } from '../../engine/time';
import { enc, eventually, sentSteps, startHarness, type Harness } from '../support/harness';

/**
 * Who may send each event of the four built-in definitions, through the API into the workflow:
 * every state × every event × every kind of person, the other grid and the other community included. The expected answer
 * comes from the table "Who may act" of shared/domain.md, written out below, not from the YAML.
 *
 * A probe never changes a process: it carries a field no event schema has, so an allowed sender
 * gets 400 (the data is checked after who sends it), a refused one 403, an event the state does
 * not take 409, another grid's process 404.
 */
let h: Harness;
const grid = 'grid-03';

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** People, by the member the token names (or a token without one). */
const PEOPLE = {
  worker: 'm-grid-03-worker',
  'part-time': 'm-grid-03-part-time-1',
  leader: 'm-grid-03-leader',
  police: 'm-grid-03-police',
  'worker-05': 'm-grid-05-worker',
  'leader-05': 'm-grid-05-leader',
  secretary: 'm-party-secretary',
  'community-mgr': 'm-community-manager-1',
  partner: 'm-org-rongbo',
  // The second community of the street (test/support/communities.ts): out of reach like another grid.
  'lin-worker': 'm-linyuan-grid-03-worker',
  'lin-manager': 'm-linyuan-community-manager',
  // The street office reaches both communities, and may send only what its role may.
  street: 'm-street-office',
  manager: 'token:manager',
  ops: 'token:ops',
  admin: 'token:admin',
} as const;
type Person = keyof typeof PEOPLE;
const persons = Object.keys(PEOPLE) as Person[];
/** Out of reach of grid-03's processes: another grid's people, a partner whose organisation owns none of them, and the other community's people. */
const OTHER_GRID: Person[] = ['worker-05', 'leader-05', 'partner', 'lin-worker', 'lin-manager'];
const GRID_PEOPLE: Person[] = ['worker', 'part-time', 'leader', 'police', 'worker-05', 'leader-05'];
const COMMUNITY: Person[] = ['secretary', 'community-mgr', 'manager'];

/** shared/domain.md, "Who may act", for a process of grid-03 (the monthly review: the community). */
const WHO: Record<string, Record<string, Person[]>> = {
  issue: {
    ACCEPT: ['worker', 'part-time', 'leader'],
    REJECT: ['worker', 'part-time', 'leader'],
    ACKNOWLEDGE: [],
    RETURN: [],
    HANDLE_IN_GRID: ['worker', 'part-time', 'leader'],
    NEEDS_DELIBERATION: ['worker', 'part-time', 'leader'],
    DECIDE: ['leader'],
    PROGRESS: ['worker', 'part-time'],
    RESOLVE: ['worker', 'part-time'],
    EXTEND: ['worker', 'part-time'],
    APPROVE_EXTENSION: ['leader'],
    REFUSE_EXTENSION: ['leader'],
    PAUSE: ['worker', 'part-time'],
    APPROVE_PAUSE: ['leader'],
    REFUSE_PAUSE: ['leader'],
    RESUME: ['worker', 'part-time', 'leader'],
    ESCALATE: ['leader', ...COMMUNITY],
    // At the community or street level only (their own states; see test/integration/partners.test.ts).
    DISPATCH: [],
    SEND_DOWN: [],
    VERIFY_OK: ['worker', 'part-time', 'leader'],
    VERIFY_FAIL: ['worker', 'part-time', 'leader'],
    EVALUATE: ['worker', 'part-time', 'leader', ...COMMUNITY],
  },
  'daily-patrol': { START: ['worker'], CHECK_IN: ['worker'], REPORT_ISSUE: ['worker'], SUBMIT: ['worker'] },
  'weekly-report': { SUBMIT: ['worker'], APPROVE: ['leader'], RETURN: ['leader'] },
  'monthly-review': { SCHEDULE: COMMUNITY, RECORD_MINUTES: COMMUNITY, RATE_ISSUES: COMMUNITY, CONFIRM: COMMUNITY, ADJUST: ['community-mgr', 'manager'] },
};
/** Events only the engine sends (timers, fetched data). */
const ENGINE: Record<string, string[]> = {
  issue: ['OVERDUE_ESCALATE'],
  'daily-patrol': ['DUE', 'DAY_END'],
  'weekly-report': [],
  'monthly-review': ['MEETING_STARTS', 'SCORES_READY'],
};

/** Separation of duties at a probe: who sent the earlier event there (the worker resolved it). */
const SENT_BEFORE: Record<string, Record<string, Person[]>> = {
  'issue verification': { VERIFY_OK: ['worker'], VERIFY_FAIL: ['worker'] },
  // The worker resolved it and the leader verified it: neither evaluates it.
  'issue awaiting-evaluation': { EVALUATE: ['worker', 'leader'] },
};

const tokens = new Map<Person, string>();
async function tokenOf(p: Person): Promise<string> {
  if (!tokens.has(p)) {
    const ref = PEOPLE[p];
    if (ref === 'token:admin') tokens.set(p, h.token);
    else if (ref.startsWith('token:')) tokens.set(p, (await h.call('POST', '/api/tokens', { role: ref.slice(6), name: `who-may-act-${p}` })).body.token);
    else tokens.set(p, await h.as(ref).token());
  }
  return tokens.get(p) as string;
}

const as = async (p: Person) => ({ authorization: `Bearer ${await tokenOf(p)}` });
const detail = async (id: string) => (await h.call('GET', `/api/processes/${enc(id)}`)).body;
const history = async (id: string) => (await detail(id)).history.map((x: { event: string }) => x.event);
/** What people and processes sent: a definition's own reminders fire by the clock (sentSteps). */
const sent = async (id: string) => sentSteps<{ event: string }>((await detail(id)).history).map((x) => x.event);

/** Sends and insists on 200, as `p`. */
async function act(id: string, p: Person, type: string, data?: Record<string, unknown>) {
  const res = await h.call('POST', `/api/processes/${enc(id)}/events`, { type, data }, await as(p));
  expect({ type, p, status: res.status, detail: res.body.detail }).toEqual({ type, p, status: 200, detail: undefined });
  return res.body;
}

const matrix: Record<string, Record<string, string>> = {};
const wrong: string[] = [];

function expected(definition: string, label: string, event: string, person: Person, accepts: string[], community: boolean): number {
  if (OTHER_GRID.includes(person) || (community && GRID_PEOPLE.includes(person))) return 404;
  if (ENGINE[definition].includes(event)) return 403;
  if (!accepts.includes(event)) return 409;
  if (SENT_BEFORE[`${definition} ${label}`]?.[event]?.includes(person)) return 403;
  return WHO[definition][event].includes(person) ? 400 : 403;
}

/** Probes every event as every person against the instance in its current state. */
async function probe(definition: string, id: string, label: string, community = false) {
  const d = await detail(id);
  const before = sentSteps<{ event: string }>(d.history).length;
  const accepts: string[] = d.accepts;
  const events = [...Object.keys(WHO[definition]), ...ENGINE[definition]];
  for (const event of events) {
    const row: Record<string, string> = {};
    await Promise.all(
      persons.map(async (person) => {
        const want = expected(definition, label, event, person, accepts, community);
        const res = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: event, data: { probe: true } }, await as(person));
        const ok = res.status === want && (want !== 400 || /unknown field "probe"/.test(res.body.detail));
        row[person] = ok ? String(res.status) : `${res.status}!=${want}`;
        if (!ok) wrong.push(`${definition} ${label} ${event} as ${person}: ${res.status} ${res.body.detail}`);
        if (res.status === 403) expect(res.body.detail).toMatch(/may be sent by|sent by the engine|must come from/);
        // Nothing of another grid's process in the answer.
        if (res.status === 404) expect(Object.keys(res.body).sort()).toEqual(['detail', 'status', 'title', 'type']);
      }),
    );
    matrix[`${definition} ${label} ${event}`] = row;
  }
  // The probes changed nothing (a reminder the clock fires meanwhile is not a probe's doing).
  expect(sentSteps((await detail(id)).history)).toHaveLength(before);
}

test('every built-in: each state × event × person is accepted or refused as "Who may act" says', async () => {
  // An issue taken through each of its states by the right people, probed at each.
  const started = await h.call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'resident', category: '环境卫生', description: '楼道堆放杂物' } }, await as('worker'));
  expect(started.status).toBe(201);
  const issue: string = started.body.workflowId;
  await eventually(async () => (await detail(issue)).history?.length >= 1);
  await probe('issue', issue, 'reported');
  await act(issue, 'worker', 'ACCEPT');
  await probe('issue', issue, 'triage');
  await act(issue, 'worker', 'NEEDS_DELIBERATION');
  await probe('issue', issue, 'deliberation');
  await act(issue, 'leader', 'DECIDE', { plan: '物业清理', owner: { kind: 'grid', name: grid } });
  await probe('issue', issue, 'handling');
  await act(issue, 'worker', 'EXTEND', { due: addDays(localDate(Date.now()), 10), reason: '等待物业排期' });
  await probe('issue', issue, 'handling+request');
  await act(issue, 'leader', 'APPROVE_EXTENSION');
  await act(issue, 'worker', 'PAUSE', { reason: '等待居民配合' });
  await act(issue, 'leader', 'APPROVE_PAUSE');
  await probe('issue', issue, 'suspended');
  await act(issue, 'leader', 'RESUME');
  await act(issue, 'worker', 'RESOLVE', { result: '已清理' });
  await probe('issue', issue, 'verification');
  await act(issue, 'leader', 'VERIFY_OK');
  await probe('issue', issue, 'awaiting-evaluation');

  // Tomorrow's (inside the start window): today's belong to the schedule test.
  const today = localDate(Date.now());
  const patrol = (await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, input: { date: addDays(today, 1) } }, await as('worker'))).body.workflowId as string;
  await eventually(async () => (await detail(patrol)).history?.length >= 1);
  await probe('daily-patrol', patrol, 'assigned');
  await act(patrol, 'worker', 'START');
  await probe('daily-patrol', patrol, 'patrolling');

  // Next week's report: this week's may be the schedule test's.
  const report = (await h.call('POST', '/api/processes', { definition: 'weekly-report', grid, input: { date: addDays(today, 6) } }, await as('worker'))).body.workflowId as string;
  await eventually(async () => (await detail(report)).history?.length >= 1);
  await probe('weekly-report', report, 'drafting');
  await act(report, 'worker', 'SUBMIT', { narrative: '本周正常' });
  await probe('weekly-report', report, 'review');

  const review = (await h.call('POST', '/api/processes', { definition: 'monthly-review', input: { month: '2033-02', date: '2033-02-25' } }, await as('manager'))).body.workflowId as string;
  await eventually(async () => (await detail(review)).history?.length >= 1);
  await probe('monthly-review', review, 'scheduling', true);
  await act(review, 'secretary', 'SCHEDULE', { at: new Date(Date.now() + 2000).toISOString(), place: '会议室', participants: ['书记'] });
  await eventually(async () => (await detail(review)).state === 'in-session', 15_000, 250);
  await probe('monthly-review', review, 'in-session', true);
  await act(review, 'secretary', 'RECORD_MINUTES', { attendance: ['书记'], minutes: '会议纪要' });
  await eventually(async () => (await detail(review)).context.scores, 15_000, 250);
  await probe('monthly-review', review, 'evaluating', true);

  console.table(matrix);
  expect(wrong).toEqual([]);
  // The console is offered only what the person may send.
  expect((await h.call('GET', `/api/processes/${enc(review)}`, undefined, await as('community-mgr'))).body.youMaySend).toEqual(['ADJUST', 'CONFIRM', 'RATE_ISSUES']);
  expect((await h.call('GET', `/api/processes/${enc(review)}`, undefined, await as('secretary'))).body.youMaySend).toEqual(['CONFIRM', 'RATE_ISSUES']);
  expect((await h.call('GET', `/api/processes/${enc(review)}`, undefined, await as('ops'))).body.youMaySend).toEqual([]);
  // Hundreds of probes through the API and the workflow: on a busy 2-core machine this took over 90 s.
}, 300_000);

describe('separation of duties', () => {
  async function handlingIssue(): Promise<string> {
    const id = (await h.call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'patrol', category: '设施维修', description: '路灯不亮' } }, await as('worker'))).body.workflowId as string;
    await eventually(async () => (await detail(id)).history?.length >= 1);
    await act(id, 'worker', 'ACCEPT');
    await act(id, 'worker', 'HANDLE_IN_GRID');
    return id;
  }

  test('whoever sent RESOLVE may not verify it (VERIFY_OK or VERIFY_FAIL); another member may', async () => {
    const id = await handlingIssue();
    await act(id, 'part-time', 'RESOLVE', { result: '已更换灯泡' });
    for (const type of ['VERIFY_OK', 'VERIFY_FAIL']) {
      const res = await h.call('POST', `/api/processes/${enc(id)}/events`, { type, data: { note: '自己核查' } }, await as('part-time'));
      expect(res.status).toBe(403);
      expect(res.body.detail).toContain('must come from someone other than who sent RESOLVE (m-grid-03-part-time-1)');
    }
    expect((await act(id, 'worker', 'VERIFY_OK')).state).toBe('awaiting-evaluation');
  });

  test('the approver of a weekly report is not its submitter, even through a manager acting for both', async () => {
    const report = (await h.call('POST', '/api/processes', { definition: 'weekly-report', grid: 'grid-08', input: { date: addDays(localDate(Date.now()), 20) } }, await as('admin'))).body.workflowId as string;
    await eventually(async () => (await detail(report)).history?.length >= 1);
    const manager = await as('manager');
    const submitted = await h.call('POST', `/api/processes/${enc(report)}/events`, { type: 'SUBMIT', data: { narrative: 'x' }, onBehalfOf: 'm-grid-08-worker' }, manager);
    expect(submitted.status).toBe(200);
    const approve = await h.call('POST', `/api/processes/${enc(report)}/events`, { type: 'APPROVE', onBehalfOf: 'm-grid-08-leader' }, manager);
    expect(approve.status).toBe(403);
    expect(approve.body.detail).toMatch(/must come from someone other than who sent SUBMIT \(who-may-act-manager\)/);
    expect((await h.call('POST', `/api/processes/${enc(report)}/events`, { type: 'APPROVE' }, { authorization: `Bearer ${await h.as('m-grid-08-leader').token()}` })).status).toBe(200);
  });

  test('the evaluation is not made by the handler or the verifier', async () => {
    const id = await handlingIssue();
    const manager = await as('manager');
    expect((await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'RESOLVE', data: { result: '已修复' }, onBehalfOf: 'm-grid-03-worker' }, manager)).status).toBe(200);
    await act(id, 'leader', 'VERIFY_OK');
    const byHandler = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'EVALUATE', data: { satisfaction: 5 } }, manager);
    expect(byHandler.status).toBe(403);
    expect(byHandler.body.detail).toContain('who sent RESOLVE');
    expect((await act(id, 'community-mgr', 'EVALUATE', { satisfaction: 4 })).state).toBe('closed');
  });

  test('the grid leader who approves an extension is not the one who asked; a worker cannot approve it', async () => {
    const id = await handlingIssue();
    const manager = await as('manager');
    const due = addDays(localDate(Date.now()), 12);
    expect((await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'EXTEND', data: { due, reason: '材料未到' }, onBehalfOf: 'm-grid-03-worker' }, manager)).status).toBe(200);
    const same = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'APPROVE_EXTENSION', onBehalfOf: 'm-grid-03-leader' }, manager);
    expect(same.status).toBe(403);
    expect(same.body.detail).toContain('must come from someone other than who sent EXTEND');
    const byWorker = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'APPROVE_EXTENSION' }, await as('worker'));
    expect(byWorker.status).toBe(403);
    expect(byWorker.body.detail).toContain('may be sent by grid-leader of grid-03');
    await act(id, 'leader', 'APPROVE_EXTENSION', { comment: '同意' });
    const d = await detail(id);
    // The decided due date stands for lateness and 督办; the approved one is recorded beside it.
    expect(d.context.extendedDue).toBe(due);
    expect(d.context.handlingDue).toBeNull();
    expect(d.context.extensions).toEqual([expect.objectContaining({ due, decision: 'approved', askedBy: 'm-grid-03-worker (by who-may-act-manager)', decidedBy: 'm-grid-03-leader' })]);
  });
});

describe('the scenarios of issue 13, refused with a clear problem and the record unchanged', () => {
  test('a grid worker cannot decide, approve its own work or evaluate; ops cannot act at all', async () => {
    const id = (await h.call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'resident', category: '噪音', description: '夜间噪音' } }, await as('worker'))).body.workflowId as string;
    await eventually(async () => (await detail(id)).history?.length >= 1);
    await act(id, 'worker', 'ACCEPT');
    // The worker's task list offers what the worker may send: ESCALATE is the leader's.
    const task = await eventually(async () => {
      const mine = await h.call('GET', '/api/tasks?assignee=me', undefined, await as('worker'));
      return (mine.body.items as { workflowId: string; state: string; events: string[] }[]).find((t) => t.workflowId === id && t.state === 'triage');
    });
    expect(task.events).toEqual(['HANDLE_IN_GRID', 'NEEDS_DELIBERATION']);
    const leaders = await h.call('GET', `/api/tasks?grid=${grid}`, undefined, await as('leader'));
    expect(leaders.body.items.find((t: { workflowId: string }) => t.workflowId === id).events).toEqual(['ESCALATE', 'HANDLE_IN_GRID', 'NEEDS_DELIBERATION']);
    await act(id, 'worker', 'NEEDS_DELIBERATION');
    const before = await history(id);
    const decide = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'DECIDE', data: { plan: 'x', owner: { kind: 'grid', name: grid } } }, await as('worker'));
    expect(decide.status).toBe(403);
    expect(decide.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(decide.body.detail).toBe('event "DECIDE" in state "deliberation" of issue may be sent by grid-leader of grid-03, or whoever holds the task; you are grid-worker of grid-03');
    const ops = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'DECIDE', data: { plan: 'x', owner: { kind: 'grid', name: grid } } }, await as('ops'));
    expect(ops.status).toBe(403);
    expect(await history(id)).toEqual(before);
  });

  test('a manager acts for someone only with onBehalfOf, audited; nobody else may', async () => {
    const id = (await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-10', input: { date: addDays(localDate(Date.now()), 40) } }, await as('admin'))).body.workflowId as string;
    await eventually(async () => (await detail(id)).history?.length >= 1);
    const manager = await as('manager');
    const plain = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'START' }, manager);
    expect(plain.status).toBe(403);
    expect(plain.body.detail).toContain('a manager may send it for one of them with "onBehalfOf"');
    const byWorker = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'START', onBehalfOf: 'm-grid-10-worker' }, await as('worker-05'));
    expect(byWorker.status).toBe(404);
    const ok = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'START', onBehalfOf: 'm-grid-10-worker' }, manager);
    expect(ok.status).toBe(200);
    expect((await detail(id)).history.at(-1)).toMatchObject({ event: 'START', actor: 'm-grid-10-worker (by who-may-act-manager)' });
    const audit = await h.services.orm.em.fork().getConnection().execute<{ actor: string; data: { member: string; event: string } }[]>(
      `select actor, data from audit_log where action = 'event.on-behalf-of' and subject = ?`,
      [id],
    );
    expect(audit).toEqual([{ actor: 'who-may-act-manager', data: expect.objectContaining({ member: 'm-grid-10-worker', event: 'START' }) }]);
    const grid03 = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'CHECK_IN', data: { site: 'x' }, onBehalfOf: 'm-grid-10-worker' }, await as('leader'));
    expect(grid03.status).toBe(404);
  });

  test('a weekly report escalates only its grid\'s open issues: another grid\'s is refused at SUBMIT', async () => {
    const other = (await h.call('POST', '/api/processes', { definition: 'issue', grid: 'grid-05', input: { source: 'resident', category: '绿化', description: '树木倒伏' } }, await as('admin'))).body.workflowId as string;
    const mine = (await h.call('POST', '/api/processes', { definition: 'issue', grid: 'grid-11', input: { source: 'resident', category: '绿化', description: '草坪损坏' } }, await as('admin'))).body.workflowId as string;
    await eventually(async () => (await detail(other)).history?.length >= 1 && (await detail(mine)).history?.length >= 1);
    expect((await h.send(mine, { type: 'ACCEPT' }, 'm-grid-11-worker')).status).toBe(200);
    const report = (await h.call('POST', '/api/processes', { definition: 'weekly-report', grid: 'grid-11', input: { date: addDays(localDate(Date.now()), 20) } }, await as('admin'))).body.workflowId as string;
    await eventually(async () => (await detail(report)).history?.length >= 1);
    expect((await detail(report)).context.input.summary.openIssues).toContain(mine);
    const crossGrid = await h.send(report, { type: 'SUBMIT', data: { narrative: '上报', escalate: [other] } }, 'm-grid-11-worker');
    expect(crossGrid.status).toBe(400);
    expect(crossGrid.body.errors).toEqual([expect.objectContaining({ path: 'data.escalate.0', message: expect.stringContaining('is not one of the') })]);
    expect(await sent(report)).toEqual(['@start']);
    expect((await h.send(report, { type: 'SUBMIT', data: { narrative: '上报', escalate: [mine] } }, 'm-grid-11-worker')).status).toBe(200);
    expect((await h.send(report, { type: 'APPROVE' }, 'm-grid-11-leader')).status).toBe(200);
    const escalated = await eventually(async () => ((await detail(mine)).context.level === 'community' ? detail(mine) : false));
    expect(escalated.history.at(-1)).toMatchObject({ event: 'ESCALATE', actor: report });
    expect(await history(other)).toEqual(['@start']);
  });

  test('an event another process refuses is recorded in the sender\'s history, and the target is unchanged', async () => {
    // A process of grid-12 that tries to escalate an issue (only weekly reports and people of the grid may).
    const key = `stray-sender-${Date.now().toString(36)}`;
    const doc = {
      key,
      title: 'stray sender',
      grid: 'required',
      events: { SEND: { type: 'object', required: ['to'], properties: { to: { type: 'string' } } } },
      machine: {
        id: key,
        initial: 'open',
        states: {
          open: {
            meta: { task: { role: 'grid-worker', title: 'send' } },
            on: { SEND: { target: 'sent', actions: [{ type: 'sendEvent', params: { to: { $ref: 'event.data.to' }, type: 'ESCALATE', data: { reason: 'stray' } } }] } },
          },
          sent: { type: 'final' },
        },
      },
    };
    expect((await h.call('POST', '/api/definitions', doc)).status).toBe(201);
    const target = (await h.call('POST', '/api/processes', { definition: 'issue', grid: 'grid-12', input: { source: 'resident', category: '绿化', description: '花坛损坏' } }, await as('admin'))).body.workflowId as string;
    const other = (await h.call('POST', '/api/processes', { definition: 'issue', grid: 'grid-05', input: { source: 'resident', category: '绿化', description: '花坛损坏' } }, await as('admin'))).body.workflowId as string;
    await eventually(async () => (await detail(target)).history?.length >= 1 && (await detail(other)).history?.length >= 1);
    expect((await h.send(target, { type: 'ACCEPT' }, 'm-grid-12-worker')).status).toBe(200);
    for (const [to, reason] of [
      [target, 'is not for the ' + key + ' process'],
      [other, 'belongs to grid-12 and may not touch the issue process of another grid'],
    ]) {
      const sender = (await h.call('POST', '/api/processes', { definition: key, grid: 'grid-12', businessKey: `grid-12/${to}` }, await as('admin'))).body.workflowId as string;
      await eventually(async () => (await detail(sender)).history?.length >= 1);
      expect((await h.send(sender, { type: 'SEND', data: { to } }, 'm-grid-12-worker')).status).toBe(200);
      const refused = await eventually(async () => (await detail(sender)).history.find((x: { event: string }) => x.event === '@refused:ESCALATE') ?? false);
      expect(refused.data.to).toBe(to);
      expect(refused.data.reason).toContain(reason);
      // Nothing of the other grid's issue (not even its state) is in the reason.
      if (to === other) expect(refused.data.reason).not.toMatch(/reported|triage|state/);
    }
    expect(await history(target)).toEqual(['@start', 'ACCEPT']);
    expect(await history(other)).toEqual(['@start']);
  });

  test('business keys are the server\'s: no other grid\'s key, no day outside the window, no prefilled summary', async () => {
    const worker = await as('worker');
    const tomorrow = addDays(localDate(Date.now()), 1);
    const squat = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, businessKey: `grid-05/${tomorrow}` }, worker);
    expect(squat.status).toBe(400);
    expect(squat.body.errors).toEqual([expect.objectContaining({ path: 'businessKey', message: expect.stringContaining('renders its business key from "{grid}/{day}"') })]);
    const far = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, input: { date: addDays(tomorrow, 5) } }, worker);
    expect(far.status).toBe(400);
    expect(far.body.errors[0].path).toBe('input.date');
    const summary = await h.call('POST', '/api/processes', { definition: 'weekly-report', grid, input: { summary: { patrolsCompleted: 7 } } }, worker);
    expect(summary.status).toBe(400);
    expect(summary.body.errors[0]).toMatchObject({ path: 'input.summary' });
    const issueKey = await h.call('POST', '/api/processes', { definition: 'issue', grid, businessKey: '2026-000004', input: { source: 'resident', category: 'x', description: 'y' } }, worker);
    expect(issueKey.status).toBe(400);
    // Nothing was started by any of them.
    const count = await h.services.orm.em.fork().getConnection().execute<{ n: string }[]>(`select count(*) as n from process_instance where workflow_id = ?`, [`daily-patrol/grid-05/${tomorrow}`]);
    expect(Number(count[0].n)).toBe(0);
  });

  test('an idempotent start shows the existing process only to someone who may read it', async () => {
    const key = `free-key-${Date.now().toString(36)}`;
    const doc = {
      key,
      title: 'free key',
      grid: 'required',
      machine: { id: key, initial: 'open', states: { open: { meta: { task: { role: 'grid-worker', title: 't' } }, on: { DONE: 'done' } }, done: { type: 'final' } } },
    };
    expect((await h.call('POST', '/api/definitions', doc)).status).toBe(201);
    expect((await h.call('POST', '/api/processes', { definition: key, grid, businessKey: 'shared' }, await as('worker'))).status).toBe(201);
    const other = await h.call('POST', '/api/processes', { definition: key, grid: 'grid-05', businessKey: 'shared' }, await as('worker-05'));
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).not.toContain('grid-03');
    expect((await h.call('POST', '/api/processes', { definition: key, grid, businessKey: 'shared' }, await as('leader'))).status).toBe(200);
  });

  test('an extension is asked only before the due time', async () => {
    const id = (await h.call('POST', '/api/processes', { definition: 'issue', grid, input: { source: 'resident', category: '设施', description: '井盖松动' } }, await as('worker'))).body.workflowId as string;
    await eventually(async () => (await detail(id)).history?.length >= 1);
    await act(id, 'worker', 'ACCEPT');
    await act(id, 'worker', 'NEEDS_DELIBERATION');
    // Decided with a due date already past: the task is late from the start.
    await act(id, 'leader', 'DECIDE', { plan: '更换井盖', owner: { kind: 'grid', name: grid }, due: addDays(localDate(Date.now()), -1) });
    const before = await sent(id);
    const late = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: 'EXTEND', data: { due: addDays(localDate(Date.now()), 5), reason: '补救' } }, await as('worker'));
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/must be asked before the task's due time .*; it is late now, and lateness stands/);
    expect(await sent(id)).toEqual(before);
  });
});

describe('holes a review found, closed', () => {
  async function inHandling(g: string): Promise<string> {
    const id = (await h.call('POST', '/api/processes', { definition: 'issue', grid: g, input: { source: 'resident', category: '设施维修', description: '路灯不亮' } })).body.workflowId as string;
    await eventually(async () => (await detail(id)).history?.length >= 1);
    expect((await h.send(id, { type: 'ACCEPT' }, `m-${g}-worker`)).status).toBe(200);
    expect((await h.send(id, { type: 'HANDLE_IN_GRID' }, `m-${g}-worker`)).status).toBe(200);
    return id;
  }
  const task = (id: string, state: string) => `/api/tasks/${enc(`${id}#${state}`)}`;

  test('holding a task lends its role only: a worker cannot claim the handling task, nor approve an extension by holding it', async () => {
    const id = await inHandling('grid-07');
    const claim = await h.as('m-grid-07-worker').call('POST', `${task(id, 'handling')}/claim`);
    expect(claim.status).toBe(403);
    expect(claim.body.detail).toContain('a grid leader or a manager may hand it to you');
    // Handed the task by the leader, the worker still may not approve the part-time member's request.
    expect((await h.as('m-grid-07-leader').call('POST', `${task(id, 'handling')}/reassign`, { memberId: 'm-grid-07-worker' })).status).toBe(200);
    expect((await h.send(id, { type: 'EXTEND', data: { due: addDays(localDate(Date.now()), 30), reason: '等待配件' } }, 'm-grid-07-part-time-1')).status).toBe(200);
    const approve = await h.send(id, { type: 'APPROVE_EXTENSION' }, 'm-grid-07-worker');
    expect(approve.status).toBe(403);
    expect((await h.send(id, { type: 'ESCALATE' }, 'm-grid-07-worker')).status).toBe(403);
  });

  test('a grid leader cannot take the community\'s decision by handing its task to themselves', async () => {
    const id = await inHandling('grid-08');
    expect((await h.send(id, { type: 'ESCALATE' }, 'm-grid-08-leader')).body.state).toBe('community-review');
    const grab = await h.as('m-grid-08-leader').call('POST', `${task(id, 'community-review')}/reassign`, { memberId: 'm-grid-08-leader' });
    expect(grab.status).toBe(403);
    expect(grab.body.detail).toContain('a grid leader hands on grid tasks only');
    expect((await h.send(id, { type: 'DISPATCH', data: { plan: 'x', owner: { kind: 'grid', name: 'grid-08' } } }, 'm-grid-08-leader')).status).toBe(403);
    // Nor send it on to the street: from the community on, that is the community's.
    expect((await h.send(id, { type: 'ESCALATE' }, 'm-grid-08-leader')).status).toBe(403);
  });

  test('a claim lapses when its state is left: work that comes back is free again', async () => {
    const id = await inHandling('grid-09');
    expect((await h.as('m-grid-09-leader').call('POST', `${task(id, 'handling')}/reassign`, { memberId: 'm-grid-09-part-time-2' })).body).toMatchObject({ assignee: 'm-grid-09-part-time-2', claimed: true });
    expect((await h.send(id, { type: 'RESOLVE', data: { result: '已修' } }, 'm-grid-09-worker')).status).toBe(200);
    expect((await h.send(id, { type: 'VERIFY_FAIL', data: { note: '仍不亮' } }, 'm-grid-09-leader')).body.state).toBe('handling');
    const again = await eventually(async () => {
      const r = await h.as('m-grid-09-leader').call('GET', `/api/tasks?grid=grid-09`);
      return r.body.items?.find((t: { id: string; state: string }) => t.id === `${id}#handling`);
    });
    expect(again).toMatchObject({ claimed: false, assignee: 'm-grid-09-worker' });
  });

  test('a token of a member who has left speaks for nobody', async () => {
    const token = await h.as('m-grid-10-police').token();
    expect((await h.call('GET', '/api/tasks', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    const conn = h.services.orm.em.fork().getConnection();
    await conn.execute(`update member set active = false where id = 'm-grid-10-police'`);
    try {
      expect((await h.call('GET', '/api/tasks', undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    } finally {
      await conn.execute(`update member set active = true where id = 'm-grid-10-police'`);
    }
  });

  test('a raw event signal to a workflow is dropped: events come through the API with their sender', async () => {
    const id = await inHandling('grid-11');
    const { eventSignal } = await import('../../workflows/messages');
    await h.services.client.workflow.getHandle(id).signal(eventSignal, { type: 'RESOLVE', data: { result: 'forged' }, by: { kind: 'person', id: 'x', role: 'grid-leader', grids: 'all' } });
    // A real event after it is applied; the forged one never is.
    expect((await h.send(id, { type: 'PROGRESS', data: { note: '排查中' } }, 'm-grid-11-worker')).body.state).toBe('handling');
    expect((await detail(id)).history.map((x: { event: string }) => x.event)).toEqual(['@start', 'ACCEPT', 'HANDLE_IN_GRID', 'PROGRESS']);
  });
});

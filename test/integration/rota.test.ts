import { addDays, localDate } from '../../engine/time';
import { enc, eventually, startHarness, type Harness } from '../support/harness';

/**
 * The duty rota through the API with real Temporal and PostgreSQL: a worker on leave hands the
 * day's patrol to the stand-in, who walks it; who may edit the rota, as a matrix; the audit log;
 * and a day nobody was on duty that is not counted as a missed patrol.
 *
 * Grid-09's rota is written only for days far ahead that no other test starts work for, and
 * removed afterwards; the scoring story uses grid-06 in March 2025, a month nothing else touches.
 */
const GRID = 'grid-09';
const OTHER = 'grid-10';
const today = localDate(Date.now());
const DAY = addDays(today, 53);
const NO_ROTA_DAY = addDays(today, 54);
const MATRIX_DAY = addDays(today, 55);
const worker = `m-${GRID}-worker`;
const standIn = `m-${GRID}-part-time-1`;
const notStandingIn = `m-${GRID}-part-time-2`;
const leader = `m-${GRID}-leader`;

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  // Leave the grids as other tests expect them: without a rota.
  for (const grid of [GRID, OTHER, 'grid-06']) {
    for (const member of await members(grid)) await h.call('DELETE', `/api/rota/${grid}/entries?member=${member}&from=${grid === 'grid-06' ? '2025-03-01' : DAY}&to=${grid === 'grid-06' ? '2025-03-31' : MATRIX_DAY}`);
  }
  await h?.close();
});

async function members(grid: string): Promise<string[]> {
  return ((await h.call('GET', `/api/grids/${grid}`)).body.members as { id: string }[]).map((m) => m.id);
}

async function startPatrol(grid: string, day: string): Promise<string> {
  const res = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, input: { date: day } });
  expect([200, 201]).toContain(res.status);
  const id = res.body.workflowId as string;
  await eventually(async () => (await h.call('GET', `/api/processes/${enc(id)}`)).status === 200);
  return id;
}

async function myTasks(member: string) {
  const res = await h.as(member).call('GET', '/api/tasks?assignee=me');
  expect(res.status).toBe(200);
  return res.body.items as { id: string; assignee: string | null; rota?: unknown; events: string[] }[];
}

async function auditOf(grid: string, day: string) {
  return h.services.orm.em
    .fork()
    .getConnection()
    .execute<{ actor: string; action: string; subject: string; data: Record<string, unknown> }[]>(`select actor, action, subject, data from audit_log where subject like ? order by id`, [`rota/${grid}/${day}/%`]);
}

describe('a worker on leave with a stand-in', () => {
  let patrol: string;

  test('the grid leader records the leave with a stand-in; the day shows who is away, who is on duty and who takes the worker\'s tasks', async () => {
    const res = await h.as(leader).call('PUT', `/api/rota/${GRID}/entries`, { member: worker, from: DAY, kind: 'leave', standIn, note: '病假' });
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(1);
    expect(res.body.days).toEqual([
      expect.objectContaining({
        day: DAY,
        entries: [expect.objectContaining({ member: worker, kind: 'leave', standIn, note: '病假', updatedBy: leader })],
        away: [{ member: worker, kind: 'leave', standIn }],
        onDuty: [standIn],
        worker: { member: standIn, why: 'stand-in', for: worker },
      }),
    ]);
    // The same again changes nothing and writes no second audit row.
    expect((await h.as(leader).call('PUT', `/api/rota/${GRID}/entries`, { member: worker, from: DAY, kind: 'leave', standIn, note: '病假' })).body.changed).toBe(0);
    expect(await auditOf(GRID, DAY)).toEqual([
      { actor: leader, action: 'rota.set', subject: `rota/${GRID}/${DAY}/${worker}`, data: { grid: GRID, day: DAY, member: worker, before: null, after: { kind: 'leave', standIn, note: '病假' }, by: leader } },
    ]);
  });

  test('the day\'s patrol is the stand-in\'s task, not the worker\'s', async () => {
    patrol = await startPatrol(GRID, DAY);
    const task = await eventually(async () => (await myTasks(standIn)).find((t) => t.id === `${patrol}#assigned`));
    expect(task).toMatchObject({ assignee: standIn, rota: { day: DAY, why: 'stand-in', for: worker }, events: ['START'] });
    expect((await myTasks(worker)).map((t) => t.id)).not.toContain(`${patrol}#assigned`);
    // Another part-time member has no part in it.
    expect((await myTasks(notStandingIn)).map((t) => t.id)).not.toContain(`${patrol}#assigned`);
    const detail = await h.as(standIn).call('GET', `/api/processes/${enc(patrol)}`);
    expect(detail.body.youMaySend).toEqual(['START']);
  });

  test('a part-time member who is not standing in may not start it, and is told who may', async () => {
    const res = await h.send(patrol, { type: 'START' }, notStandingIn);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(`event "START" in state "assigned" of daily-patrol may be sent by grid-worker of ${GRID}, or whoever holds the task; you are grid-part-time of ${GRID}`);
  });

  test('the stand-in starts it from the task list, checks in and submits; the history names the stand-in', async () => {
    const start = await h.as(standIn).call('POST', `/api/tasks/${enc(`${patrol}#assigned`)}/complete`, { type: 'START' });
    expect(start.status).toBe(200);
    expect(start.body.state).toBe('patrolling');
    expect((await h.send(patrol, { type: 'CHECK_IN', data: { site: '人行楼', households: 6 } }, standIn)).status).toBe(200);
    const submit = await h.send(patrol, { type: 'SUBMIT', data: { summary: '代岗巡查完成' } }, standIn);
    expect(submit.status).toBe(200);
    expect(submit.body.state).toBe('completed');
    const history = (await h.call('GET', `/api/processes/${enc(patrol)}`)).body.history as { event: string; actor: string }[];
    expect(history.filter((s) => !s.event.startsWith('@')).map((s) => `${s.event}:${s.actor}`)).toEqual([`START:${standIn}`, `CHECK_IN:${standIn}`, `SUBMIT:${standIn}`]);
  });

  test('as after a reassignment, the worker on leave keeps what their role allows; without a rota the stand-in gets nothing', async () => {
    const plain = await startPatrol(GRID, NO_ROTA_DAY);
    const task = await eventually(async () => (await h.as(leader).call('GET', `/api/tasks?grid=${GRID}`)).body.items.find((t: { id: string }) => t.id === `${plain}#assigned`));
    expect(task).toMatchObject({ assignee: worker });
    expect(task.rota).toBeUndefined();
    expect((await h.send(plain, { type: 'START' }, standIn)).status).toBe(403);
    // The rota lends the stand-in the task; it takes nothing from the worker (as a reassignment does not).
    expect((await h.as(leader).call('PUT', `/api/rota/${GRID}/entries`, { member: worker, from: NO_ROTA_DAY, kind: 'rest', standIn })).status).toBe(200);
    expect((await h.as(worker).call('GET', `/api/processes/${enc(plain)}`)).body.youMaySend).toEqual(['START']);
    expect((await h.as(standIn).call('GET', `/api/processes/${enc(plain)}`)).body.youMaySend).toEqual(['START']);
    expect((await h.as(leader).call('DELETE', `/api/rota/${GRID}/entries?member=${worker}&from=${NO_ROTA_DAY}`)).body.changed).toBe(1);
    expect((await h.send(plain, { type: 'START' }, standIn)).status).toBe(403);
    await h.call('POST', `/api/processes/${enc(plain)}/cancel`, { reason: 'rota test done' });
  });

  test('a stand-in from another grid is refused (400) and one who is away that day is a conflict (409); nothing changes', async () => {
    const stranger = await h.as(leader).call('PUT', `/api/rota/${GRID}/entries`, { member: notStandingIn, from: DAY, kind: 'rest', standIn: 'm-grid-03-worker' });
    expect(stranger.status).toBe(400);
    expect(stranger.body.errors).toEqual([{ path: 'standIn', message: expect.stringMatching(new RegExp(`^${DAY}: "m-grid-03-worker" is not an active member of ${GRID}; a stand-in is one of its staff: `)) }]);
    // The stand-in of the worker's leave cannot go away that day while they stand in.
    const away = await h.as(leader).call('PUT', `/api/rota/${GRID}/entries`, { member: standIn, from: DAY, kind: 'rest' });
    expect(away.status).toBe(409);
    expect(away.body.detail).toBe(`the rota was not changed: ${DAY}: "${standIn}" stands in for ${worker} on ${DAY}; name another stand-in for them first`);
    const day = (await h.as(leader).call('GET', `/api/rota/${GRID}?from=${DAY}&to=${DAY}`)).body.days[0];
    expect(day.entries.map((e: { member: string }) => e.member)).toEqual([worker]);
  });
});

describe('who may edit the rota', () => {
  // Tokens of grid-09's staff, a manager and ops; each acts on its own grid (grid-09) and on another (grid-10).
  const callers = {
    manager: () => h.as('m-community-manager-1'),
    'grid-leader': () => h.as(leader),
    'grid-worker': () => h.as(worker),
    'part-time': () => h.as(standIn),
  } as const;
  const actions: Record<string, (grid: string) => [method: string, path: string, body: unknown]> = {
    read: (grid) => ['GET', `/api/rota/${grid}?from=${MATRIX_DAY}&to=${MATRIX_DAY}`, undefined],
    set: (grid) => ['PUT', `/api/rota/${grid}/entries`, { member: `m-${grid}-part-time-1`, from: MATRIX_DAY, kind: 'duty' }],
    clear: (grid) => ['DELETE', `/api/rota/${grid}/entries?member=m-${grid}-part-time-1&from=${MATRIX_DAY}`, undefined],
  };
  const may = (role: string, own: boolean, action: string) => role === 'manager' || (role === 'grid-leader' && own) || (action === 'read' && own);

  test('manager anywhere, a grid leader in their own grid; everyone else is refused with who may, and nothing is written', async () => {
    const opsToken = (await h.call('POST', '/api/tokens', { role: 'ops', name: 'rota-ops' })).body.token as string;
    const rows: Record<string, Record<string, string>> = {};
    const wrong: string[] = [];
    for (const [role, as] of [...Object.entries(callers), ['ops', null] as const]) {
      for (const own of [true, false]) {
        const grid = own ? GRID : OTHER;
        for (const [action, request] of Object.entries(actions)) {
          const [method, path, body] = request(grid);
          const res = as ? await as().call(method, path, body) : await h.call(method, path, body, { authorization: `Bearer ${opsToken}` });
          const allowed = role === 'ops' ? false : may(role, own, action);
          (rows[`${role} ${own ? 'own grid' : 'other grid'}`] ??= {})[action] = String(res.status);
          if (allowed ? res.status !== 200 : res.status !== 403) wrong.push(`${role} ${action} ${grid}: ${res.status} ${JSON.stringify(res.body)}`);
          if (!allowed && action !== 'read') {
            expect(res.body.detail).toMatch(new RegExp(`^the rota of ${grid} is edited by a manager, or ${grid}'s grid leader \\(m-${grid}-leader\\); you are `));
          }
          if (!allowed && action === 'read') expect(res.body.detail).toMatch(new RegExp(`^the rota of ${grid} is for managers and ${grid}'s own staff; you are `));
        }
      }
    }
    console.table(rows);
    expect(wrong).toEqual([]);
    // Only the allowed edits left audit rows: set and clear by the manager in both grids, by the leader in their own.
    const audit = [...(await auditOf(GRID, MATRIX_DAY)), ...(await auditOf(OTHER, MATRIX_DAY))].map((a) => `${a.actor} ${a.action} ${a.subject}`);
    expect(audit).toEqual([
      `m-community-manager-1 rota.set rota/${GRID}/${MATRIX_DAY}/m-${GRID}-part-time-1`,
      `m-community-manager-1 rota.clear rota/${GRID}/${MATRIX_DAY}/m-${GRID}-part-time-1`,
      `${leader} rota.set rota/${GRID}/${MATRIX_DAY}/m-${GRID}-part-time-1`,
      `${leader} rota.clear rota/${GRID}/${MATRIX_DAY}/m-${GRID}-part-time-1`,
      `m-community-manager-1 rota.set rota/${OTHER}/${MATRIX_DAY}/m-${OTHER}-part-time-1`,
      `m-community-manager-1 rota.clear rota/${OTHER}/${MATRIX_DAY}/m-${OTHER}-part-time-1`,
    ]);
    expect((await h.call('GET', `/api/rota/${GRID}?from=${MATRIX_DAY}&to=${MATRIX_DAY}`)).body.days[0].entries).toEqual([]);
  });

  test('a malformed rota change names the field and what is valid', async () => {
    const res = await h.as(leader).call('PUT', `/api/rota/${GRID}/entries`, { member: worker, from: DAY, kind: 'holiday' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'kind', message: '"holiday" is not a rota kind; use duty (值班), rest (轮休) or leave (请假)' }]);
    const long = await h.as(leader).call('GET', `/api/rota/${GRID}?from=${DAY}&to=${addDays(DAY, 70)}`);
    expect(long.status).toBe(400);
    expect(long.body.detail).toMatch(/is more than 62 days; ask for at most 62/);
    expect((await h.as(leader).call('GET', '/api/rota/grid-99')).status).toBe(404);
  });
});

describe('the monthly score and a day nobody was on duty', () => {
  const grid = 'grid-06';
  const unstaffed = '2025-03-11';
  const coveredDay = '2025-03-12';
  const plainDay = '2025-03-13';
  const gridWorker = `m-${grid}-worker`;
  const cover = `m-${grid}-part-time-1`;

  test('missed patrols count on the day with a stand-in and the day without a rota, not on the day nobody was on duty; the stand-in got that day\'s reminders', async () => {
    const manager = h.as('m-community-manager-1');
    expect((await manager.call('PUT', `/api/rota/${grid}/entries`, { member: gridWorker, from: unstaffed, kind: 'leave', note: '年假' })).status).toBe(200);
    expect((await manager.call('PUT', `/api/rota/${grid}/entries`, { member: gridWorker, from: coveredDay, kind: 'leave', standIn: cover })).status).toBe(200);
    const week = (await manager.call('GET', `/api/rota/${grid}?from=${unstaffed}&to=${plainDay}`)).body.days;
    expect(week.map((d: { worker: { why: string } }) => d.worker.why)).toEqual(['nobody', 'stand-in', 'no-rota']);
    // Patrols of days long past: their timers fire at once and each ends missed (nobody checked in).
    const ids: string[] = [];
    for (const day of [unstaffed, coveredDay, plainDay]) ids.push(await startPatrol(grid, day));
    await eventually(async () => {
      const states = await Promise.all(ids.map(async (id) => (await h.call('GET', `/api/processes/${enc(id)}`)).body.state));
      return states.every((s) => s === 'missed');
    }, 30_000, 250);
    const evaluation = await h.call('GET', '/api/evaluations/2025-03');
    expect(evaluation.status).toBe(200);
    const row = evaluation.body.grids.find((g: { grid: string }) => g.grid === grid);
    expect(row.indicators).toMatchObject({ patrols: 2, patrolsMissed: 2, patrolsNobodyOnDuty: 1, patrolRate: 0 });
    // The worker's reminders of the covered day went to the stand-in; of the other days, to the worker.
    const notices = async (member: string) =>
      (await h.services.orm.em.fork().getConnection().execute<{ workflow_id: string }[]>(`select workflow_id from notification where member_id = ? and role = 'grid-worker' and workflow_id in (?, ?, ?)`, [member, ...ids])).map((n) => n.workflow_id);
    expect(new Set(await notices(cover))).toEqual(new Set([ids[1]]));
    expect(new Set(await notices(gridWorker))).toEqual(new Set([ids[0], ids[2]]));
  });
});

import { addDays, localDate } from '../../engine/time';
import { enc, eventually, startHarness, type Harness } from '../support/harness';

// A day ahead of today, so the patrol's wall-clock reminders (14:00, 17:00, 18:00, 23:59) stay in the future.
const day = addDays(localDate(Date.now()), 2);
const grid = 'grid-01';
const id = `daily-patrol/${grid}/${day}`;

let h: Harness;

beforeAll(async () => {
  // Links to the Temporal UI appear when its address is configured.
  process.env.TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function detail() {
  const res = await h.call('GET', `/api/processes/${enc(id)}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function readModelState() {
  const rows = await h.services.orm.em.fork().getConnection().execute<{ state: string; last_seq: number }[]>(
    'select state, last_seq from process_instance where workflow_id = ?',
    [id],
  );
  return rows[0];
}

describe('a daily patrol driven through the API', () => {
  test('starting a patrol for grid-01 gives its business key as workflow id and the assigned state', async () => {
    const res = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, input: { date: day } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ workflowId: id, definition: { key: 'daily-patrol', version: expect.any(Number) }, state: 'assigned', status: 'running' });
    expect(res.headers.get('location')).toBe(`/api/processes/${enc(id)}`);
  });

  test('starting it again with the same business key is the same run, answered with 200', async () => {
    const res = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid, input: { date: day } });
    expect(res.status).toBe(200);
    expect(res.body.workflowId).toBe(id);
    const runs = h.services.client.workflow.list({ query: `WorkflowId = '${id}'` });
    let count = 0;
    for await (const _ of runs) count++;
    expect(count).toBe(1);
  });

  test('the new patrol shows its task, accepted events, deadlines and first history entry', async () => {
    const d = await eventually(async () => {
      const body = await detail();
      return body.history.length >= 1 && body;
    });
    expect(d).toMatchObject({ workflowId: id, definition: 'daily-patrol', grid, status: 'running', state: 'assigned', accepts: ['START'], overdue: false });
    expect(d.tasks).toEqual([expect.objectContaining({ role: 'grid-worker', title: '开始今日网格巡查', dueAt: `${day}T18:00:00.000+08:00`, events: ['START'] })]);
    expect(d.deadlines.map((x: { kind: string; id: string; at: string }) => `${x.kind}:${x.id}@${x.at.slice(11, 16)}`)).toEqual([
      'reminder:not-started@14:00',
      'reminder:not-submitted@17:00',
      'timer:due@18:00',
      'escalation:overdue@18:00',
      'timer:day-end@23:59',
    ]);
    expect(d.history).toEqual([expect.objectContaining({ seq: 1, event: '@start', from: '', to: 'assigned' })]);
  });

  test('an event the state does not accept gets 409 listing the accepted events, and changes nothing', async () => {
    const before = await readModelState();
    const res = await h.send(id, { type: 'SUBMIT' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 409, title: 'Conflict', accepts: ['START'] });
    expect(res.body.detail).toBe('event "SUBMIT" is not accepted in state "assigned"; accepted: START');
    expect(await readModelState()).toEqual(before);
    expect((await detail()).history).toHaveLength(1);
  });

  test('an event sent by the definition\'s own timer cannot be sent by a client: 403 saying the engine sends it', async () => {
    const res = await h.send(id, { type: 'DAY_END' });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('event "DAY_END" is sent by the engine (a timer or a fetch), never by a person or another process');
  });

  test('malformed bodies get 400 with the path of what is wrong, and change nothing', async () => {
    const before = await readModelState();
    const cases: [unknown, string][] = [
      ['{"type": "START"', '$'],
      [{ type: 'start' }, 'type'],
      [{ type: 'START', extra: 1 }, 'extra'],
      [{ type: 'START', data: 'x' }, 'data'],
    ];
    for (const [body, pathHint] of cases) {
      const res = await h.send(id, body);
      expect(res.status).toBe(400);
      expect(res.body.title).toBe('Bad Request');
      if (pathHint !== '$') expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(pathHint);
    }
    expect(await readModelState()).toEqual(before);
  });

  test('START moves the patrol to patrolling, visible in GET and the read model at once', async () => {
    const res = await h.send(id, { type: 'START', requestId: 'start-1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'patrolling', status: 'running' });
    const d = await detail();
    expect(d.state).toBe('patrolling');
    expect(d.accepts).toEqual(['CHECK_IN', 'REPORT_ISSUE', 'SUBMIT']);
    expect(d.history.at(-1)).toMatchObject({ event: 'START', from: 'assigned', to: 'patrolling', actor: 'm-grid-01-worker' });
    expect(await readModelState()).toMatchObject({ state: 'patrolling' });
  });

  test('the same requestId sent twice is applied once', async () => {
    const again = await h.send(id, { type: 'START', requestId: 'start-1' });
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('patrolling');
    expect((await detail()).history.filter((x: { event: string }) => x.event === 'START')).toHaveLength(1);
  });

  test('SUBMIT before any check-in is refused with the rule it breaks', async () => {
    const res = await h.send(id, { type: 'SUBMIT' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe('event "SUBMIT" is refused in state "patrolling": requires context.checkIns >= 1');
  });

  test('CHECK_IN with invalid data gets 400 naming the field', async () => {
    const res = await h.send(id, { type: 'CHECK_IN', data: { households: -1 } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'data.site', message: '"site" is required' },
        { path: 'data.households', message: 'must be at least 0' },
      ]),
    );
  });

  test('CHECK_IN is repeatable and recorded; SUBMIT completes the patrol', async () => {
    for (const [site, households] of [['信达家园', 12], ['新西南平房', 8]] as const) {
      const res = await h.send(id, { type: 'CHECK_IN', data: { site, households } });
      expect(res.status).toBe(200);
      expect(res.body.state).toBe('patrolling');
    }
    const records = await h.services.orm.em.fork().getConnection().execute<{ kind: string; data: { site: string } }[]>(
      'select kind, data from process_record where workflow_id = ? order by at, id',
      [id],
    );
    expect(records.map((r) => r.data.site)).toEqual(['信达家园', '新西南平房']);

    const submit = await h.send(id, { type: 'SUBMIT', data: { summary: '走访正常' } });
    expect(submit.status).toBe(200);
    expect(submit.body).toMatchObject({ state: 'completed', status: 'completed' });

    const d = await eventually(async () => {
      const body = await detail();
      return body.status === 'completed' && body;
    });
    expect(d).toMatchObject({ state: 'completed', status: 'completed', accepts: [], tasks: [], overdue: false });
    expect(d.context).toMatchObject({ checkIns: 2, householdsVisited: 20, sites: ['信达家园', '新西南平房'], late: false });
    expect(d.history.map((x: { event: string; to: string }) => `${x.event}->${x.to}`)).toEqual([
      '@start->assigned',
      'START->patrolling',
      'CHECK_IN->patrolling',
      'CHECK_IN->patrolling',
      'SUBMIT->completed',
    ]);
  });

  test('the list filters by start and update time ranges, and the detail links to the Temporal UI', async () => {
    const today = localDate(Date.now());
    const inRange = await h.call('GET', `/api/processes?definition=daily-patrol&grid=${grid}&startedFrom=${today}`);
    expect(inRange.body.items.map((x: { workflowId: string }) => x.workflowId)).toContain(id);
    const before = await h.call('GET', `/api/processes?definition=daily-patrol&grid=${grid}&startedTo=2000-01-01`);
    expect(before.body.items).toEqual([]);
    const updated = await h.call('GET', `/api/processes?grid=${grid}&updatedFrom=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
    expect(updated.body.items.map((x: { workflowId: string }) => x.workflowId)).toContain(id);
    const bad = await h.call('GET', '/api/processes?startedFrom=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'startedFrom' })]);
    expect((await detail()).temporalUrl).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/${enc(id)}`);
  });

  test('an ended patrol takes no more events (409), and the list shows it completed', async () => {
    const res = await h.send(id, { type: 'CHECK_IN', data: { site: 'x' } });
    expect(res.status).toBe(409);
    expect(res.body.accepts).toEqual([]);
    const list = await h.call('GET', `/api/processes?definition=daily-patrol&grid=${grid}&status=completed`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: { workflowId: string }) => x.workflowId)).toContain(id);

  });
});

describe('requests the API refuses', () => {
  test('an unknown definition gets 404 naming the known ones', async () => {
    const res = await h.call('POST', '/api/processes', { definition: 'no-such-process', grid });
    expect(res.status).toBe(404);
    expect(res.body.detail).toMatch(/definition "no-such-process" does not exist; known: .*daily-patrol/);
  });

  test('a patrol without a grid, or with bad input, gets 400 and starts nothing', async () => {
    const missingGrid = await h.call('POST', '/api/processes', { definition: 'daily-patrol' });
    expect(missingGrid.status).toBe(400);
    expect(missingGrid.body.errors).toEqual([expect.objectContaining({ path: 'grid' })]);
    const badDate = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-02', input: { date: '2026-02-30' } });
    expect(badDate.status).toBe(400);
    expect(badDate.body.errors).toEqual([{ path: 'input.date', message: '"2026-02-30" is not a date; use YYYY-MM-DD' }]);
    const later = addDays(day, 5);
    const unknownField = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-02', input: { date: later }, status: 'completed' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors).toEqual([{ path: 'status', message: 'unknown field(s) "status"; remove them' }]);
    const unknownGrid = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'grid-13', input: { date: later } });
    expect(unknownGrid.status).toBe(400);
    expect(unknownGrid.body.detail).toContain('grid "grid-13" does not exist');
    const rows = await h.services.orm.em.fork().getConnection().execute(`select 1 from process_instance where workflow_id like ?`, [`daily-patrol/%/${later}`]);
    expect(rows).toHaveLength(0);
    expect((await h.call('GET', `/api/processes/${enc(`daily-patrol/grid-02/${later}`)}`)).status).toBe(404);
  });

  test('an unknown process gets 404 for GET and for events', async () => {
    expect((await h.call('GET', `/api/processes/${enc('daily-patrol/grid-09/1999-01-01')}`)).status).toBe(404);
    expect((await h.send('daily-patrol/grid-09/1999-01-01', { type: 'START' })).status).toBe(404);
  });

  test('no token gets 401 and a wrong token gets 401, as problem+json', async () => {
    const none = await fetch(`${h.baseUrl}/api/processes`);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const wrong = await h.call('GET', '/api/processes', undefined, { authorization: 'Bearer wrong-token' });
    expect(wrong.status).toBe(401);
  });

  test('health, readiness and the OpenAPI document answer without a token', async () => {
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(await ready.json()).toEqual({ postgres: 'ok', temporal: 'ok' });
    const doc = (await (await fetch(`${h.baseUrl}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/processes', '/api/processes/{workflowId}', '/api/processes/{workflowId}/events']));
  });

  test('an unknown route is a 404 problem, never an HTML page', async () => {
    const res = await h.call('GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});

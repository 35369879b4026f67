import { addDays, localDate } from '../../engine/time';
import { freePort } from '../../infra/postgres';
import { enc, eventually, harnessForFile } from '../support/harness';
import { spawnEntry } from '../support/processes';

const h = harnessForFile();

test('the same start and the same event sent many times at once make one run and one step', async () => {
  const day = addDays(localDate(Date.now()), 30);
  const body = { definition: 'daily-patrol', grid: 'grid-12', input: { date: day } };
  const starts = await Promise.all(Array.from({ length: 10 }, () => h.call('POST', '/api/processes', body)));
  const id = `daily-patrol/grid-12/${day}`;
  expect(starts.map((s) => s.body.workflowId)).toEqual(Array(10).fill(id));
  expect(starts.filter((s) => s.status === 201)).toHaveLength(1);
  expect(starts.filter((s) => s.status === 200)).toHaveLength(9);

  const events = await Promise.all(Array.from({ length: 10 }, () => h.send(id, { type: 'START', requestId: 'start-once' }, 'm-grid-12-worker')));
  expect(events.map((e) => e.status)).toEqual(Array(10).fill(200));
  expect(new Set(events.map((e) => e.body.seq)).size).toBe(1);
  // Concurrent retries of one check-in (same request id) are one check-in.
  const raw = await Promise.all(Array.from({ length: 5 }, () => h.send(id, { type: 'CHECK_IN', data: { site: '新西南平房' }, requestId: 'check-in-once' }, 'm-grid-12-worker')));
  expect(raw.map((e) => e.status)).toEqual(Array(5).fill(200));
  const d = await eventually(async () => {
    const r = await h.call('GET', `/api/processes/${enc(id)}`);
    return r.body.history?.length >= 3 && r.body;
  });
  expect(d.history.map((x: { event: string }) => x.event)).toEqual(['@start', 'START', 'CHECK_IN']);
  expect(d.context.checkIns).toBe(1);
  const runs: string[] = [];
  for await (const w of h.services.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.runId);
  expect(runs).toHaveLength(1);
});

test('SIGTERM drains the API: a request in flight is answered, then the process exits', async () => {
  const port = await freePort();
  const api = spawnEntry('api/main.ts', {
    env: { PORT: String(port), GRIDFLOW_TASK_QUEUE: h.taskQueue },
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => api.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => api.on('message', (m: { type?: string }) => m?.type === 'listening' && resolve()));
  const day = addDays(localDate(Date.now()), 31);
  const started = await fetch(`http://127.0.0.1:${port}/api/processes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ definition: 'daily-patrol', grid: 'grid-11', input: { date: day } }),
  });
  expect(started.status).toBe(201);
  // An event waits for the workflow's answer (a few hundred ms); SIGTERM arrives meanwhile.
  const worker = await h.as('m-grid-11-worker').token();
  const inFlight = fetch(`http://127.0.0.1:${port}/api/processes/${enc(`daily-patrol/grid-11/${day}`)}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${worker}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'START' }),
  });
  await new Promise((r) => setTimeout(r, 30));
  api.kill('SIGTERM');
  const res = await inFlight;
  expect(res.status).toBe(200);
  expect(((await res.json()) as { state: string }).state).toBe('patrolling');
  expect(await exited).toBe(0);
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
});

import type { ChildProcess } from 'node:child_process';
import { validateDocument } from '../../engine/validate';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { spawnWorker, stopProcess } from '../support/processes';
import { shortPatrol } from '../support/test-definitions';

/** A patrol with short timers, so a test can watch them fire across a worker crash. */
const patrol = shortPatrol({
  key: 'test-short-patrol',
  title: 'Short patrol (test)',
  submitTitle: 'Check in and submit',
  within: '8s',
  templates: { nudge: { title: '{{context.grid}} please submit', body: 'checked in {{context.checkIns}} times' } },
  reminders: [{ id: 'nudge', when: { after: '3s' }, to: 'grid-worker', template: 'nudge' }],
});

function startWorkerProcess(taskQueue: string): ChildProcess {
  const child = spawnWorker(taskQueue, ['ignore', 'pipe', 'pipe']);
  child.stderr?.on('data', (b: Buffer) => process.env.GRIDFLOW_TEST_VERBOSE && process.stderr.write(b));
  return child;
}

const kill9 = (child: ChildProcess) => stopProcess(child, 'SIGKILL');

let h: Harness;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  const checked = validateDocument(patrol);
  expect(checked.errors).toEqual([]);
  h = await startHarness({ worker: false });
  await h.services.definitions.publish(patrol, 'test', 'worker restart test');
});

afterAll(async () => {
  if (worker) await kill9(worker);
  await h?.close();
});

test('when the worker is killed mid-patrol, a new worker continues it and its timers still fire', async () => {
  worker = startWorkerProcess(h.taskQueue);
  const started = await h.call('POST', '/api/processes', { definition: 'test-short-patrol', grid: 'grid-07', businessKey: `grid-07/${Date.now()}` });
  expect(started.status).toBe(201);
  const id: string = started.body.workflowId;

  // Generous time for the first worker to boot (ts-node) and answer.
  const start = await eventually(async () => {
    const r = await h.send(id, { type: 'START', requestId: 'start' });
    return r.status === 200 && r.body;
  }, 60_000, 500);
  expect(start.state).toBe('patrolling');
  const one = await h.send(id, { type: 'CHECK_IN' });
  expect(one).toMatchObject({ status: 200, body: { state: 'patrolling' } });

  await kill9(worker);
  worker = undefined;
  const killedAt = Date.now();

  // While no worker runs, the process is still there and its read model still says patrolling.
  const offline = await h.call('GET', `/api/processes/${enc(id)}`);
  expect(offline.status).toBe(200);
  expect(offline.body).toMatchObject({ state: 'patrolling', live: false });

  worker = startWorkerProcess(h.taskQueue);
  // The new worker picks up where the old one stopped: the check-in count survives.
  const two = await eventually(async () => {
    const r = await h.send(id, { type: 'CHECK_IN', requestId: 'second-check-in' });
    return r.status === 200 && r.body;
  }, 60_000, 500);
  expect(two.state).toBe('patrolling');
  const live = await h.call('GET', `/api/processes/${enc(id)}`);
  expect(live.body.context.checkIns).toBe(2);

  // The 8 s timer, armed before the crash, fires under the new worker.
  const ended = await eventually(async () => {
    const r = await h.call('GET', `/api/processes/${enc(id)}`);
    return r.body.status === 'completed' && r.body;
  }, 60_000, 250);
  expect(ended.state).toBe('expired');
  const events = ended.history.map((x: { event: string; to: string; actor: string }) => `${x.event}->${x.to}`);
  // The reminder fires 3 s after START, while the worker is down or booting: where it lands among the
  // check-ins depends on timing, but it lands exactly once.
  expect(events.filter((e: string) => e !== '@reminder:nudge->patrolling')).toEqual(['@start->assigned', 'START->patrolling', 'CHECK_IN->patrolling', 'CHECK_IN->patrolling', 'EXPIRE->expired']);
  expect(events.filter((e: string) => e === '@reminder:nudge->patrolling')).toHaveLength(1);
  expect(ended.history.at(-1).actor).toBe('timer');
  // EXPIRE is due 8 s after START; it cannot have fired before the crash.
  expect(Date.parse(ended.history.at(-1).at)).toBeGreaterThan(killedAt);

  // The reminder was written exactly once, though the worker died around it.
  // ... and to the right person: grid-07's full-time worker.
  const notes = await h.services.orm.em.fork().getConnection().execute<{ title: string; member_id: string }[]>(
    'select title, member_id from notification where workflow_id = ?',
    [id],
  );
  expect(notes.map((n) => [n.title, n.member_id])).toEqual([['grid-07 please submit', 'm-grid-07-worker']]);
});

test('an event that waits for the first worker is applied after the start, not lost under it', async () => {
  // No worker runs: the workflow's first task will carry both its start and the event.
  const started = await h.call('POST', '/api/processes', { definition: 'test-short-patrol', grid: 'grid-09', businessKey: `grid-09/${Date.now()}` });
  const id: string = started.body.workflowId;
  const pending = h.send(id, { type: 'START', requestId: 'early-start' });
  await new Promise((r) => setTimeout(r, 1000));
  await h.startWorker();
  try {
    const res = await pending;
    expect(res).toMatchObject({ status: 200, body: { state: 'patrolling' } });
    const d = await h.call('GET', `/api/processes/${enc(id)}`);
    expect(d.body.state).toBe('patrolling');
    // The 3 s reminder may fire before this read on a loaded machine; it is not what this test is about.
    const steps = d.body.history.map((x: { event: string; to: string }) => `${x.event}->${x.to}`).filter((e: string) => e !== '@reminder:nudge->patrolling');
    expect(steps).toEqual(['@start->assigned', 'START->patrolling']);
  } finally {
    await h.stopWorker();
  }
});

import type { ChildProcess } from 'node:child_process';
import type { DefinitionDocument } from '../../engine/document.schema';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { spawnWorker as spawnWorkerOn, stopProcess } from '../support/processes';

/**
 * kill -9 of the worker at random moments while many processes run their reminders and timers:
 * afterwards every process has finished, each reminder was written once, and the read model
 * agrees with the workflows.
 */
const doc: DefinitionDocument = {
  key: 'fault-kills',
  title: 'Worker kills (fault test)',
  grid: 'required',
  templates: { r: { title: 'reminder {{context.grid}}', body: '' } },
  machine: {
    id: 'fault-kills',
    initial: 'open',
    states: {
      open: {
        meta: {
          task: { role: 'grid-worker', title: 'Work', due: { after: '1h' } },
          reminders: [
            { id: 'r1', when: { after: '2s' }, to: 'grid-worker', template: 'r' },
            { id: 'r2', when: { after: '5s' }, to: 'grid-worker', template: 'r' },
            { id: 'r3', when: { after: '9s' }, to: 'grid-worker', template: 'r' },
          ],
          timers: [{ id: 'end', when: { after: '12s' }, send: 'END' }],
        },
        on: { END: 'done' },
      },
      done: { type: 'final' },
    },
  },
};

let h: Harness;
let worker: ChildProcess | undefined;

const spawnWorker = () => spawnWorkerOn(h.taskQueue);
const kill9 = () => stopProcess(worker, 'SIGKILL');

beforeAll(async () => {
  h = await startHarness({ worker: false });
  await h.services.definitions.publish(doc, 'test');
});
afterAll(async () => {
  await kill9();
  await h?.close();
});

test('killing the worker at random moments across 24 running processes loses and doubles nothing', async () => {
  worker = spawnWorker();
  const ids: string[] = [];
  for (let i = 0; i < 24; i++) {
    const grid = `grid-${String((i % 12) + 1).padStart(2, '0')}`;
    ids.push((await h.call('POST', '/api/processes', { definition: doc.key, grid, businessKey: `${grid}/${i}-${Date.now()}` })).body.workflowId);
  }
  const kills: number[] = [];
  for (let k = 0; k < 3; k++) {
    const wait = 2000 + Math.floor(Math.random() * 3000);
    await new Promise((r) => setTimeout(r, wait));
    await kill9();
    kills.push(wait);
    worker = spawnWorker();
  }
  for (const id of ids) {
    const d = await eventually(async () => {
      const r = await h.call('GET', `/api/processes/${enc(id)}`);
      return r.body.status === 'completed' && r.body;
    }, 90_000, 500);
    expect(d.history.map((x: { event: string }) => x.event)).toEqual(['@start', '@reminder:r1', '@reminder:r2', '@reminder:r3', 'END']);
    expect(d.history.map((x: { seq: number }) => x.seq)).toEqual([1, 2, 3, 4, 5]);
  }
  const conn = h.services.orm.em.fork().getConnection();
  const notes = await conn.execute<{ workflow_id: string; n: string }[]>(
    `select workflow_id, count(*) as n from notification where workflow_id = any(?::text[]) group by workflow_id`,
    [`{${ids.map((i) => `"${i}"`).join(',')}}`],
  );
  expect(notes).toHaveLength(24);
  for (const n of notes) expect(Number(n.n)).toBe(3);
  const rows = await conn.execute<{ state: string; status: string; last_seq: number }[]>(
    `select state, status, last_seq from process_instance where workflow_id = any(?::text[])`,
    [`{${ids.map((i) => `"${i}"`).join(',')}}`],
  );
  expect(rows.every((r) => r.state === 'done' && r.status === 'completed' && r.last_seq === 5)).toBe(true);
  process.stdout.write(`worker kills: 24 processes, 3 kill -9 (after ${kills.join(', ')} ms), 72 reminders written once each, 24 timers fired once each, 0 lost, 0 doubled\n`);
}, 180_000);

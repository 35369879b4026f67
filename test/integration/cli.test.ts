import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startHarness, type Harness } from '../support/harness';

const root = path.resolve(__dirname, '..', '..');
let h: Harness;
let dir: string;

beforeAll(async () => {
  h = await startHarness();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-cli-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await h?.close();
});

// Asynchronous: the API answering the CLI runs in this same process.
function gridflow(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'bin', 'gridflow'), ...args],
      { cwd: dir, env: { ...process.env, GRIDFLOW_URL: h.baseUrl, GRIDFLOW_TOKEN: h.token, GRIDFLOW_CLI_FROM_SOURCE: '1' }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, out: stdout, err: stderr }),
    );
  });
}

test('ops keep a definition in git: validate, publish, publish again, diff and a migration dry run from the command line', async () => {
  const key = `cli-visit-${Date.now().toString(36)}`;
  const doc = {
    key,
    title: '关爱走访',
    grid: 'required',
    templates: { nudge: { title: '请完成关爱走访', body: '' } },
    machine: {
      id: key,
      initial: 'visiting',
      states: {
        visiting: {
          meta: { task: { role: 'grid-worker', title: '走访', due: { after: '2d' } }, reminders: [{ id: 'nudge', when: { before: '1d' }, to: 'grid-worker', template: 'nudge' }] },
          on: { DONE: 'done' },
        },
        done: { type: 'final' },
      },
    },
  };
  const file = path.join(dir, `${key}.definition.yaml`);

  fs.writeFileSync(file, stringify({ ...doc, machine: { ...doc.machine, states: { ...doc.machine.states, visiting: { ...doc.machine.states.visiting, on: { DONE: 'finished' } } } } }));
  const bad = await gridflow('validate', file);
  expect(bad.code).toBe(1);
  expect(bad.err).toMatch(/error machine\.states\.visiting\.on\.DONE \(line \d+\): unknown target "finished"/);

  fs.writeFileSync(file, stringify(doc));
  expect(await gridflow('validate', file)).toMatchObject({ code: 0, out: `${file}: valid (${key}, 0 warning(s))\n` });
  expect(await gridflow('publish', file, '--note', 'first')).toMatchObject({ code: 0, out: `published ${key} v1\n` });
  expect(await gridflow('publish', file)).toMatchObject({ code: 0, out: `${key} v1: unchanged\n` });

  doc.machine.states.visiting.meta.task.due.after = '3d';
  fs.writeFileSync(file, stringify(doc));
  expect(await gridflow('publish', file, '--note', 'three days')).toMatchObject({ code: 0, out: `published ${key} v2\n` });
  const diff = await gridflow('diff', key, '--from', '1', '--to', '2');
  expect(diff.code).toBe(0);
  expect(diff.out).toContain('changed  task in visiting');
  expect(diff.out).toContain('running on v1: 0');

  const dry = await gridflow('migrate', key, '--from', '1', '--to', '2', '--dry-run');
  expect(dry).toMatchObject({ code: 0, out: 'dry run: 0 would move, 0 blocked\n' });

  const unknown = await gridflow('diff', 'no-such-definition', '--from', '1', '--to', '2');
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain('error 404: definition "no-such-definition" does not exist');
  expect((await gridflow('frobnicate')).code).toBe(2);

  const created = await gridflow('token', 'create', '--role', 'grid-worker', '--member', 'm-grid-03-worker', '--grids', 'grid-03');
  expect(created.code).toBe(0);
  const [, id, secret] = /^token (\w+) \(grid-worker, m-grid-03-worker\): (gf_\S+)\n$/.exec(created.out) ?? [];
  expect(secret).toBeDefined();
  const mine = await fetch(`${h.baseUrl}/api/tasks?assignee=me`, { headers: { authorization: `Bearer ${secret}` } });
  expect(mine.status).toBe(200);
  expect(await gridflow('token', 'revoke', id)).toMatchObject({ code: 0, out: `revoked ${id}\n` });
  expect((await fetch(`${h.baseUrl}/api/tasks?assignee=me`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
});

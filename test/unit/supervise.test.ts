import { spawn, type ChildProcess } from 'node:child_process';
import { supervise, type RestartPolicy, type Supervisor } from '../../infra/supervise';

/**
 * The supervisor `npm start` runs the worker and the API under, with real child processes: small
 * `node -e` programs that run, exit or ignore SIGTERM.
 */
const node = (code: string) => () => spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
/** Runs until told otherwise; says "ready" once its SIGTERM handler (if any) is installed. */
const RUNS = "setInterval(() => {}, 1000); console.log('ready')";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every wait is bounded, so a broken supervisor fails these tests instead of hanging them. */
function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}
const ready = (c: ChildProcess) => within(new Promise<void>((resolve) => c.stdout?.on('data', (b: Buffer) => b.toString().includes('ready') && resolve())), 'the child to be ready');
async function until(check: () => boolean, what: string) {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Run {
  sup: Supervisor;
  lines: string[];
  starts: { child: ChildProcess; restarts: number; at: number }[];
  gaveUp: Promise<string>;
  /** Resolves with the nth start (0 is the first). */
  start(n: number): Promise<{ child: ChildProcess; restarts: number; at: number }>;
}

const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function run(code: string, policy: Partial<RestartPolicy>): Run {
  const lines: string[] = [];
  const starts: Run['starts'] = [];
  const waiting: (() => void)[] = [];
  let giveUp: (m: string) => void = () => undefined;
  const gaveUp = new Promise<string>((r) => (giveUp = r));
  const sup = supervise({
    name: 'child',
    start: node(code),
    log: (l) => lines.push(l),
    onGiveUp: (m) => giveUp(m),
    onStart: (child, restarts) => {
      starts.push({ child, restarts, at: Date.now() });
      waiting.splice(0).forEach((w) => w());
    },
    policy,
  });
  running.push(sup);
  const start = (n: number) =>
    within(
      (async () => {
        while (starts.length <= n) await new Promise<void>((r) => waiting.push(r));
        return starts[n];
      })(),
      `start ${n}`,
    );
  return { sup, lines, starts, gaveUp, start };
}

test('a child killed with SIGKILL is started again after the backoff, and the restart is logged with its count', async () => {
  const r = run(RUNS, { initialDelayMs: 300, maxExits: 3, windowMs: 60_000 });
  const first = await r.start(0);
  await ready(first.child);
  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  const second = await r.start(1);
  expect(second.restarts).toBe(1);
  expect(second.at - killedAt).toBeGreaterThanOrEqual(290);
  expect(second.child.pid).not.toBe(first.child.pid);
  expect(r.sup.restarts).toBe(1);
  expect(r.lines).toEqual([expect.stringMatching(/^child exited \(SIGKILL\) after \d+\.\d s; restart 1 in 300 ms \(1 of 3 exits allowed within 1 min\)$/)]);
  await ready(second.child);
  expect(second.child.exitCode).toBeNull();
});

test('a child that keeps exiting is restarted with doubling delays, then given up with one message naming it and the count', async () => {
  const r = run('process.exit(3)', { initialDelayMs: 50, maxExits: 3, windowMs: 60_000 });
  const message = await within(r.gaveUp, 'the supervisor to give up');
  expect(message).toMatch(/^child exited 3 times within 1 min \(last: code 3 after \d+\.\d s\); not restarting it again$/);
  expect(r.lines.map((l) => /restart (\d) in (\d+ ms)/.exec(l)?.slice(1))).toEqual([
    ['1', '50 ms'],
    ['2', '100 ms'],
  ]);
  await sleep(300);
  expect(r.starts).toHaveLength(3);
  expect(r.sup.child).toBeUndefined();
});

test('exits further apart than the window do not add up to giving up', async () => {
  // Each child lives 400 ms, longer than the 300 ms window: every exit is the only one in it.
  const r = run('setTimeout(() => process.exit(1), 400)', { initialDelayMs: 10, maxExits: 2, windowMs: 300 });
  await r.start(3);
  expect(r.lines.every((l) => l.includes('(1 of 2 exits allowed'))).toBe(true);
});

test('stop() sends SIGTERM, resolves when the child has exited, and starts nothing more', async () => {
  const r = run(`process.on('SIGTERM', () => setTimeout(() => process.exit(0), 100)); ${RUNS}`, { initialDelayMs: 10 });
  const { child } = await r.start(0);
  await ready(child);
  await r.sup.stop();
  expect(child.exitCode).toBe(0);
  await sleep(200);
  expect(r.starts).toHaveLength(1);
  expect(r.lines).toEqual([]);
});

test('stop() while a restart is waiting cancels the restart', async () => {
  const r = run('process.exit(1)', { initialDelayMs: 300 });
  await r.start(0);
  await until(() => r.lines.length > 0, 'the restart to be scheduled');
  await r.sup.stop();
  await sleep(500);
  expect(r.starts).toHaveLength(1);
});

test('stop() kills a child that ignores SIGTERM once the stop timeout has passed', async () => {
  const r = run(`process.on('SIGTERM', () => {}); ${RUNS}`, { stopTimeoutMs: 200 });
  const { child } = await r.start(0);
  await ready(child);
  const t0 = Date.now();
  await r.sup.stop();
  expect(child.signalCode).toBe('SIGKILL');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
});

test('a command that cannot be started counts as an exit', async () => {
  const lines: string[] = [];
  const message = await within(new Promise<string>((resolve) => {
    running.push(
      supervise({
        name: 'missing',
        start: () => spawn('/nonexistent/gridflow-binary'),
        log: (l) => lines.push(l),
        onGiveUp: resolve,
        policy: { initialDelayMs: 10, maxExits: 2 },
      }),
    );
  }), 'the supervisor to give up');
  expect(message).toMatch(/^missing exited 2 times within 5 min \(last: .*ENOENT.*\)/);
});

import type { ChildProcess } from 'node:child_process';

/** When a supervised process is started again, and when the supervisor gives up on it. */
export interface RestartPolicy {
  /** Wait before the first restart; it doubles with each exit inside the window, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** This many exits within windowMs and the supervisor stops restarting and calls onGiveUp. */
  maxExits: number;
  windowMs: number;
  /** How long stop() waits after SIGTERM before it sends SIGKILL. */
  stopTimeoutMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  maxExits: 5,
  windowMs: 5 * 60_000,
  stopTimeoutMs: 15_000,
};

export interface Supervisor {
  /** The running child; undefined while a restart waits, after stop() and after giving up. */
  readonly child: ChildProcess | undefined;
  /** How many times the child has been started again after it exited. */
  readonly restarts: number;
  /** Stops restarting, sends SIGTERM to the child and resolves when it has exited. */
  stop(): Promise<void>;
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
const duration = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/**
 * Keeps a child process running: whenever it exits unasked (a crash, `kill -9`), it is started
 * again after a growing delay. Only `maxExits` exits within `windowMs` end supervision, with one
 * message naming the process, the count and its last exit, passed to onGiveUp.
 */
export function supervise(opts: {
  name: string;
  start: () => ChildProcess;
  log: (line: string) => void;
  onGiveUp: (message: string) => void;
  /** Called with each new child (restarts counts the restarts before it: 0 for the first). */
  onStart?: (child: ChildProcess, restarts: number) => void;
  policy?: Partial<RestartPolicy>;
}): Supervisor {
  const policy = { ...DEFAULT_RESTART_POLICY, ...opts.policy };
  let child: ChildProcess | undefined;
  let restarts = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const exits: number[] = [];
  // If this process ends without stop() (process.exit, an uncaught error), the child goes with it.
  const killOnExit = () => child && running(child) && child.kill('SIGTERM');
  process.on('exit', killOnExit);

  const exited = (c: ChildProcess, startedAt: number, how: string) => {
    if (child === c) child = undefined;
    if (stopped) return;
    const now = Date.now();
    exits.push(now);
    while (exits[0] <= now - policy.windowMs) exits.shift();
    const after = `after ${((now - startedAt) / 1000).toFixed(1)} s`;
    if (exits.length >= policy.maxExits) {
      stopped = true;
      process.removeListener('exit', killOnExit);
      opts.onGiveUp(`${opts.name} exited ${exits.length} times within ${duration(policy.windowMs)} (last: ${how} ${after}); not restarting it again`);
      return;
    }
    const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (exits.length - 1));
    opts.log(`${opts.name} exited (${how}) ${after}; restart ${restarts + 1} in ${duration(delay)} (${exits.length} of ${policy.maxExits} exits allowed within ${duration(policy.windowMs)})`);
    timer = setTimeout(() => {
      timer = undefined;
      restarts += 1;
      launch();
    }, delay);
  };

  const launch = () => {
    const c = opts.start();
    child = c;
    const startedAt = Date.now();
    let seen = false;
    const once = (how: string) => {
      if (seen) return;
      seen = true;
      exited(c, startedAt, how);
    };
    c.once('exit', (code, signal) => once(signal ?? `code ${code}`));
    // A child that could not be spawned at all may emit only 'error'.
    c.on('error', (e) => {
      if (c.pid === undefined) once(`not started: ${e.message}`);
    });
    opts.onStart?.(c, restarts);
  };

  launch();
  return {
    get child() {
      return child;
    },
    get restarts() {
      return restarts;
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      process.removeListener('exit', killOnExit);
      const c = child;
      if (!c || !running(c)) return;
      const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), policy.stopTimeoutMs);
      await gone;
      clearTimeout(t);
    },
  };
}

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/**
 * One of gridflow's TypeScript entry points (`worker/main.ts`, `api/main.ts`, a script) as a process
 * of its own, run from the source with the tests' environment plus `env`: a process the tests can
 * kill with a signal, as `npm start`'s would be.
 */
export function spawnEntry(entry: string, opts: { args?: string[]; env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(root, entry), ...(opts.args ?? [])], {
    cwd: root,
    env: { ...process.env, ...opts.env, TS_NODE_TRANSPILE_ONLY: '1' },
    stdio: opts.stdio ?? 'ignore',
  });
}

/** A worker process polling `taskQueue`, in place of the harness's in-process worker. */
export function spawnWorker(taskQueue: string, stdio: StdioOptions = 'ignore'): ChildProcess {
  return spawnEntry(path.join('worker', 'main.ts'), { env: { GRIDFLOW_TASK_QUEUE: taskQueue }, stdio });
}

/** Sends `signal` and resolves once the process has exited; at once if it already has (by code or by signal). */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { freePort } from './postgres';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** An installed `temporal` CLI: the cache dir's own build first, then PATH. */
export function findTemporalCli(cacheDir: string): string | undefined {
  const cached = path.join(cacheDir, 'bin', 'temporal');
  if (fs.existsSync(cached)) return cached;
  return onPath('temporal');
}

/**
 * Finds the Temporal CLI or builds it with `go install` into `<cacheDir>/bin` (a few minutes the
 * first time). Later tags of the CLI carry a replace directive and cannot be `go install`ed.
 */
export function ensureTemporalCli(cacheDir: string, log: (line: string) => void = () => undefined): string {
  const found = findTemporalCli(cacheDir);
  if (found) return found;
  const go = onPath('go') ?? (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) throw new Error('the Temporal CLI is not installed and Go is not available to build it; install Go or set TEMPORAL_ADDRESS');
  const bin = path.join(cacheDir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${bin} (first run only, takes minutes)`);
  const r = spawnSync(go, ['install', `${CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: bin, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: cacheDir,
  });
  if (r.status !== 0) throw new Error(`go install ${CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed with exit code ${r.status}`);
  return path.join(bin, 'temporal');
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Waits until a Temporal frontend answers at `address`. */
export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal did not answer at ${address} within ${timeoutMs} ms: ${String((last as Error)?.message ?? last)}`);
}

/**
 * Starts `temporal server start-dev` with its state in `dbFile` (persistent across restarts) and
 * gridflow's search attributes registered.
 */
/**
 * The dev server's history service reads its transfer queue (the tasks that dispatch activities and
 * workflow tasks) at most 20 times a second by default. An event whose Update runs an activity
 * needs two of those reads, so a task queue settled at 10 events a second, each taking 100 ms,
 * once more than about a dozen arrived in a row (measured in bench/README.md). A production
 * cluster is tuned by its operators; the embedded one is tuned here.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = ['history.transferProcessorMaxPollRPS=1000'];

/**
 * Settings of the dev server's SQLite file (`--sqlite-pragma`). SQLite's own (a rollback journal
 * created, synced and deleted on every commit) wrote about 1.1 MB per request under the closed-loop
 * bench; the write-ahead log appends each commit once and copies pages back in batches:
 * - `synchronous=full` syncs the log on every commit, so what Temporal acknowledged survives a power
 *   cut (`normal` would sync only at checkpoints and could lose the last commits: a rewound Temporal
 *   beside a read model that kept them);
 * - `wal_autocheckpoint=10000` copies pages back every 10,000 (40 MB of log) rather than 1,000, so a
 *   page changed by many commits is written back once (13% fewer bytes written).
 * Measured in bench/README.md.
 */
export const DEV_SERVER_SQLITE_PRAGMAS: string[] = ['journal_mode=wal', 'synchronous=full', 'wal_autocheckpoint=10000'];

export async function startTemporalDevServer(opts: {
  cli: string;
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  logFile?: string;
  /** `KEY=JSON_VALUE` pairs passed as --dynamic-config-value. */
  dynamicConfig?: string[];
  /** In its own process group: a terminal's Ctrl-C then reaches only the caller, which stops it in turn. */
  detached?: boolean;
  /** Pragmas of the SQLite file (with `dbFile`); default DEV_SERVER_SQLITE_PRAGMAS. */
  sqlitePragmas?: string[];
}): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
    for (const pragma of opts.sqlitePragmas ?? DEV_SERVER_SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  let uiUrl: string | undefined;
  if (opts.headless) args.push('--headless');
  else {
    const uiPort = opts.uiPort ?? (await freePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const name of Object.values(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=Keyword`);
  for (const kv of [...DEV_SERVER_DYNAMIC_CONFIG, ...(opts.dynamicConfig ?? [])]) args.push('--dynamic-config-value', kv);
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(opts.cli, args, { stdio: ['ignore', out, out], detached: opts.detached ?? false });
  const { exited, stop } = serverProcess(child, 10_000);
  const address = `127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitForTemporal(address),
      exited.then(() => {
        throw new Error(`temporal server start-dev exited early (code ${child.exitCode}); see ${opts.logFile ?? 'its output'}`);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    address,
    uiUrl,
    process: child,
    stop,
  };
}

/**
 * A server child that goes with this process (whatever ends it through process.exit takes the
 * server along): `exited` resolves when it exits; `stop()` sends SIGTERM, then SIGKILL after
 * `graceMs`, and waits for the exit.
 */
export function serverProcess(child: ChildProcess, graceMs: number): { exited: Promise<void>; stop: () => Promise<void> } {
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };
  return { exited, stop };
}

export async function connectTemporal(address: string, namespace: string, codec?: PayloadCodec): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address });
  return { connection, client: new Client({ connection, namespace, ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}) }) };
}

/** Registers gridflow's search attributes on a cluster that lacks them (an existing cluster). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((name) => !customAttributes?.[name]);
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    // 2 = INDEXED_VALUE_TYPE_KEYWORD
    searchAttributes: Object.fromEntries(missing.map((name) => [name, 2])),
  });
}

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../../config/config';
import { seedCommunity } from '../../db/community.seed';
import { migrate, openOrm } from '../../db/orm';
import { EncryptionCodec } from '../../infra/codec';
import { DataKey } from '../../infra/crypto';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { ensureTemporalCli, startTemporalDevServer, type DevServer } from '../../infra/temporal';
import { CommunityService } from '../../services/community.service';
import { DefinitionService } from '../../services/definitions.service';
import { WORKFLOW_BUNDLER_OPTIONS } from '../../worker/create-worker';

export const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

export interface BenchEnv {
  dir: string;
  temporalAddress: string;
  /** The dev server's process id, for its CPU time. */
  temporalPid?: number;
  databaseUrl: string;
  dataKey: string;
  adminToken: string;
  /** Workflow bundles by implementation: the production one (workflows/) and the baseline's own. */
  bundles: Record<'interpreter' | 'hand-written', { path: string; code: string }>;
  codec: EncryptionCodec;
  connection: Connection;
  client: Client;
  orm: MikroORM;
  postgresVersion: string;
  /** PostgreSQL's data directory, to find its processes (see postgresCpuSeconds). */
  postgresDataDir: string;
  /** A second database on the same server, for the read-API measurement's 200,000 rows. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The Temporal dev server as infra/temporal.ts starts it, with more dynamic configuration: the
 * replay measurement needs one run of 5,000 history events, and the server suggests
 * continue-as-new at 4,096 events or 4 MB by default (the interpreter follows the suggestion).
 * BENCH_DYNAMIC_CONFIG adds `KEY=VALUE` pairs, space-separated.
 */
async function startTemporal(dir: string): Promise<DevServer> {
  return startTemporalDevServer({
    cli: ensureTemporalCli(loadConfig().cacheDir, log),
    headless: true,
    logFile: path.join(dir, 'temporal.log'),
    ...(process.env.BENCH_TEMPORAL_FILE === '1' ? { dbFile: path.join(dir, 'temporal.db') } : {}),
    dynamicConfig: [
      'limit.historyCount.suggestContinueAsNew=100000',
      'limit.historySize.suggestContinueAsNew=100000000',
      ...(process.env.BENCH_DYNAMIC_CONFIG ?? '').split(/\s+/).filter(Boolean),
    ],
  });
}

export async function startBenchEnv(): Promise<BenchEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-engine-bench-'));
  // PostgreSQL runs as the "postgres" OS user when we are root; it must reach its data dir.
  fs.chmodSync(dir, 0o755);
  log(`state in ${dir}`);
  const temporal = await startTemporal(dir);
  log(`Temporal dev server at ${temporal.address}`);
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres') });
  log(`PostgreSQL at ${pg.url}`);
  const dataKey = crypto.randomBytes(32).toString('base64');
  const orm = await openOrm(pg.url);
  await migrate(orm);
  await new DefinitionService(orm).seedBuiltIns();
  await seedCommunity(orm);
  await new CommunityService(orm, new DataKey(dataKey)).protectPhones();
  const [{ version }] = await orm.em.fork().getConnection().execute<{ version: string }[]>('select version()');

  log('bundling workflows: the interpreter (workflows/) and the hand-written baseline (bench/workflows/)');
  const quiet = { info: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, trace: () => undefined, log: () => undefined };
  const bundle = async (name: string, workflowsPath: string, options: { preloadModules?: string[] } = {}) => {
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: quiet as never, ...options });
    const file = path.join(dir, `${name}-bundle.js`);
    fs.writeFileSync(file, code);
    log(`  ${name}: ${Math.round(code.length / 1024)} KB`);
    return { path: file, code };
  };
  const bundles = { interpreter: await bundle('interpreter', require.resolve('../../workflows'), WORKFLOW_BUNDLER_OPTIONS), 'hand-written': await bundle('hand-written', require.resolve('../workflows')) };

  const codec = new EncryptionCodec(new DataKey(dataKey));
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: 'default', dataConverter: { payloadCodecs: [codec] } });
  return {
    dir,
    temporalAddress: temporal.address,
    temporalPid: temporal.process.pid,
    databaseUrl: pg.url,
    dataKey,
    adminToken: crypto.randomBytes(24).toString('base64url'),
    bundles,
    codec,
    connection,
    client,
    orm,
    postgresVersion: version.split(',')[0],
    postgresDataDir: pg.dataDir,
    async createDatabase(name) {
      await orm.em.fork().getConnection().execute(`create database ${name}`);
      return pg.url.replace(/\/[^/]+$/, `/${name}`);
    },
    async stop() {
      await connection.close().catch(() => undefined);
      await orm.close().catch(() => undefined);
      await pg.stop().catch(() => undefined);
      await temporal.stop().catch(() => undefined);
      if (process.env.BENCH_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Child {
  process: ChildProcess;
  ready: Record<string, unknown>;
  request<T>(msg: { type: string }, reply: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * The bench's own code compiled (tsconfig.bench.json, incremental, into dist-bench/), so that its
 * children run as `npm start` runs the build: under ts-node a process also loads Node's `domain`
 * module (ts-node requires `repl`), which puts a hook on every promise and event emitter of that
 * process; a loop of awaits and emits took 2 to 3 times as long with it loaded.
 */
let compiledDir: string | undefined;
function compiledBench(): string {
  if (!compiledDir) {
    const root = path.resolve(__dirname, '..', '..');
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.bench.json')], { cwd: root, stdio: 'inherit' });
    compiledDir = path.join(root, 'dist-bench', 'bench');
  }
  return compiledDir;
}

/** Forks a bench child (worker-child.ts, api-child.ts), compiled, and waits for its 'ready'. */
export async function forkChild(script: string, env: Record<string, string>, execArgv: string[] = []): Promise<Child> {
  const child = fork(path.join(compiledBench(), script.replace(/\.ts$/, '.js')), [], {
    execArgv,
    env: { ...process.env, GRIDFLOW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    child.on('message', (m: { type: string }) => m.type === 'ready' && resolve(m as Record<string, unknown>));
  });
  child.removeAllListeners('exit');
  return {
    process: child,
    ready,
    request: <T>(msg: { type: string }, reply: string) =>
      new Promise<T>((resolve) => {
        const on = (m: { type: string }) => {
          if (m.type !== reply) return;
          child.off('message', on);
          resolve(m as T);
        };
        child.on('message', on);
        child.send(msg);
      }),
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Per-caller limits no bench caller reaches (a lane's worker sends a few hundred events a minute). */
const RAISED_RATE_LIMITS = Object.fromEntries(['ADMIN', 'OPS', 'MANAGER', 'GRID_LEADER', 'GRID_WORKER', 'UNAUTHENTICATED'].map((role) => [`GRIDFLOW_RATE_LIMIT_${role}`, '1000000']));

/** The environment a gridflow process (worker, API) needs to reach the bench's servers. */
export function childEnv(env: BenchEnv, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: env.temporalAddress,
    DATABASE_URL: env.databaseUrl,
    GRIDFLOW_DATA_KEY: env.dataKey,
    GRIDFLOW_ADMIN_TOKEN: env.adminToken,
    ...RAISED_RATE_LIMITS,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics

export const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN);

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function dist(xs: number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 1000) / 1000;
  return { n: s.length, p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)) };
}

/** CPU seconds (user + system, all threads) a process has used so far; Linux only, else NaN. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds PostgreSQL has used so far: its postmaster (with the children it has reaped, so a
 * connection closed in between still counts) and every live child (backends, writers). The
 * postmaster is the process whose command line names `dataDir`; Linux only, else NaN.
 */
export function postgresCpuSeconds(dataDir: string): number {
  try {
    const real = fs.realpathSync(dataDir);
    const namesDir = (args: string[]) => args.some((a) => a === dataDir || (a.startsWith('/') && fs.existsSync(a) && fs.realpathSync(a) === real));
    const stats = new Map<number, string[]>();
    let postmaster: number | undefined;
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        stats.set(Number(entry), stat.slice(stat.lastIndexOf(')') + 2).split(' '));
        if (postmaster === undefined && stat.includes('(postgres)') && namesDir(fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'))) postmaster = Number(entry);
      } catch {
        // The process ended while we looked.
      }
    }
    if (postmaster === undefined) return NaN;
    const own = stats.get(postmaster) as string[];
    let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const f of stats.values()) if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    return ticks / 100;
  } catch {
    return NaN;
  }
}

/** Bytes a process has caused to be written to storage so far (`write_bytes` of /proc/<pid>/io); Linux only, else NaN. */
export function writtenBytes(pid: number | undefined): number {
  try {
    const m = /^write_bytes: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Runs `n` jobs with `concurrency` in flight. */
export async function pool(n: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

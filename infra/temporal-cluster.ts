import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { projectRoot } from './paths';
import { freePort } from './postgres';
import { ensureSearchAttributes, serverProcess, waitForTemporal, type DevServer } from './temporal';

/**
 * Temporal's own server (not the CLI's dev server) on PostgreSQL: the shape a street office runs.
 * The server and its schema tool are built from Go modules pinned in tools/temporal (with the CLI, so
 * the build reuses the CLI's build cache), once per version, into the cache dir.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const TOOLS_MODULE = path.join(projectRoot(), 'tools', 'temporal');

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the server module: temporal/ and visibility/, each with versioned/. */
  schemaDir: string;
}

function goBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  if (fs.existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('Go is needed once to build the Temporal server (GRIDFLOW_TEMPORAL=cluster); install Go or set TEMPORAL_ADDRESS to a running cluster');
}

function go(args: string[], log: (line: string) => void): string {
  const r = spawnSync(goBinary(), args, { cwd: TOOLS_MODULE, encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod' }, maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    log(r.stderr);
    throw new Error(`go ${args.join(' ')} failed with exit code ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
  return r.stdout.trim();
}

/** The server, the SQL schema tool and the schema files, built or copied into `<cacheDir>` on first use. */
export function ensureTemporalServer(cacheDir: string, log: (line: string) => void = () => undefined): TemporalServerBinaries {
  const bin = path.join(cacheDir, 'bin');
  const server = path.join(bin, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const sqlTool = path.join(bin, `temporal-sql-tool-${TEMPORAL_SERVER_VERSION}`);
  const schemaDir = path.join(cacheDir, `temporal-schema-${TEMPORAL_SERVER_VERSION}`, 'postgresql', 'v12');
  fs.mkdirSync(bin, { recursive: true });
  for (const [file, pkg] of [
    [server, 'go.temporal.io/server/cmd/server'],
    [sqlTool, 'go.temporal.io/server/cmd/tools/sql'],
  ] as const) {
    if (fs.existsSync(file)) continue;
    log(`building ${pkg}@${TEMPORAL_SERVER_VERSION} into ${bin} (first run only)`);
    const partial = `${file}.partial`;
    go(['build', '-o', partial, pkg], log);
    fs.renameSync(partial, file);
  }
  if (!fs.existsSync(path.join(schemaDir, 'temporal', 'versioned'))) {
    const moduleDir = go(['list', '-m', '-f', '{{.Dir}}', 'go.temporal.io/server'], log);
    fs.mkdirSync(path.dirname(schemaDir), { recursive: true });
    fs.cpSync(path.join(moduleDir, 'schema', 'postgresql', 'v12'), schemaDir, { recursive: true });
    // Files in the module cache are read-only; the copy need not be.
    spawnSync('chmod', ['-R', 'u+w', path.dirname(schemaDir)]);
  }
  return { server, sqlTool, schemaDir };
}

export interface ClusterDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The cluster's server keeps its databases on the PostgreSQL this URL names (gridflow's own). */
export function clusterDatabase(databaseUrl: string): ClusterDatabase {
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** The names of the two databases a PostgreSQL-backed server keeps: its store and its visibility. */
export interface ClusterDatabaseNames {
  store: string;
  visibility: string;
}
export const CLUSTER_DATABASES: ClusterDatabaseNames = { store: 'temporal', visibility: 'temporal_visibility' };

/** Creates the two databases and brings them to the module's schema version; idempotent. */
export function setupTemporalSchemas(
  tools: TemporalServerBinaries,
  db: ClusterDatabase,
  log: (line: string) => void = () => undefined,
  names: ClusterDatabaseNames = CLUSTER_DATABASES,
): void {
  const base = ['--plugin', 'postgres12', '--ep', db.host, '-p', String(db.port), '-u', db.user, '--pw', db.password];
  const run = (database: string, args: string[], okIf?: RegExp) => {
    const r = spawnSync(tools.sqlTool, [...base, '--db', database, ...args], { encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    if (r.status !== 0 && !(okIf && okIf.test(output))) {
      throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed: ${output.trim().split('\n').slice(-3).join(' / ')}`);
    }
  };
  for (const [database, dir] of [
    [names.store, 'temporal'],
    [names.visibility, 'visibility'],
  ] as const) {
    run(database, ['create-database'], /already exists/);
    run(database, ['setup-schema', '-v', '0.0'], /already exists/);
    run(database, ['update-schema', '-d', path.join(tools.schemaDir, dir, 'versioned')]);
    log(`Temporal schema ${dir} is current in ${database}`);
  }
}

export interface ClusterOptions {
  tools: TemporalServerBinaries;
  db: ClusterDatabase;
  /** Where the rendered config and the server's log go. */
  dir: string;
  /** Fixed when the store is first set up: a later change is refused by the server. */
  historyShards?: number;
  namespace?: string;
  /** Other database names, for a second server on the same PostgreSQL (a fault test's own). */
  databases?: ClusterDatabaseNames;
  port?: number;
  /** In its own process group: a terminal's Ctrl-C then reaches only the caller, which stops it in turn. */
  detached?: boolean;
  log?: (line: string) => void;
}

/** A Temporal server on PostgreSQL with the namespace and gridflow's search attributes in place. */
export async function startTemporalCluster(opts: ClusterOptions): Promise<DevServer> {
  const say = opts.log ?? (() => undefined);
  const shards = opts.historyShards ?? 4;
  const namespace = opts.namespace ?? 'default';
  setupTemporalSchemas(opts.tools, opts.db, say, opts.databases);
  const frontend = opts.port ?? (await freePort());
  // The membership table keeps ports as smallint: an ephemeral port (32768 and up) is refused there.
  const ports = { frontendMembership: await lowFreePort(), frontendHttp: await freePort() } as Record<string, number>;
  for (const svc of ['history', 'matching', 'worker']) {
    ports[`${svc}Grpc`] = await freePort();
    ports[`${svc}Membership`] = await lowFreePort();
  }
  const configDir = path.join(opts.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'dynamic.yaml'), dynamicConfigYaml());
  fs.writeFileSync(path.join(configDir, 'gridflow.yaml'), serverConfigYaml({ ...opts, shards, frontend, ports, configDir }));
  const logFile = path.join(opts.dir, 'temporal-server.log');
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(opts.tools.server, ['--root', opts.dir, '--config', 'config', '--env', 'gridflow', '--allow-no-auth', 'start'], {
    stdio: ['ignore', out, out],
    detached: opts.detached ?? false,
  });
  const { exited, stop } = serverProcess(child, 15_000);
  const address = `127.0.0.1:${frontend}`;
  try {
    await Promise.race([
      waitForTemporal(address, 120_000),
      exited.then(() => {
        throw new Error(`the Temporal server exited early (code ${child.exitCode}); see ${logFile}`);
      }),
    ]);
    await ensureNamespace(address, namespace);
    say(`Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL at ${address}, ${shards} history shards, namespace ${namespace}`);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    address,
    process: child,
    stop,
  };
}

const taken = new Set<number>();
/** A free port below 32768, where the kernel never hands out ephemeral ones. */
async function lowFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port between 20000 and 32000 for the Temporal server\'s membership');
}

/** A real server starts with no namespace; gridflow's search attributes are per namespace on SQL visibility. */
async function ensureNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.describeNamespace({ namespace });
    } catch {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('7 days') });
    }
    // Registration reaches the frontends' caches within seconds; until then the namespace is "not found".
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        await ensureSearchAttributes(connection, namespace);
        break;
      } catch (e) {
        if (Date.now() > until) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

function dynamicConfigYaml(): string {
  // The dev server's defaults that gridflow relies on, set explicitly for the real server.
  return [
    'frontend.enableUpdateWorkflowExecution:',
    '  - value: true',
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted:',
    '  - value: true',
    'system.forceSearchAttributesCacheRefreshOnRead:',
    '  - value: true',
    'history.transferProcessorMaxPollRPS:',
    '  - value: 1000',
    '',
  ].join('\n');
}

function serverConfigYaml(o: ClusterOptions & { shards: number; frontend: number; ports: Record<string, number>; configDir: string }): string {
  const store = (database: string, conns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${o.db.host}:${o.db.port}"
        connectProtocol: tcp
        user: ${JSON.stringify(o.db.user)}
        password: ${JSON.stringify(o.db.password)}
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: 1h`;
  const service = (name: string, grpc: number, membership: number, extra = '') => `  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${o.shards}
  datastores:
    default:
${store((o.databases ?? CLUSTER_DATABASES).store, 20)}
    visibility:
${store((o.databases ?? CLUSTER_DATABASES).visibility, 5)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
${service('frontend', o.frontend, o.ports.frontendMembership, `\n      httpPort: ${o.ports.frontendHttp}`)}
${service('history', o.ports.historyGrpc, o.ports.historyMembership)}
${service('matching', o.ports.matchingGrpc, o.ports.matchingMembership)}
${service('worker', o.ports.workerGrpc, o.ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:${o.frontend}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${JSON.stringify(path.join(o.configDir, 'dynamic.yaml'))}
  pollInterval: 10s
`;
}

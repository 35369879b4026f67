import { fork } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfigOrExit, type Config } from '../config/config';
import { seedCommunity } from '../db/community.seed';
import { migrate, openOrm } from '../db/orm';
import { startEmbeddedPostgres, freePort, type EmbeddedPostgresHandle } from '../infra/postgres';
import { connectTemporal, ensureSearchAttributes, ensureTemporalCli, startTemporalDevServer, type DevServer } from '../infra/temporal';
import { clusterDatabase, ensureTemporalServer, startTemporalCluster } from '../infra/temporal-cluster';
import { calendarWarnings } from '../services/calendar-check';
import { createServices } from '../services/container';
import { DefinitionService } from '../services/definitions.service';
import { DataKey } from '../infra/crypto';
import { supervise, type Supervisor } from '../infra/supervise';

/**
 * `npm start`: brings up everything gridflow needs on one machine. Starts the Temporal dev server
 * and embedded PostgreSQL unless TEMPORAL_ADDRESS / DATABASE_URL name existing ones, migrates,
 * seeds the built-in definitions, then runs the worker and the API as child processes, each started
 * again when it dies (infra/supervise.ts); only repeated deaths stop everything.
 *
 * `node dist/scripts/start.js --prepare` does only the preparing (migrations, definitions,
 * registry, search attributes, schedules) against DATABASE_URL and TEMPORAL_ADDRESS and exits:
 * the step before a deployment starts its own API and worker processes.
 */

const say = (line: string) => process.stdout.write(`[gridflow] ${line}\n`);

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function preferPort(port: number): Promise<number> {
  return (await portFree(port)) ? port : freePort();
}

/** A secret kept in the data dir, made on first use. */
function secretFile(dataDir: string, name: string, make: () => string): string {
  const file = path.join(dataDir, name);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const value = make();
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

function adminToken(dataDir: string, configured: string | undefined): string {
  return configured ?? secretFile(dataDir, 'admin-token', () => crypto.randomBytes(24).toString('base64url'));
}

/**
 * Development tokens for each role, made once and kept in the data dir (a token is shown only when
 * it is created): the office can try the API as each kind of user.
 */
async function demoTokens(dataDir: string, apiUrl: string, admin: string): Promise<Record<string, string>> {
  const file = path.join(dataDir, 'demo-tokens.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  const wanted: [string, Record<string, unknown>][] = [
    ['ops', { role: 'ops', name: 'demo ops' }],
    ['manager', { role: 'manager', name: 'demo manager', memberId: 'm-community-manager-1' }],
    ['grid-leader', { role: 'grid-leader', name: 'demo grid-03 leader', memberId: 'm-grid-03-leader', grids: ['grid-03'] }],
    ['grid-worker', { role: 'grid-worker', name: 'demo grid-03 worker', memberId: 'm-grid-03-worker', grids: ['grid-03'] }],
  ];
  const out: Record<string, string> = {};
  for (const [label, body] of wanted) {
    const res = await fetch(`${apiUrl}/api/tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.ok) out[label] = ((await res.json()) as { token: string }).token;
  }
  fs.writeFileSync(file, JSON.stringify(out, null, 2), { mode: 0o600 });
  return out;
}

function withoutUnset(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

/** Where the worker and the API find PostgreSQL and Temporal. */
interface Endpoints {
  databaseUrl: string;
  temporalAddress: string;
  uiUrl?: string;
  /** The embedded PostgreSQL's data directory, when there is one. */
  pgData?: string;
}

/** Starts the embedded servers that DATABASE_URL and TEMPORAL_ADDRESS do not replace. */
async function startServers(config: Config, cleanups: (() => Promise<void>)[]): Promise<Endpoints> {
  // PostgreSQL first: as root it may need to place its files where the postgres OS user can reach
  // them, and a start that cannot should stop before anything else runs.
  let databaseUrl = config.databaseUrl;
  let pgData: string | undefined;
  if (!databaseUrl) {
    say(`starting embedded PostgreSQL, data in ${path.join(config.dataDir, 'postgres')}`);
    const pg: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'postgres'), port: await preferPort(54329), log: say, detached: true });
    cleanups.push(() => pg.stop());
    databaseUrl = pg.url;
    pgData = pg.dataDir;
  }

  let temporalAddress = config.temporalAddress;
  let uiUrl = config.temporalUiUrl;
  if (!temporalAddress && config.temporalMode === 'cluster') {
    const tools = ensureTemporalServer(config.cacheDir, say);
    say(`starting Temporal's own server on PostgreSQL (${config.temporalShards} history shards), config and log in ${path.join(config.dataDir, 'temporal-cluster')}`);
    const server: DevServer = await startTemporalCluster({
      tools,
      db: clusterDatabase(databaseUrl),
      dir: path.join(config.dataDir, 'temporal-cluster'),
      historyShards: config.temporalShards,
      namespace: config.temporalNamespace,
      port: await preferPort(7233),
      log: say,
      detached: true,
    });
    cleanups.push(() => server.stop());
    temporalAddress = server.address;
  }
  if (!temporalAddress) {
    const cli = ensureTemporalCli(config.cacheDir, say);
    say(`starting the Temporal dev server (${cli}), state in ${path.join(config.dataDir, 'temporal.db')}`);
    const server: DevServer = await startTemporalDevServer({
      cli,
      dbFile: path.join(config.dataDir, 'temporal.db'),
      port: await preferPort(7233),
      uiPort: await preferPort(8233),
      namespace: config.temporalNamespace,
      logFile: path.join(config.dataDir, 'temporal.log'),
      detached: true,
    });
    cleanups.push(() => server.stop());
    temporalAddress = server.address;
    uiUrl = server.uiUrl;
  }
  return { databaseUrl, temporalAddress, uiUrl, pgData };
}

/**
 * What the worker and the API expect to find: the schema migrated, the built-in definitions
 * published, the registry seeded (once), phone numbers encrypted, search attributes and schedules.
 */
async function prepare(config: Config, { databaseUrl, temporalAddress }: Endpoints, dataKey: string): Promise<void> {
  const orm = await openOrm(databaseUrl);
  const applied = await migrate(orm);
  if (applied.length) say(`migrated: ${applied.join(', ')}`);
  const published = await new DefinitionService(orm).seedBuiltIns();
  for (const p of published) say(`published built-in definition ${p.key} v${p.version}`);
  // Seed the registry once: later edits to names and phone numbers are the office's, not the seed's.
  const [{ n }] = await orm.em.getConnection().execute<{ n: string }[]>('select count(*) as n from grid');
  if (Number(n) === 0) {
    const seeded = await seedCommunity(orm);
    say(`seeded the community: ${seeded.grids} grids, ${seeded.sites} sites, ${seeded.members} members, ${seeded.organizations} organizations`);
  }
  await orm.close();

  const { connection } = await connectTemporal(temporalAddress, config.temporalNamespace);
  await ensureSearchAttributes(connection, config.temporalNamespace);
  await connection.close();
  const services = await createServices({ ...config, databaseUrl, temporalAddress, dataKey });
  const protectedPhones = await services.community.protectPhones();
  if (protectedPhones) say(`encrypted ${protectedPhones} phone numbers at rest`);
  const ensured = await services.schedules.ensure();
  say(`schedules: ${[...ensured.created.map((s) => `${s} (created)`), ...ensured.updated].join(', ')}`);
  for (const warning of calendarWarnings(services.calendar)) say(`warning: ${warning}`);
  await services.close();
}

/**
 * Runs the worker and the API as supervised child processes (pushed onto `children`); resolves
 * with the port the API listens on.
 */
function runChildren(env: NodeJS.ProcessEnv, workers: number, children: Supervisor[], onGiveUp: (message: string) => void): Promise<number> {
  let port: number | undefined;
  return new Promise<number>((resolve) => {
    // Only the first worker exports the SDK's metrics: the others would compete for its port.
    const launch = (name: string, file: string, own: NodeJS.ProcessEnv = {}) =>
      supervise({
        name,
        // A restarted API takes the port the first one got (PORT=0 picks one).
        start: () => fork(path.join(__dirname, '..', file), [], { env: withoutUnset({ ...env, ...own, ...(port ? { PORT: String(port) } : {}) }), stdio: 'inherit', detached: true }),
        log: say,
        onStart: (child, restarts) => {
          say(`${name} ${restarts ? `started again (restart ${restarts})` : 'started'}, pid ${child.pid}`);
          child.on('message', (m: { type?: string; port?: number }) => {
            if (m?.type !== 'listening') return;
            port = m.port as number;
            resolve(port);
          });
        },
        onGiveUp,
      });
    for (let n = 1; n <= workers; n++) children.push(launch(workers === 1 ? 'worker' : `worker ${n}`, 'worker/main.js', n === 1 ? {} : { GRIDFLOW_WORKER_METRICS: undefined }));
    children.push(launch('api', 'api/main.js'));
  });
}

async function printSummary(config: Config, { databaseUrl, temporalAddress, uiUrl, pgData }: Endpoints, apiUrl: string, token: string, workerMetrics: string) {
  say('gridflow is up:');
  say(`  Console      ${apiUrl}/  (sign in with a token below)`);
  say(`  API          ${apiUrl}/api  (OpenAPI: ${apiUrl}/api/openapi.json)`);
  say(`  Temporal     ${temporalAddress}${uiUrl ? `  (UI: ${uiUrl})` : ''}`);
  say(`  Metrics      ${apiUrl}/metrics  (worker's Temporal SDK: http://${workerMetrics}/metrics)`);
  say(`  PostgreSQL   ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}${pgData ? `  (data in ${pgData})` : ''}`);
  say(`  Admin token  ${token}  (curl -H "Authorization: Bearer ${token}" ${apiUrl}/api/processes)`);
  for (const [role, t] of Object.entries(await demoTokens(config.dataDir, apiUrl, token))) say(`  Demo token   ${role.padEnd(12)} ${t}`);
  say('Ctrl-C stops everything.');
}

/** `--prepare`: only prepare() against the configured servers, then exit. */
async function prepareOnly(config: Config) {
  const { databaseUrl, temporalAddress, dataKey } = config;
  if (!databaseUrl || !temporalAddress || !dataKey) {
    const missing = Object.entries({ DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, GRIDFLOW_DATA_KEY: dataKey }).filter(([, v]) => !v).map(([k]) => k);
    say(`--prepare works on existing servers and the deployment's data key: set ${missing.join(', ')}`);
    process.exit(2);
  }
  await prepare(config, { databaseUrl, temporalAddress }, dataKey);
  say('prepared');
  process.exit(0);
}

async function main() {
  const config = loadConfigOrExit();
  if (process.argv.includes('--prepare')) return prepareOnly(config);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const children: Supervisor[] = [];
  let stopping = false;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping...');
    await Promise.all(children.map((c) => c.stop()));
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => say(`cleanup failed: ${(e as Error).message}`));
    say('stopped');
    process.exit(code);
  };
  // Every child runs in its own process group, so Ctrl-C reaches only this script, which stops them
  // in order: the worker and the API drain while Temporal and PostgreSQL are still up.
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGHUP', () => void shutdown(0));

  try {
    const dataKey = config.dataKey ?? secretFile(config.dataDir, 'data-key', DataKey.generate);
    const endpoints = await startServers(config, cleanups);
    await prepare(config, endpoints, dataKey);

    const token = adminToken(config.dataDir, config.adminToken);
    const workerMetrics = config.workerMetrics ?? `127.0.0.1:${await preferPort(9464)}`;
    const env = {
      ...process.env,
      GRIDFLOW_WORKER_METRICS: workerMetrics,
      DATABASE_URL: endpoints.databaseUrl,
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      GRIDFLOW_ADMIN_TOKEN: token,
      GRIDFLOW_DATA_KEY: dataKey,
      ...(endpoints.uiUrl ? { TEMPORAL_UI_URL: endpoints.uiUrl } : {}),
      PORT: String(config.port),
    };
    const port = await runChildren(env, config.workers, children, (message) => {
      say(`${message}; stopping everything`);
      void shutdown(1);
    });
    await printSummary(config, endpoints, `http://${config.host}:${port}`, token, workerMetrics);
  } catch (e) {
    say(`start failed: ${(e as Error).message}`);
    await shutdown(1);
  }
}

main().catch((e) => {
  say(`failed: ${(e as Error).message}`);
  process.exit(1);
});

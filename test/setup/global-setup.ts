import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { seedCommunity, seedGeneratedCommunity } from '../../db/community.seed';
import { TEST_SECOND_COMMUNITY } from '../support/communities';
import { DataKey } from '../../infra/crypto';
import { CommunityService } from '../../services/community.service';
import { migrate, openOrm } from '../../db/orm';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { ensureTemporalCli, startTemporalDevServer } from '../../infra/temporal';
import { clusterDatabase, ensureTemporalServer, startTemporalCluster } from '../../infra/temporal-cluster';
import { DefinitionService } from '../../services/definitions.service';
import { buildWeb } from '../../scripts/build-web';
import { WORKFLOW_BUNDLER_OPTIONS } from '../../worker/create-worker';

/**
 * Starts the real dependencies once for the whole run: a Temporal dev server (or, with
 * GRIDFLOW_TEMPORAL=cluster, Temporal's own server on the same PostgreSQL) and an embedded
 * PostgreSQL (unless TEMPORAL_ADDRESS / DATABASE_URL point at existing ones), migrates, seeds the
 * built-in definitions and bundles the workflows so every test worker starts fast.
 */
export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-test-'));
  // As root, PostgreSQL runs as the "postgres" OS user, which can then use this data dir in place.
  fs.chmodSync(dir, 0o755);
  const state: { dir: string; stops: (() => Promise<void>)[] } = { dir, stops: [] };
  (globalThis as Record<string, unknown>).__gridflow = state;
  // A run ended by SIGTERM or a closed terminal still stops the servers below (their 'exit' hooks).
  process.once('SIGTERM', () => process.exit(143));
  process.once('SIGHUP', () => process.exit(129));

  // PostgreSQL first: the cluster mode's Temporal server keeps its own databases there.
  if (!config.databaseUrl) {
    const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres') });
    state.stops.push(() => pg.stop());
    process.env.DATABASE_URL = pg.url;
  }
  if (!config.temporalAddress && config.temporalMode === 'cluster') {
    const say = (l: string) => process.stdout.write(`${l}\n`);
    const server = await startTemporalCluster({
      tools: ensureTemporalServer(config.cacheDir, say),
      db: clusterDatabase(process.env.DATABASE_URL as string),
      dir: path.join(dir, 'temporal-cluster'),
      historyShards: config.temporalShards,
      log: say,
    });
    state.stops.push(() => server.stop());
    process.env.TEMPORAL_ADDRESS = server.address;
  } else if (!config.temporalAddress) {
    const cli = ensureTemporalCli(config.cacheDir, (l) => process.stdout.write(`${l}\n`));
    const server = await startTemporalDevServer({ cli, dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'temporal.log') });
    state.stops.push(() => server.stop());
    process.env.TEMPORAL_ADDRESS = server.address;
  }
  const orm = await openOrm(process.env.DATABASE_URL as string);
  await migrate(orm);
  await new DefinitionService(orm).seedBuiltIns();
  await seedCommunity(orm);
  // A second community of the same street, so every test runs beside a tenant it must not see.
  await seedGeneratedCommunity(orm, TEST_SECOND_COMMUNITY);
  // A fixed key, only for tests: histories recorded in any test run can be replayed by the determinism gate.
  process.env.GRIDFLOW_DATA_KEY = process.env.GRIDFLOW_DATA_KEY ?? fs.readFileSync(path.join(__dirname, '..', 'histories', 'test-data-key'), 'utf8').trim();
  await new CommunityService(orm, new DataKey(process.env.GRIDFLOW_DATA_KEY)).protectPhones();
  await orm.close();

  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), ...WORKFLOW_BUNDLER_OPTIONS, logger: { info: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, trace: () => undefined, log: () => undefined } as never });
  const bundle = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundle, code);
  process.env.GRIDFLOW_WORKFLOW_BUNDLE = bundle;
  // The web console, built as `npm run build` builds it, for the browser tests.
  process.env.GRIDFLOW_WEB_DIR = await buildWeb(path.join(dir, 'web'));
  process.env.GRIDFLOW_ADMIN_TOKEN = process.env.GRIDFLOW_ADMIN_TOKEN ?? 'test-admin-token-0123456789';
  process.env.GRIDFLOW_LOG_LEVEL = process.env.GRIDFLOW_LOG_LEVEL ?? 'warn';
}

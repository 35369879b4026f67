/**
 * gridflow's API for the bench, in a child process so the load generator does not share its event
 * loop. Same composition as the tests' harness (api/app.ts appFromServices) and configured as the
 * real API, by environment: DATABASE_URL, TEMPORAL_ADDRESS, GRIDFLOW_DATA_KEY, GRIDFLOW_ADMIN_TOKEN,
 * GRIDFLOW_TASK_QUEUE and the per-caller limits GRIDFLOW_RATE_LIMIT_*, which the bench raises (see
 * childEnv): a few callers send thousands of requests a minute. Sends { type: 'ready', port } over IPC.
 */
import type { AddressInfo } from 'node:net';
import { appFromServices } from '../api/app';
import { loadConfig } from '../config/config';
import { createLogger } from '../infra/log';
import { createServices, requireEndpoints } from '../services/container';

async function main() {
  const config = requireEndpoints(loadConfig());
  const services = await createServices(config);
  const log = createLogger('warn', { component: 'bench-api' });
  const app = appFromServices(services, { adminToken: config.adminToken, log, rateLimits: config.rateLimits, webDir: config.webDir });
  const server = app.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));
  server.keepAliveTimeout = 60_000;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stop') server.close(() => void services.close().then(() => process.exit(0)));
  });
}

main().catch((e) => {
  process.stderr.write(`bench api: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

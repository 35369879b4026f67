/**
 * gridflow's API for the bench, in a child process so the load generator does not share its event
 * loop. Same composition as the tests' harness (api/app.ts appFromServices), with the per-caller
 * rate limit raised: the bench is one caller sending thousands of requests a second.
 * Environment as the real API (DATABASE_URL, TEMPORAL_ADDRESS, GRIDFLOW_DATA_KEY,
 * GRIDFLOW_ADMIN_TOKEN, GRIDFLOW_TASK_QUEUE). Sends { type: 'ready', port } over IPC.
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
  const unlimited = 1e9;
  const rateLimits = { perRole: { admin: unlimited, ops: unlimited, manager: unlimited, 'grid-leader': unlimited, 'grid-worker': unlimited }, unauthenticated: unlimited };
  const app = appFromServices(services, { adminToken: config.adminToken, log, rateLimits });
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

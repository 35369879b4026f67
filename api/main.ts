import type { AddressInfo } from 'node:net';
import { loadConfigOrExit } from '../config/config';
import { createLogger } from '../infra/log';
import { calendarWarnings } from '../services/calendar-check';
import { createServices, requireEndpoints } from '../services/container';
import { appFromServices } from './app';

/** Composition root of the API process. */
async function main() {
  const config = requireEndpoints(loadConfigOrExit());
  const log = createLogger(config.logLevel, { component: 'api' });
  const services = await createServices(config);
  for (const warning of calendarWarnings(services.calendar)) log.warn(warning);
  // Schedules follow their definitions in every deployment, not only under npm start.
  try {
    log.info('schedules reconciled', await services.schedules.ensure());
  } catch (e) {
    log.error('schedules not reconciled; publishing a definition or the next start reconciles them', { error: (e as Error).message });
  }
  const app = appFromServices(services, { adminToken: config.adminToken, log, rateLimits: config.rateLimits, webDir: config.webDir });
  const server = app.listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    log.info('api listening', { url: `http://${config.host}:${port}` });
    process.send?.({ type: 'listening', port });
  });
  const stop = () => {
    log.info('draining api');
    // close() stops accepting and waits for in-flight requests to finish.
    server.close(() => {
      void services.close().then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`gridflow api: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

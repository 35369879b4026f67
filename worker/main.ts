import { loadConfigOrExit } from '../config/config';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createLogger } from '../infra/log';
import { calendarWarnings } from '../services/calendar-check';
import { createServices, requireEndpoints } from '../services/container';
import { createWorker } from './create-worker';

/** Composition root of the worker process. */
async function main() {
  const config = requireEndpoints(loadConfigOrExit());
  const log = createLogger(config.logLevel, { component: 'worker' });
  const levels = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
  Runtime.install({
    // The SDK's logs as our JSON lines; workflow and activity logs carry workflowId, runId and type.
    logger: new DefaultLogger(config.logLevel.toUpperCase() as 'INFO', (entry) => log[levels[entry.level]](entry.message, { sdk: true, ...entry.meta })),
    // The SDK's own metrics (task latencies, slots, polls) and gridflow's, in Prometheus format.
    ...(config.workerMetrics ? { telemetryOptions: { metrics: { prometheus: { bindAddress: config.workerMetrics } } } } : {}),
  });
  const services = await createServices(config, { log });
  for (const warning of calendarWarnings(services.calendar)) log.warn(warning);
  const { worker, connection } = await createWorker({
    services,
    temporalAddress: config.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowBundlePath: config.workflowBundle,
    diagnostics: config.workflowDiagnostics,
  });
  const stop = () => {
    log.info('draining worker');
    worker.shutdown();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The chat outbox's dispatcher runs beside the worker; any number of them may run at once.
  const deliveries = Runtime.instance().metricMeter.createCounter('gridflow_deliveries', 'deliveries', 'Chat group deliveries: sent, failed attempts, deferred to the morning');
  services.delivery.onResult = (result, grid) => deliveries.add(1, { result, grid });
  services.delivery.start();
  log.info('worker running', { taskQueue: config.taskQueue, temporal: config.temporalAddress });
  await worker.run();
  await connection.close();
  await services.close();
  log.info('worker stopped');
}

main().catch((e) => {
  process.stderr.write(`gridflow worker: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

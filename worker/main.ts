import { loadConfigOrExit } from '../config/config';
import { Runtime } from '@temporalio/worker';
import { createLogger } from '../infra/log';
import { createServices, requireEndpoints } from '../services/container';
import { createWorker } from './create-worker';

/** Composition root of the worker process. */
async function main() {
  const config = requireEndpoints(loadConfigOrExit());
  const log = createLogger(config.logLevel, { component: 'worker' });
  if (config.workerMetrics) {
    // The SDK's own metrics (task latencies, slots, polls) in Prometheus format.
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: config.workerMetrics } } } });
  }
  const services = await createServices(config, { log });
  const { worker, connection } = await createWorker({
    services,
    temporalAddress: config.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowBundlePath: config.workflowBundle,
  });
  const stop = () => {
    log.info('draining worker');
    worker.shutdown();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The chat outbox's dispatcher runs beside the worker; any number of them may run at once.
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

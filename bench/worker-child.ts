/**
 * The bench's worker, run as a child process of bench/run.ts so its memory is its own: gridflow's
 * activities and a workflow bundle holding both the interpreter and the hand-written baseline.
 *
 * Environment: DATABASE_URL, TEMPORAL_ADDRESS, GRIDFLOW_DATA_KEY (as the real worker), plus
 * BENCH_TASK_QUEUE, BENCH_BUNDLE (workflow bundle path) and BENCH_MAX_CACHED (sticky cache size).
 * IPC: sends { type: 'ready' }; answers { type: 'memory' } with process.memoryUsage() after a full
 * GC (run with --expose-gc) and the worker's cache count; { type: 'stop' } drains and exits.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { createServices, requireEndpoints } from '../services/container';
import { createWorker } from '../worker/create-worker';

async function main() {
  const taskQueue = process.env.BENCH_TASK_QUEUE as string;
  const maxCached = process.env.BENCH_MAX_CACHED ? Number(process.env.BENCH_MAX_CACHED) : undefined;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = requireEndpoints({ ...loadConfig(), taskQueue });
  const services = await createServices(config);
  const { worker, connection } = await createWorker({
    services,
    temporalAddress: config.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueue,
    workflowBundlePath: process.env.BENCH_BUNDLE,
    options: { ...(maxCached !== undefined ? { maxCachedWorkflows: maxCached } : {}) },
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'memory') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const status = worker.getStatus();
      process.send?.({ type: 'memory', memory: process.memoryUsage(), cached: status.numCachedWorkflows });
    } else if (m.type === 'stop') {
      worker.shutdown();
    }
  });
  const running = worker.run();
  process.send?.({ type: 'ready', maxCached: worker.options.maxCachedWorkflows });
  await running;
  await connection.close();
  await services.close();
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`bench worker: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Services } from '../services/container';
import { GridflowWorker } from './sandbox';

/**
 * How the workflow bundle is built, wherever it is (here, the tests' setup, the bench). Workflows
 * in a worker thread share one V8 context but each gets fresh module instances, so a module's
 * top-level code runs again for every workflow the worker starts or reloads. zod, and the
 * definition modules that build zod schemas at load (the workflow never parses with them), cost
 * about a third of the interpreter's per-workflow set-up (bench/README.md); preloaded, they run
 * once per thread. The engine (with XState) and engine/compile-cache are preloaded too, so the
 * compiled machine of a definition version, and the inert XState scope the engine keeps per
 * machine, are built once per thread instead of once per workflow. None keeps per-workflow state
 * (the engine's one-entry snapshot cache matches by object identity); the SDK freezes what they export.
 */
export const WORKFLOW_BUNDLER_OPTIONS = {
  preloadModules: ['zod', require.resolve('../engine/access'), require.resolve('../engine/evidence'), require.resolve('../engine/compile-cache'), require.resolve('../engine/engine')],
};

export interface WorkerParams {
  services: Pick<Services, 'orm' | 'processes' | 'providers' | 'schedules' | 'community' | 'rota' | 'delivery' | 'codec'>;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled now. */
  workflowBundlePath?: string;
  options?: Partial<WorkerOptions>;
  /** The SDK's per-call sandbox deadline and stack-trace query (worker/sandbox.ts); off unless set. */
  diagnostics?: boolean;
}

export async function createWorker(p: WorkerParams): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: p.temporalAddress });
  GridflowWorker.diagnostics = p.diagnostics ?? false;
  const worker = await GridflowWorker.create({
    connection,
    namespace: p.namespace,
    taskQueue: p.taskQueue,
    activities: createActivities({ orm: p.services.orm, processes: p.services.processes, providers: p.services.providers, launcher: p.services.schedules, recipients: p.services.rota, delivery: p.services.delivery }),
    ...(p.workflowBundlePath ? { workflowBundle: { codePath: p.workflowBundlePath } } : { workflowsPath: require.resolve('../workflows'), bundlerOptions: WORKFLOW_BUNDLER_OPTIONS }),
    dataConverter: { payloadCodecs: [p.services.codec] },
    shutdownGraceTime: '10 seconds',
    ...p.options,
  });
  return { worker, connection };
}

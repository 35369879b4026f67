import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Services } from '../services/container';

export interface WorkerParams {
  services: Pick<Services, 'orm' | 'processes' | 'providers' | 'schedules' | 'community' | 'delivery' | 'codec'>;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled now. */
  workflowBundlePath?: string;
  options?: Partial<WorkerOptions>;
}

export async function createWorker(p: WorkerParams): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: p.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: p.namespace,
    taskQueue: p.taskQueue,
    activities: createActivities({ orm: p.services.orm, processes: p.services.processes, providers: p.services.providers, launcher: p.services.schedules, recipients: p.services.community, delivery: p.services.delivery }),
    ...(p.workflowBundlePath ? { workflowBundle: { codePath: p.workflowBundlePath } } : { workflowsPath: require.resolve('../workflows') }),
    dataConverter: { payloadCodecs: [p.services.codec] },
    shutdownGraceTime: '10 seconds',
    ...p.options,
  });
  return { worker, connection };
}

import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkCalendar } from '../engine/calendar';
import { compileDefinition } from '../engine/compile';
import type { DefinitionDocument } from '../engine/document.schema';
import { simulate, SimulationError, SimulationLimitReached, type SimulationInput, type SimulationLimits, type SimulationResult } from '../engine/simulate';

/**
 * A simulation thread (see simulations.service.ts): compiles the document it is sent and runs the
 * pure simulator on it, with the limits and this thread's clock, off the API's event loop.
 */

export interface SimulationJob {
  document: DefinitionDocument;
  input: SimulationInput;
  limits: Omit<SimulationLimits, 'clock'>;
}

export type SimulationOutcome =
  | { kind: 'ready' }
  | { kind: 'done'; result: SimulationResult }
  | { kind: 'invalid'; message: string; errors: { path: string; message: string }[] }
  | { kind: 'limit'; limit: SimulationLimitReached['limit']; max: number; message: string; path: string }
  | { kind: 'failed'; message: string; stack?: string };

function run(job: SimulationJob, calendar: WorkCalendar): SimulationOutcome {
  try {
    const def = compileDefinition(job.document, calendar);
    return { kind: 'done', result: simulate(def, job.input, { ...job.limits, clock: () => performance.now() }) };
  } catch (e) {
    if (e instanceof SimulationLimitReached) return { kind: 'limit', limit: e.limit, max: e.max, message: e.message, path: e.path };
    if (e instanceof SimulationError) return { kind: 'invalid', message: e.message, errors: e.errors };
    return { kind: 'failed', message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack };
  }
}

const port = parentPort;
if (port) {
  const calendar = (workerData as { calendar: WorkCalendar }).calendar;
  port.on('message', (job: SimulationJob) => port.postMessage(run(job, calendar)));
  port.postMessage({ kind: 'ready' } satisfies SimulationOutcome);
}

import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SimulationLimits } from '../config/config';
import type { WorkCalendar } from '../engine/calendar';
import type { DefinitionDocument } from '../engine/document.schema';
import type { SimulationInput, SimulationResult } from '../engine/simulate';
import type { Logger } from '../infra/log';
import { badRequest, ProblemError, unavailable } from './errors';
import type { SimulationJob, SimulationOutcome } from './simulation.worker';

// The thread's entry beside this file: .ts under ts-jest and ts-node (registered in the thread), .js in dist/.
const ENTRY = path.join(__dirname, `simulation.worker${path.extname(__filename)}`);
const BOOT = `
const { workerData } = require('node:worker_threads');
const entry = workerData.entry;
const load = require('node:module').createRequire(entry);
if (entry.endsWith('.ts')) load('ts-node').register({ transpileOnly: true, projectSearchDir: require('node:path').dirname(entry) });
load(entry);
`;
/** How long past its own limit a thread may stay silent before it is ended (a run stuck inside one engine step). */
const GRACE_MS = 500;
const MAX_WAITING = 16;
/** Heap of one thread: ample for 5,000 steps (and for ts-node's compiler under test), a bound on a run that keeps building. */
const HEAP_MB = 512;

interface Pending {
  job: SimulationJob;
  resolve(result: SimulationResult): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  current?: Pending;
  deadline?: NodeJS.Timeout;
}

export const limitProblem = (limit: string, max: number, message: string, path: string) =>
  new ProblemError(422, 'Unprocessable Content', message, { limit: { name: limit, max }, errors: [{ path, message }] });

/**
 * Runs simulations in a few worker threads, so a long one never holds up the API's event loop, and
 * within limits: steps, virtual days and computing time (a thread that does not answer in time is
 * ended and replaced).
 */
export class SimulationService {
  private threads: Thread[] = [];
  private waiting: Pending[] = [];
  private readonly size: number;

  constructor(
    private readonly calendar: WorkCalendar,
    readonly limits: SimulationLimits,
    private readonly log?: Logger,
    threads = Math.min(2, os.availableParallelism()),
  ) {
    this.size = Math.max(1, threads);
  }

  run(document: DefinitionDocument, input: SimulationInput): Promise<SimulationResult> {
    if (this.waiting.length >= MAX_WAITING) {
      return Promise.reject(unavailable(`the simulator is busy with ${this.threads.length} simulations and ${this.waiting.length} waiting; try again in a few seconds`));
    }
    const { maxSteps, maxDays, timeoutMs } = this.limits;
    return new Promise((resolve, reject) => {
      this.waiting.push({ job: { document, input, limits: { maxSteps, maxDays, timeoutMs } }, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    for (const p of this.waiting.splice(0)) p.reject(unavailable('the simulator is shutting down'));
    await Promise.all(threads.map((t) => this.end(t, unavailable('the simulator is shutting down'))));
  }

  private pump() {
    while (this.waiting.length) {
      const idle = this.threads.find((t) => t.ready && !t.current);
      if (!idle) break;
      this.start(idle, this.waiting.shift() as Pending);
    }
    if (this.waiting.length > this.threads.filter((t) => !t.ready).length && this.threads.length < this.size) this.spawn();
  }

  private spawn() {
    const worker = new Worker(BOOT, { eval: true, workerData: { entry: ENTRY, calendar: this.calendar }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    worker.unref();
    const thread: Thread = { worker, ready: false };
    this.threads.push(thread);
    worker.on('message', (m: SimulationOutcome) => this.answer(thread, m));
    worker.on('error', (e: Error & { code?: string }) => {
      const current = thread.current;
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY' && current) {
        const message = `the simulation used more than its ${HEAP_MB} MB of memory and was stopped; simulate a shorter span or fewer events`;
        void this.end(thread, limitProblem('memory', HEAP_MB, message, current.job.input.until !== undefined ? 'until' : 'events'));
        this.pump();
        return;
      }
      this.log?.error('simulation thread failed', { error: e });
      // A thread that can not even start fails what waits for it, rather than leaving it waiting.
      const failed = current ? [current] : thread.ready ? [] : this.waiting.splice(0);
      thread.current = undefined;
      void this.end(thread, e);
      for (const p of failed) p.reject(e);
      this.pump();
    });
    worker.on('exit', () => {
      this.threads = this.threads.filter((t) => t !== thread);
    });
  }

  private start(thread: Thread, p: Pending) {
    thread.current = p;
    thread.deadline = setTimeout(() => {
      const { timeoutMs } = this.limits;
      const message = `the simulation ran past its limit of ${timeoutMs.toLocaleString('en-US')} ms of computing and was stopped; simulate a shorter span or fewer events`;
      void this.end(thread, limitProblem('time', timeoutMs, message, p.job.input.until !== undefined ? 'until' : 'events'));
      this.pump();
    }, this.limits.timeoutMs + GRACE_MS);
    thread.worker.postMessage(p.job);
  }

  private answer(thread: Thread, m: SimulationOutcome) {
    if (m.kind === 'ready') {
      thread.ready = true;
      this.pump();
      return;
    }
    const p = thread.current;
    clearTimeout(thread.deadline);
    thread.current = undefined;
    this.pump();
    if (!p) return;
    if (m.kind === 'done') p.resolve(m.result);
    else if (m.kind === 'invalid') p.reject(badRequest(m.message, m.errors));
    else if (m.kind === 'limit') p.reject(limitProblem(m.limit, m.max, m.message, m.path));
    else p.reject(Object.assign(new Error(m.message), { stack: m.stack }));
  }

  /** Ends a thread; whatever it was running fails with `reason`. */
  private async end(thread: Thread, reason: Error) {
    this.threads = this.threads.filter((t) => t !== thread);
    clearTimeout(thread.deadline);
    const p = thread.current;
    thread.current = undefined;
    p?.reject(reason);
    await thread.worker.terminate();
  }
}

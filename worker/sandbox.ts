import fs from 'node:fs';
import { Worker as NodeThread } from 'node:worker_threads';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input';
import { ThreadedVMWorkflowCreator, WorkerThreadClient } from '@temporalio/worker/lib/workflow/threaded-vm';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options';
import type { Logger } from '@temporalio/common';

/**
 * The workflow sandbox without the SDK's two per-call diagnostics, which together cost about as
 * much worker CPU as the workflow's own work (bench/README.md, "The sandbox's diagnostics"):
 *
 * - **The 5 s deadline on every call into the sandbox.** Node enforces a `runInContext` timeout by
 *   starting and joining a watchdog thread for each call: about 250 µs here, against 2 µs for a call
 *   without one, and the SDK makes several calls per activation. It guards against workflow code
 *   that never yields. gridflow's workflow code is its interpreter, and a definition is data that
 *   cannot loop for ever: validation refuses unguarded `always` cycles, and the engine caps the
 *   microsteps of one step (engine/compile.ts, MAX_MICROSTEPS), so a guarded cycle that never ends
 *   fails that step's workflow task, as the deadline would, instead of holding the thread.
 * - **The stack-trace query.** To answer it, the SDK's promise hook captures and source-maps a stack
 *   trace for every promise created in workflow code. An interpreter's stack says little about
 *   where a process waits: its state and tasks say that, in the read model and the status query.
 *
 * `GRIDFLOW_WORKFLOW_DIAGNOSTICS=true` runs the SDK's own sandbox, with both. The replay gate and
 * debug mode always do.
 *
 * This reaches into the SDK's `lib/workflow` modules, which are not its public API; @temporalio/*
 * is pinned to one exact version (package.json), and `SDK_VERSION` below makes a different one
 * refuse to start until this file is checked against it.
 */
const SDK_VERSION = '1.24.0';

// The worker thread the SDK would start, with the promise hook not installed first: GlobalHandlers
// then reports stack traces as not enabled, and the query answers so.
const THREAD = [
  `const shared = require(${JSON.stringify(require.resolve('@temporalio/worker/lib/workflow/vm-shared'))});`,
  'shared.globalHandlers.setPromiseHook = function () {};',
  `require(${JSON.stringify(require.resolve('@temporalio/worker/lib/workflow/workflow-worker-thread'))});`,
].join('\n');

export class GridflowWorker extends Worker {
  /** Set before `create`: whether the SDK's own sandbox (deadline and stack traces) runs. */
  static diagnostics = false;

  protected static override async createWorkflowCreator(bundle: WorkflowBundleWithSourceMapAndFilename, options: CompiledWorkerOptions, logger: Logger) {
    if (this.diagnostics || options.debugMode) return super.createWorkflowCreator(bundle, options, logger);
    const installed = (JSON.parse(fs.readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as { version: string }).version;
    if (installed !== SDK_VERSION) {
      throw new Error(`worker/sandbox.ts was written for @temporalio/worker ${SDK_VERSION}, and ${installed} is installed: check it against the new version's lib/workflow/threaded-vm.js, or set GRIDFLOW_WORKFLOW_DIAGNOSTICS=true`);
    }
    const clients = Array.from({ length: options.workflowThreadPoolSize }, () => new WorkerThreadClient(new NodeThread(THREAD, { eval: true }), logger, options.patchActivationCallback));
    await Promise.all(
      clients.map((client) =>
        client.send({
          type: 'init',
          workflowBundle: bundle,
          // No timeout: runInContext starts no watchdog thread.
          isolateExecutionTimeoutMs: undefined as unknown as number,
          reuseV8Context: options.reuseV8Context ?? true,
          registeredActivityNames: new Set(options.activities.keys()),
          hasPatchActivationCallback: options.patchActivationCallback !== undefined,
        }),
      ),
    );
    return new ThreadedVMWorkflowCreator(clients);
  }
}

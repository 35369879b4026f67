import { CancellationScope, condition, sleep } from '@temporalio/workflow';

interface ArmedTimer {
  at: number;
  scope: CancellationScope;
  fired: boolean;
}

/**
 * One timer for the next deadline, armed again only when the deadline moves: a workflow that
 * waited in `condition(changed, untilDeadline)` armed a new timer each time round its loop, so a step
 * that left the deadline where it was cost a TimerCanceled and a TimerStarted of the same time.
 * A timer still pending when the run ends is dropped with it.
 */
export function keptTimer(): { wait: (at: number | undefined, changed: () => boolean) => Promise<boolean> } {
  let armed: ArmedTimer | undefined;
  const arm = (at: number | undefined): ArmedTimer | undefined => {
    if (armed && armed.at === at) return armed;
    if (armed && !armed.fired) armed.scope.cancel();
    armed = undefined;
    if (at === undefined) return undefined;
    const timer: ArmedTimer = { at, scope: new CancellationScope(), fired: false };
    timer.scope
      .run(() => sleep(Math.max(at - Date.now(), 1)))
      .then(
        () => {
          timer.fired = true;
        },
        // Cancelled: the deadline moved, or the process is being cancelled.
        () => undefined,
      );
    armed = timer;
    return timer;
  };
  return {
    /** Waits until `changed()` holds or the deadline `at` (none: undefined) is reached; true when the timer fired. */
    async wait(at, changed) {
      const timer = arm(at);
      await condition(() => changed() || timer?.fired === true);
      if (!timer?.fired) return false;
      armed = undefined;
      return true;
    },
  };
}

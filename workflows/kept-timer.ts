import { CancellationScope, sleep } from '@temporalio/workflow';

/** A deadline's timer, as `keptTimer` arms it; `fired` turns true when it fires. */
export interface ArmedTimer {
  at: number;
  scope: CancellationScope;
  fired: boolean;
}

/**
 * One timer for the next deadline, armed again only when the deadline moves: a workflow that
 * waited in `condition(changed, untilDeadline)` armed a new timer each time round its loop, so a step
 * that left the deadline where it was cost a TimerCanceled and a TimerStarted of the same time.
 * `arm(undefined)` cancels the pending timer; `clear()` forgets one that has fired.
 */
export function keptTimer(): { arm: (at: number | undefined) => ArmedTimer | undefined; clear: () => void } {
  let armed: ArmedTimer | undefined;
  return {
    arm(at) {
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
    },
    clear() {
      armed = undefined;
    },
  };
}

/**
 * One step at a time: `run(fn)` starts `fn` once everything run before it has settled, failed or
 * not, and gives its result. `settled()` is the end of the queue so far, never rejected.
 */
export function serialQueue(): { run: <T>(fn: () => Promise<T>) => Promise<T>; settled: () => Promise<unknown> } {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run: <T>(fn: () => Promise<T>): Promise<T> => {
      const run = tail.then(fn);
      tail = run.catch(() => undefined);
      return run;
    },
    settled: () => tail,
  };
}

import { serialQueue } from '../../workflows/serial';

test('queued steps run one at a time in order, a failed one does not stop the next, and settled() waits for all', async () => {
  const { run, settled } = serialQueue();
  const log: string[] = [];
  const step = (name: string, fail = false) => async () => {
    log.push(`${name} starts`);
    await new Promise((r) => setTimeout(r, 5));
    log.push(`${name} ends`);
    if (fail) throw new Error(name);
    return name;
  };
  const a = run(step('a'));
  const b = run(step('b', true));
  const c = run(step('c'));
  await expect(b).rejects.toThrow('b');
  await settled();
  expect(log).toEqual(['a starts', 'a ends', 'b starts', 'b ends', 'c starts', 'c ends']);
  await expect(a).resolves.toBe('a');
  await expect(c).resolves.toBe('c');
});

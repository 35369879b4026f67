import { compileDefinition, MAX_MICROSTEPS } from '../../engine/compile';
import { applyEvent, EventRejected, startInstance } from '../../engine/engine';
import { validateDocument } from '../../engine/validate';
import { pingPong } from './fixtures/ping-pong';

/**
 * A cycle of guarded `always` transitions whose guards stay true: validation can only warn about it
 * (whether a guard turns false depends on the data), so it can be published. The engine caps the
 * microsteps of one step; the workflow sandbox has no deadline of its own (worker/sandbox.ts).
 */
function spinning(guard: unknown) {
  const doc = pingPong({ after: '1m' }, { after: '1m' }, { pingOn: 'spin-a' }) as { machine: { context: Record<string, unknown>; states: Record<string, unknown> } };
  doc.machine.context = { rounds: 0, flag: 'up' };
  doc.machine.states['spin-a'] = { always: [{ target: 'spin-b', guard }, { target: 'pong' }] };
  doc.machine.states['spin-b'] = { always: [{ target: 'spin-a', guard }, { target: 'pong' }] };
  return doc;
}

const start = Date.parse('2026-01-01T00:00:00+08:00');
const stays = { type: 'exists', params: { ref: 'context.flag' } };
const turns = { type: 'missing', params: { ref: 'context.flag' } };

test('a guarded always cycle passes validation: whether its guards turn false depends on the data', () => {
  const result = validateDocument(spinning(stays));
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
});

test(`a step that would spin is refused after ${MAX_MICROSTEPS} microsteps, naming the event and the state, and the instance is unchanged`, () => {
  const doc = validateDocument(spinning(stays)).document!;
  const def = compileDefinition(doc);
  const { instance } = startInstance(def, { input: {}, businessKey: 'spin-1', at: start });
  const before = JSON.stringify(instance);
  let error: unknown;
  try {
    applyEvent(def, instance, { type: 'PONG', at: start + 60_000 }, 'system');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(EventRejected);
  expect((error as EventRejected).message).toBe(
    `definition "ping-pong" does not settle on PONG in state "ping": its always transitions ran more than ${MAX_MICROSTEPS} times in a row without reaching a waiting state (a cycle whose guards stay true); nothing was recorded, and operations must correct the definition`,
  );
  expect(JSON.stringify(instance)).toBe(before);
});

test('the same cycle with guards that are false passes through, as before', () => {
  const def = compileDefinition(validateDocument(spinning(turns)).document!);
  const { instance } = startInstance(def, { input: {}, businessKey: 'spin-2', at: start });
  expect(applyEvent(def, instance, { type: 'PONG', at: start + 60_000 }, 'system').to).toBe('pong');
});

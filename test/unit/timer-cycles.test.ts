import fs from 'node:fs';
import path from 'node:path';
import { validateDocument, validateText } from '../../engine/validate';
import { pingPong } from './fixtures/ping-pong';

// Every case below is a ping-pong: two states whose timers send each other's way back.

const cycleErrors = (doc: unknown) => validateDocument(doc).errors.filter((e) => /cycle of timers/.test(e.message));

describe('timers that fire at once and send each other round a cycle are refused', () => {
  test.each(['0s', '0m', '0h', '0d', '0wd', 'PT0S'])('after: "%s" both ways is refused, pointing at the timer', (zero) => {
    const errors = cycleErrors(pingPong({ after: zero }, { after: zero }));
    expect(errors).toHaveLength(1);
    expect(errors[0].path).toBe('machine.states.ping.meta.timers.0');
    expect(errors[0].message).toContain(`timer "to-pong" fires as soon as its state is entered (after: "${zero}")`);
    expect(errors[0].message).toContain('ping (PONG) -> pong (PING) -> ping');
    expect(errors[0].message).toMatch(/Give one of them a delay, e\.g\. after: "1m"/);
  });

  test('a fixed clock time is due at entry once it has passed, so at: "18:00" both ways is refused', () => {
    const errors = cycleErrors(pingPong({ at: '18:00' }, { at: '18:00' }));
    expect(errors.map((e) => e.path)).toEqual(['machine.states.ping.meta.timers.0']);
    expect(errors[0].message).toContain('at: "18:00"');
  });

  test('an urgent override of 0s closes the cycle for urgent instances', () => {
    expect(cycleErrors(pingPong({ after: '1h', urgent: { after: '0s' } }, { after: '0s' }))).toHaveLength(1);
  });

  test('a timer that re-enters its own state at once is refused', () => {
    const doc = {
      key: 'spin',
      title: 'Spin',
      grid: 'none',
      machine: {
        id: 'spin',
        initial: 'waiting',
        states: {
          waiting: { meta: { timers: [{ id: 'again', when: { after: '0s' }, send: 'AGAIN' }] }, on: { AGAIN: { target: 'waiting', reenter: true }, STOP: 'done' } },
          done: { type: 'final' },
        },
      },
    };
    expect(cycleErrors(doc).map((e) => e.path)).toEqual(['machine.states.waiting.meta.timers.0']);
  });

  test('a state passed through by an always transition is part of the cycle', () => {
    const doc = pingPong({ after: '0s' }, { after: '0s' }, { pingOn: 'relay' });
    (doc.machine.states as Record<string, unknown>).relay = { always: 'pong' };
    const errors = cycleErrors(doc);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('ping (PONG) -> pong (PING) -> ping');
  });

  test('the built-in definitions, whose clock-time timers end the process, have no such cycle', () => {
    const dir = path.join(__dirname, '..', '..', 'definitions');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.definition.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect([f, validateText(fs.readFileSync(path.join(dir, f), 'utf8')).errors.filter((e) => /cycle of timers/.test(e.message))]).toEqual([f, []]);
  });
});

describe('timer cycles that wait or can stop are accepted', () => {
  test('one-minute timers both ways are valid (the simulator and the workflow step them one at a time)', () => {
    expect(validateDocument(pingPong({ after: '1m' }, { after: '1m' })).errors).toEqual([]);
  });

  test('a zero timer one way and a delay the other way is valid', () => {
    expect(cycleErrors(pingPong({ after: '0s' }, { after: '1s' }))).toEqual([]);
  });

  test('a guard that can turn false breaks the cycle', () => {
    const guarded = { target: 'pong', guard: { type: 'compare', params: { left: { $ref: 'context.rounds' }, op: 'lt', right: 3 } }, actions: [{ type: 'assign', params: { increment: { rounds: 1 } } }] };
    expect(cycleErrors(pingPong({ after: '0s' }, { after: '0s' }, { pingOn: guarded }))).toEqual([]);
  });

  test('a self-transition without reenter keeps the state and does not restart its timer', () => {
    expect(cycleErrors(pingPong({ after: '0s' }, { after: '0s' }, { pingOn: 'ping' }))).toEqual([]);
  });

  test('a clock time on the entry day plus a day moves on each round', () => {
    expect(cycleErrors(pingPong({ at: '09:00', on: 'entry-day', addDays: 1 }, { after: '0s' }))).toEqual([]);
  });
});

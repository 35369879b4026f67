import { compileDefinition } from '../../engine/compile';
import type { DefinitionDocument } from '../../engine/document.schema';
import { simulate, SimulationLimitReached, type SimulationLimits } from '../../engine/simulate';
import { pingPong } from './fixtures/ping-pong';

/** Two states whose one-minute timers send each other back: a step a minute for as long as it is simulated. */
const def = compileDefinition(pingPong({ after: '1m' }, { after: '1m' }) as DefinitionDocument);
const start = '2026-01-01T00:00:00+08:00';
const after = (days: number) => new Date(Date.parse(start) + days * 86_400_000).toISOString();
const limits: SimulationLimits = { maxSteps: 5000, maxDays: 400 };

function limitOf(fn: () => unknown): SimulationLimitReached {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimulationLimitReached) return e;
    throw e;
  }
  throw new Error('the simulation ended within its limits');
}

test('one-minute timers over four months stop at the step limit, naming it, instead of building 170,000 steps', () => {
  const e = limitOf(() => simulate(def, { startAt: start, until: after(120), events: [] }, limits));
  expect(e).toMatchObject({ limit: 'steps', max: 5000, path: 'until' });
  expect(e.message).toMatch(/^the simulation reached its limit of 5,000 steps at 2026-01-04T11:20:00.000\+08:00 in state "(ping|pong)"/);
});

test('seven months end at the step limit too, never in a stack overflow', () => {
  expect(limitOf(() => simulate(def, { startAt: start, until: after(213), events: [] }, limits)).limit).toBe('steps');
});

test('a span longer than the day limit is refused before anything runs, naming the days', () => {
  const e = limitOf(() => simulate(def, { startAt: start, until: after(401), events: [] }, limits));
  expect(e).toMatchObject({ limit: 'days', max: 400, path: 'until' });
  expect(e.message).toContain('the simulation would span 401 days, from 2026-01-01T00:00:00.000+08:00 to 2027-02-06T00:00:00.000+08:00; at most 400 days');
  // The last event sets the span when there is no until.
  expect(limitOf(() => simulate(def, { startAt: start, events: [{ at: after(500), type: 'PING' }] }, limits))).toMatchObject({ limit: 'days', path: 'events' });
});

test('a run past its computing time stops with the time limit (on the clock it is given)', () => {
  let now = 0;
  const clock = () => (now += 5);
  const e = limitOf(() => simulate(def, { startAt: start, until: after(3), events: [] }, { maxSteps: 1_000_000, maxDays: 400, timeoutMs: 100, clock }));
  expect(e).toMatchObject({ limit: 'time', max: 100 });
  expect(e.message).toMatch(/^the simulation ran past its limit of 100 ms of computing after [\d,]+ steps/);
});

test('within its limits a run gives every step, one instant at a time, as before', () => {
  const result = simulate(def, { startAt: start, until: after(2), events: [] }, limits);
  expect(result.steps).toHaveLength(1 + 2 * 24 * 60);
  expect(result.steps.slice(0, 3).map((s) => [s.at.slice(11, 16), s.event, s.to])).toEqual([
    ['00:00', '@start', 'ping'],
    ['00:01', 'PONG', 'pong'],
    ['00:02', 'PING', 'ping'],
  ]);
  expect(result.final.state).toBe('ping');
});

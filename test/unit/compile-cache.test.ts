import { compiledDefinition } from '../../engine/compile-cache';
import { applyEvent, startInstance, stateName } from '../../engine/engine';
import { atLocal } from '../../engine/time';
import { builtIn } from '../support/definitions';
import type { WorkCalendar } from '../../engine/calendar';

const issue = builtIn('issue');
const fresh = () => JSON.parse(JSON.stringify(issue.doc));
const calendar: WorkCalendar = issue.calendar;
const hash = 'a'.repeat(64);

/** The issue path from the bench, as one string per step: what a cached machine must reproduce. */
function path(def: ReturnType<typeof compiledDefinition>): string[] {
  let inst = startInstance(def, { input: { source: 'resident', category: '环境卫生', description: '楼道堆放杂物' }, grid: 'grid-04', day: '2026-11-23', businessKey: 'issue/x', at: atLocal('2026-11-23', '09:00') }).instance;
  const out = [stateName(inst.value)];
  const events: [string, Record<string, unknown> | undefined, string][] = [
    ['ACCEPT', undefined, '10:00'],
    ['HANDLE_IN_GRID', undefined, '10:30'],
    ['RESOLVE', { result: '已清理' }, '16:00'],
  ];
  for (const [type, data, clock] of events) {
    const step = applyEvent(def, inst, { type, data, at: atLocal('2026-11-23', clock), actor: 'tester', by: { member: 'm-grid-04-worker', role: 'grid-worker', grids: ['grid-04'] } as never });
    inst = step.instance;
    out.push(`${step.event} ${step.from}->${step.to} ${step.effects.map((e) => e.type).join(',')} ${JSON.stringify(inst.deadlines.map((d) => [d.id, d.at]))}`);
  }
  return out;
}

test('a version with a hash compiles once per thread: the same document and calendar give the same machine', () => {
  const a = compiledDefinition({ document: fresh(), hash }, calendar);
  const b = compiledDefinition({ document: fresh(), hash }, calendar);
  expect(b).toBe(a);
  // Another calendar is another machine (working-day durations differ).
  expect(compiledDefinition({ document: fresh(), hash }, { ...calendar, years: {} })).not.toBe(a);
  // Without a hash (histories recorded before the cache) every call compiles afresh.
  expect(compiledDefinition({ document: fresh() }, calendar)).not.toBe(compiledDefinition({ document: fresh() }, calendar));
});

test('a cached machine steps exactly as a fresh one, and its document cannot be changed by an instance', () => {
  const cached = compiledDefinition({ document: fresh(), hash: 'b'.repeat(64) }, calendar);
  expect(path(compiledDefinition({ document: fresh(), hash: 'b'.repeat(64) }, calendar))).toEqual(path(compiledDefinition({ document: fresh() }, calendar)));
  expect(Object.isFrozen(cached.doc.machine)).toBe(true);
  expect(() => {
    (cached.doc as { title: string }).title = 'changed';
  }).toThrow(TypeError);
  // The caller's own document stays its own (the cache keeps a copy).
  const mine = fresh();
  compiledDefinition({ document: mine, hash: 'c'.repeat(64) }, calendar);
  expect(Object.isFrozen(mine)).toBe(false);
});

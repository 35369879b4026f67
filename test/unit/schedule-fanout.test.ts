import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { compileDefinition } from '../../engine/compile';
import { definitionDocument, type DefinitionDocument } from '../../engine/document.schema';
import { applyEvent, fireDue, startInstance, tasksOf, type Instance, type Step } from '../../engine/engine';
import {
  checkScheduleFanOut,
  coverageOf,
  cycleOf,
  dueDateOf,
  parseCycle,
  roundsFor,
  type RegisteredHousehold,
  type RegistryFanOut,
  type RoundRecord,
} from '../../engine/schedule-fanout';
import { atLocal, formatLocal } from '../../engine/time';
import { validateDocument } from '../../engine/validate';
import { calendar } from '../support/definitions';

const cal = calendar();
const example = parse(fs.readFileSync(path.join(__dirname, '..', '..', 'definitions', 'examples', 'care-visit.definition.yaml'), 'utf8')) as DefinitionDocument;

describe('visit cycles', () => {
  test('a weekly cycle is the ISO week, Monday to Sunday; a monthly one the calendar month', () => {
    expect(cycleOf('weekly', '2026-12-03')).toEqual({ id: '2026-W49', period: 'weekly', start: '2026-11-30', end: '2026-12-06' });
    expect(cycleOf('weekly', '2026-11-30')).toEqual(cycleOf('weekly', '2026-12-06'));
    expect(cycleOf('monthly', '2028-02-10')).toEqual({ id: '2028-02', period: 'monthly', start: '2028-02-01', end: '2028-02-29' });
    // The first week of 2026 starts in 2025.
    expect(cycleOf('weekly', '2026-01-01')).toMatchObject({ id: '2026-W01', start: '2025-12-29', end: '2026-01-04' });
  });

  test('a cycle is found again by its id, and an id that names no cycle is refused', () => {
    expect(parseCycle('2026-W49')).toEqual(cycleOf('weekly', '2026-12-03'));
    expect(parseCycle('2026-W01')).toEqual(cycleOf('weekly', '2025-12-29'));
    expect(parseCycle('2026-12')).toEqual(cycleOf('monthly', '2026-12-31'));
    // 2026 has 53 ISO weeks, 2027 has 52.
    expect(parseCycle('2026-W53')?.start).toBe('2026-12-28');
    expect(parseCycle('2027-W53')).toBeUndefined();
    for (const bad of ['2026-13', '2026-00', '2026-W00', '2026-W5', 'W49', '2026-12-03']) expect(parseCycle(bad)).toBeUndefined();
  });

  test('a round is due on the last working day of its cycle: a holiday week ends early, a make-up Saturday counts', () => {
    // National Day 2026: 10-01 to 10-07 off; Saturday 10-10 is a make-up working day.
    expect(dueDateOf(cycleOf('weekly', '2026-09-28'), '2026-09-28', cal)).toBe('2026-09-30');
    expect(dueDateOf(cycleOf('weekly', '2026-10-05'), '2026-10-05', cal)).toBe('2026-10-10');
    expect(dueDateOf(cycleOf('weekly', '2026-12-07'), '2026-12-07', cal)).toBe('2026-12-11');
    expect(dueDateOf(cycleOf('monthly', '2026-12-07'), '2026-12-07', cal)).toBe('2026-12-31');
    // Spring Festival week (02-16 to 02-22, all off): no working day left, so the cycle's last day.
    expect(dueDateOf(cycleOf('weekly', '2026-02-16'), '2026-02-16', cal)).toBe('2026-02-22');
    // A run after the last working day (a Saturday trigger) is due that Sunday.
    expect(dueDateOf(cycleOf('weekly', '2026-12-12'), '2026-12-12', cal)).toBe('2026-12-13');
  });
});

describe('who is due, on a virtual clock of Mondays', () => {
  const spec: RegistryFanOut = { categories: ['独居老人', '低保', '留守儿童'], cycles: { 独居老人: 'weekly', 低保: 'monthly', 留守儿童: 'weekly' }, visitedStates: ['visited'] };
  const entry = (household: string, category: string, extra: Partial<RegisteredHousehold> = {}): RegisteredHousehold => ({ household, grid: 'grid-11', category, since: '2026-01-01', active: true, ...extra });
  const entries = [
    entry('H-001', '独居老人'),
    entry('H-002', '低保'),
    // In two categories: one visit a week covers both.
    entry('H-003', '低保'),
    entry('H-003', '独居老人'),
    // Its own cycle wins over the definition's for 低保.
    entry('H-004', '低保', { cycle: 'weekly' }),
    entry('H-005', '独居老人', { active: false }),
    entry('H-006', '独居老人', { since: '2026-12-20' }),
    entry('H-007', '残疾人'),
    entry('H-008', '留守儿童', { grid: 'grid-12' }),
  ];
  const keys = (r: ReturnType<typeof roundsFor>) => r.due.map((d) => `${d.household} ${d.cycle} ${d.dueDate}`);

  test('on the first Monday every active household of the categories is due, each on its shortest cycle', () => {
    const r = roundsFor(spec, entries, [], '2026-12-07', cal);
    expect(keys(r)).toEqual(['H-001 2026-W50 2026-12-11', 'H-002 2026-12 2026-12-31', 'H-003 2026-W50 2026-12-11', 'H-004 2026-W50 2026-12-11', 'H-008 2026-W50 2026-12-11']);
    expect(r.due.find((d) => d.household === 'H-003')).toMatchObject({ categories: ['低保', '独居老人'], period: 'weekly', grid: 'grid-11' });
    expect(r.due.find((d) => d.household === 'H-008')?.grid).toBe('grid-12');
  });

  test('a household visited in its cycle is not due again until the next one: a week for weekly, the month for monthly', () => {
    const visits = [
      { household: 'H-001', day: '2026-12-08' },
      { household: 'H-002', day: '2026-12-09' },
      { household: 'H-003', day: '2026-12-10' },
    ];
    // Later the same week: the visited are left out, with when they were visited.
    const sameWeek = roundsFor(spec, entries, visits, '2026-12-11', cal);
    expect(sameWeek.due.map((d) => d.household)).toEqual(['H-004', 'H-008']);
    expect(sameWeek.visited).toEqual(expect.arrayContaining([{ household: 'H-002', cycle: '2026-12', on: '2026-12-09' }]));
    // Next Monday: weekly households are due again, the monthly one visited this month is not.
    const nextWeek = roundsFor(spec, entries, visits, '2026-12-14', cal);
    expect(keys(nextWeek)).toEqual(['H-001 2026-W51 2026-12-18', 'H-003 2026-W51 2026-12-18', 'H-004 2026-W51 2026-12-18', 'H-008 2026-W51 2026-12-18']);
    // A new month: the monthly household is due again.
    expect(roundsFor(spec, entries, visits, '2027-01-04', cal).due.map((d) => d.household)).toContain('H-002');
    // A household registered on the 20th joins the round from then on.
    expect(roundsFor(spec, entries, visits, '2026-12-21', cal).due.map((d) => d.household)).toContain('H-006');
  });

  test('with due: false every household is listed every run (the business key still makes it once per cycle)', () => {
    const visits = [{ household: 'H-002', day: '2026-12-09' }];
    expect(roundsFor({ ...spec, due: false }, entries, visits, '2026-12-14', cal).due.map((d) => d.household)).toContain('H-002');
  });
});

describe('coverage of a cycle (入户全覆盖)', () => {
  const week = cycleOf('weekly', '2026-12-07');
  const now = atLocal('2026-12-09', '10:00');
  const record = (r: Partial<RoundRecord>): RoundRecord => ({ household: 'H-1', workflowId: 'care-visit/H-1/2026-W50', cycle: '2026-W50', running: true, visited: false, ...r });

  test('a visit recorded within the cycle covers it, whichever round it was', () => {
    expect(coverageOf({ household: 'H-1', since: '2026-01-01' }, week, [record({ running: false, visited: true, endedOn: '2026-12-08' })], '2026-12-09', now)).toEqual({ status: 'visited', visitedOn: '2026-12-08', workflowId: 'care-visit/H-1/2026-W50' });
    // A weekly visit covers the household's monthly category too.
    expect(coverageOf({ household: 'H-1', since: '2026-01-01' }, cycleOf('monthly', '2026-12-01'), [record({ running: false, visited: true, endedOn: '2026-12-08' })], '2026-12-09', now)?.status).toBe('visited');
  });

  test('without a visit: pending while the cycle runs and its round is not past due, overdue after', () => {
    const e = { household: 'H-1', since: '2026-01-01' };
    expect(coverageOf(e, week, [], '2026-12-09', now)).toEqual({ status: 'pending' });
    expect(coverageOf(e, week, [record({ dueAt: atLocal('2026-12-11', '18:00') })], '2026-12-09', now)).toEqual({ status: 'pending', workflowId: 'care-visit/H-1/2026-W50' });
    expect(coverageOf(e, week, [record({ dueAt: atLocal('2026-12-08', '18:00') })], '2026-12-09', now)?.status).toBe('overdue');
    expect(coverageOf(e, week, [record({ running: false, visited: false, endedOn: '2026-12-12' })], '2026-12-09', now)?.status).toBe('overdue');
    // The cycle is over: overdue even with no round at all.
    expect(coverageOf(e, week, [], '2026-12-14', atLocal('2026-12-14', '09:00'))).toEqual({ status: 'overdue' });
  });

  test('an entry registered after the cycle ended owed nothing in it', () => {
    expect(coverageOf({ household: 'H-1', since: '2026-12-07' }, week, [], '2026-12-14', now)).toBeDefined();
    expect(coverageOf({ household: 'H-1', since: '2026-12-14' }, week, [], '2026-12-14', now)).toBeUndefined();
  });
});

describe('schedule.forEach in a definition', () => {
  const errorsOf = (doc: unknown) => validateDocument(doc).errors.map((e) => `${e.path}: ${e.message}`);

  test('the care-visit example is valid, and its registry block passes the fan-out checks', () => {
    expect(errorsOf(example)).toEqual([]);
    expect(checkScheduleFanOut(definitionDocument.parse(example))).toEqual([]);
  });

  test('a fan-out the definition cannot take is refused, each problem at its path with what would do', () => {
    const bad = structuredClone(example) as unknown as Record<string, any>;
    bad.schedule.fanOut = 'community';
    bad.schedule.forEach.registry.visitedStates = ['done'];
    delete bad.schedule.forEach.registry.cycles.低保;
    bad.schedule.forEach.registry.cycles.五保 = 'weekly';
    delete bad.input.properties.household;
    bad.input.required = ['cycle', 'dueDate'];
    bad.input.properties.cycle = { type: 'integer' };
    bad.businessKey = '{grid}/{input.cycle}';
    expect(errorsOf(bad)).toEqual([
      'schedule.fanOut: a schedule with forEach.registry starts each household\'s round in the household\'s grid; use fanOut: grids (got community)',
      'schedule.forEach.registry.cycles: category "低保" has no visit cycle; add "低保: weekly" or "低保: monthly" (an entry\'s own cycle still wins)',
      'schedule.forEach.registry.cycles.五保: "五保" is not among the categories (独居老人, 留守儿童, 空巢老人, 低保, 低收入, 特困, 残疾人); list it there or remove its cycle',
      'schedule.forEach.registry.visitedStates.0: "done" is no final state of the machine; final states: missed, visited',
      'input.properties: a round starts with input date, household, categories, cycle, period, dueDate; declare household (e.g. household: { type: string }, categories: { type: array, items: { type: string } })',
      'input.properties.cycle.type: the round\'s "cycle" is a string; declare type: string (got integer)',
      'businessKey: one round per household and cycle needs both in the key, e.g. "{input.household}/{input.cycle}" (got "{grid}/{input.cycle}")',
    ]);
  });

  test('an unknown category or cycle is refused by the schema, naming the ones there are', () => {
    const bad = structuredClone(example) as unknown as Record<string, any>;
    bad.schedule.forEach.registry.categories = ['独居老人', '孤寡'];
    bad.schedule.forEach.registry.cycles.独居老人 = 'daily';
    const errors = errorsOf(bad).join('\n');
    expect(errors).toContain('schedule.forEach.registry.categories.1: "孤寡" is not a registry category; use one of 低保, 低收入, 特困, 独居老人, 空巢老人, 留守儿童, 残疾人');
    expect(errors).toContain('schedule.forEach.registry.cycles.独居老人: "daily" is not allowed; use one of: weekly, monthly');
  });
});

describe('the care-visit example on a virtual clock', () => {
  const def = compileDefinition(definitionDocument.parse(example), cal);
  const at = (day: string, clock: string) => atLocal(day, clock);
  const input = { date: '2026-12-07', household: 'H-001', categories: ['独居老人'], cycle: '2026-W50', period: 'weekly', dueDate: '2026-12-11' };
  const start = (): Instance => startInstance(def, { input, grid: 'grid-11', day: '2026-12-07', businessKey: 'care-visit/H-001/2026-W50', at: at('2026-12-07', '08:00') }).instance;
  const notices = (steps: Step[]) => steps.flatMap((s) => s.effects.filter((e) => e.type === 'notify').map((e) => `${formatLocal(s.at).slice(5, 16)} ${(e.params.to as string[]).join('+')}: ${e.params.title}`));

  test('a round waits for the grid worker\'s visit, due 18:00 on the cycle\'s last working day', () => {
    expect(tasksOf(def, start())).toEqual([expect.objectContaining({ role: 'grid-worker', dueAt: at('2026-12-11', '18:00'), events: expect.arrayContaining(['VISIT', 'NOT_HOME']) })]);
  });

  test('a visit with the check-in form ends the round as visited, on time', () => {
    let inst = applyEvent(def, start(), { type: 'NOT_HOME', at: at('2026-12-08', '10:00'), actor: 'm-grid-11-worker' }).instance;
    const visit = applyEvent(def, inst, { type: 'VISIT', data: { met: 'in-person', wellbeing: 'needs-attention', needs: '需要助餐' }, at: at('2026-12-09', '15:00'), actor: 'm-grid-11-worker' });
    inst = visit.instance;
    expect(visit.to).toBe('visited');
    expect(inst.status).toBe('completed');
    expect(inst.context).toMatchObject({ attempts: 1, late: false, met: 'in-person', wellbeing: 'needs-attention' });
  });

  test('a round nobody visits: reminded the day before, the grid leader told at the due time, missed at midnight', () => {
    const { steps, instance } = fireDue(def, start(), at('2026-12-12', '00:00'));
    expect(notices(steps)).toEqual([
      '12-10T18:00 grid-worker: 走访提醒：care-visit/H-001/2026-W50 本周期尚未走访',
      '12-11T18:00 grid-leader: 督办：care-visit/H-001/2026-W50 走访已超时',
      '12-12T00:00 grid-worker+grid-leader: care-visit/H-001/2026-W50 本周期未走访',
    ]);
    expect(instance.status).toBe('completed');
    expect(instance.value).toBe('missed');
    expect(instance.context.late).toBe(true);
  });
});

import { checkRotaChange, dutyDay, nobodyOnDuty, rotaDay, type RotaEntry, type StaffMember } from '../../engine/rota';
import { scoreGrids, scoringRulesOf, type MonthFact, type ScoringRules } from '../../engine/scoring';
import { builtIn } from '../support/definitions';

const staff: StaffMember[] = [
  { id: 'leader', role: 'grid-leader' },
  { id: 'worker', role: 'grid-worker' },
  { id: 'pt-1', role: 'grid-part-time' },
  { id: 'pt-2', role: 'grid-part-time' },
  { id: 'police', role: 'grid-police' },
];

describe('who takes the worker\'s tasks on a day', () => {
  test('without entries the day is as before the rota: the worker, and the rota says nothing', () => {
    expect(dutyDay(staff, [])).toEqual({ recorded: false, onDuty: ['worker'], away: [], worker: { member: 'worker', why: 'no-rota' } });
    expect(nobodyOnDuty(dutyDay(staff, []))).toBe(false);
  });

  test('a worker on duty keeps their tasks, whoever else is on duty', () => {
    const d = dutyDay(staff, [{ member: 'pt-1', kind: 'duty' }, { member: 'pt-2', kind: 'rest' }]);
    expect(d.worker).toEqual({ member: 'worker', why: 'worker' });
    expect(d.onDuty).toEqual(['worker', 'pt-1']);
  });

  test('a worker on leave with a stand-in: the stand-in takes the tasks and is on duty without an entry of their own', () => {
    const d = dutyDay(staff, [{ member: 'worker', kind: 'leave', standIn: 'police' }]);
    expect(d.worker).toEqual({ member: 'police', why: 'stand-in', for: 'worker' });
    expect(d.onDuty).toEqual(['police']);
    expect(d.away).toEqual([{ member: 'worker', kind: 'leave', standIn: 'police' }]);
  });

  test('a worker resting without a stand-in: a part-time member on duty covers before the police officer and the leader', () => {
    const entries: RotaEntry[] = [
      { member: 'worker', kind: 'rest' },
      { member: 'leader', kind: 'duty' },
      { member: 'police', kind: 'duty' },
      { member: 'pt-2', kind: 'duty' },
    ];
    expect(dutyDay(staff, entries).worker).toEqual({ member: 'pt-2', why: 'cover', for: 'worker' });
    expect(dutyDay(staff, entries.filter((e) => e.member !== 'pt-2')).worker).toEqual({ member: 'police', why: 'cover', for: 'worker' });
    expect(dutyDay(staff, entries.filter((e) => e.member === 'worker' || e.member === 'leader')).worker).toEqual({ member: 'leader', why: 'cover', for: 'worker' });
  });

  test('a stand-in who is away too does not take the tasks: someone on duty covers, or nobody', () => {
    const away: RotaEntry[] = [
      { member: 'worker', kind: 'leave', standIn: 'pt-1' },
      { member: 'pt-1', kind: 'rest' },
    ];
    expect(dutyDay(staff, away).worker).toEqual({ member: null, why: 'nobody', for: 'worker' });
    expect(dutyDay(staff, [...away, { member: 'pt-2', kind: 'duty' }]).worker).toEqual({ member: 'pt-2', why: 'cover', for: 'worker' });
  });

  test('a day with everyone away and no stand-in has nobody on duty; one stand-in or duty entry is enough to have someone', () => {
    const everyone = staff.map((m): RotaEntry => ({ member: m.id, kind: m.id === 'worker' ? 'leave' : 'rest' }));
    expect(nobodyOnDuty(dutyDay(staff, everyone))).toBe(true);
    expect(nobodyOnDuty(dutyDay(staff, [{ member: 'worker', kind: 'leave' }]))).toBe(true);
    expect(nobodyOnDuty(dutyDay(staff, [{ member: 'worker', kind: 'leave', standIn: 'pt-1' }]))).toBe(false);
    expect(nobodyOnDuty(dutyDay(staff, [{ member: 'worker', kind: 'rest' }, { member: 'leader', kind: 'duty' }]))).toBe(false);
    // Only other members resting: the worker is on duty as always.
    expect(nobodyOnDuty(dutyDay(staff, [{ member: 'pt-1', kind: 'rest' }]))).toBe(false);
  });

  test('a grid without a full-time worker has nobody for the tasks unless someone is on duty', () => {
    const noWorker = staff.filter((m) => m.role !== 'grid-worker');
    expect(dutyDay(noWorker, [{ member: 'pt-1', kind: 'rest' }]).worker).toEqual({ member: null, why: 'nobody' });
    expect(dutyDay(noWorker, [{ member: 'police', kind: 'duty' }]).worker).toEqual({ member: 'police', why: 'cover' });
  });
});

describe('the day whose rota counts', () => {
  test('today, or the later day a process was started for; never an earlier day', () => {
    expect(rotaDay('2026-12-09', '2026-12-07')).toBe('2026-12-09');
    expect(rotaDay('2026-12-01', '2026-12-07')).toBe('2026-12-07');
    expect(rotaDay(undefined, '2026-12-07')).toBe('2026-12-07');
    expect(rotaDay('not a day', '2026-12-07')).toBe('2026-12-07');
  });
});

describe('what a rota change may say', () => {
  const check = (change: Parameters<typeof checkRotaChange>[4], others: RotaEntry[] = []) => checkRotaChange('grid-09', '2026-12-07', staff, others, change);

  test('a leave with a stand-in from the grid is fine', () => {
    expect(check({ member: 'worker', kind: 'leave', standIn: 'pt-1' })).toEqual([]);
  });

  test('members and stand-ins must be the grid\'s own staff; the message names the staff', () => {
    expect(check({ member: 'm-grid-03-worker', kind: 'duty' })).toEqual([
      { status: 400, path: 'member', message: '"m-grid-03-worker" is not an active member of grid-09; its staff: leader, worker, pt-1, pt-2, police' },
    ]);
    expect(check({ member: 'worker', kind: 'leave', standIn: 'm-grid-03-worker' })[0]).toMatchObject({ status: 400, path: 'standIn' });
  });

  test('a stand-in covers a rest day or leave of someone else', () => {
    expect(check({ member: 'pt-1', kind: 'duty', standIn: 'pt-2' })[0]).toMatchObject({ status: 400, path: 'standIn', message: expect.stringContaining('leave standIn out') });
    expect(check({ member: 'worker', kind: 'rest', standIn: 'worker' })[0]).toMatchObject({ status: 400, path: 'standIn', message: expect.stringContaining('themselves') });
  });

  test('a stand-in who is away that day is a conflict, and so is sending away someone who stands in for another', () => {
    expect(check({ member: 'worker', kind: 'leave', standIn: 'pt-1' }, [{ member: 'pt-1', kind: 'rest' }])).toEqual([
      { status: 409, path: 'standIn', message: '"pt-1" is on rest on 2026-12-07 and cannot stand in; name someone on duty' },
    ]);
    expect(check({ member: 'pt-1', kind: 'rest' }, [{ member: 'worker', kind: 'leave', standIn: 'pt-1' }])).toEqual([
      { status: 409, path: 'kind', message: '"pt-1" stands in for worker on 2026-12-07; name another stand-in for them first' },
    ]);
    // Going on duty while standing in for someone is no clash.
    expect(check({ member: 'pt-1', kind: 'duty' }, [{ member: 'worker', kind: 'leave', standIn: 'pt-1' }])).toEqual([]);
  });
});

describe('the monthly score with a rota', () => {
  const rules = scoringRulesOf(builtIn('monthly-review').doc) as ScoringRules;
  const patrol = (day: string, state: string, nobodyOnDuty?: boolean): MonthFact => ({ definition: 'daily-patrol', grid: 'grid-09', day, state, steps: [], ...(nobodyOnDuty ? { nobodyOnDuty } : {}) });

  test('a missed patrol of a day nobody was on duty is neither measured nor missed; one of a staffed day is a miss', () => {
    const [g] = scoreGrids([patrol('2026-12-01', 'completed'), patrol('2026-12-02', 'missed', true), patrol('2026-12-03', 'missed')], ['grid-09'], '2026-12', rules);
    expect(g.indicators).toMatchObject({ patrols: 2, patrolsCompleted: 1, patrolsMissed: 1, patrolsNobodyOnDuty: 1, patrolRate: 0.5 });
  });

  test('a patrol walked on a day nobody was on duty still counts for the grid', () => {
    const [g] = scoreGrids([patrol('2026-12-02', 'completed', true)], ['grid-09'], '2026-12', rules);
    expect(g.indicators).toMatchObject({ patrols: 1, patrolsCompleted: 1, patrolsNobodyOnDuty: 0, patrolRate: 1 });
  });
});

import { checkAccess, type AccessContext, type Actor } from '../../engine/access';
import { diffDefinitions } from '../../engine/diff';
import { accessContext, applyEvent, startInstance, type Instance } from '../../engine/engine';
import { validateDocument } from '../../engine/validate';
import { atLocal } from '../../engine/time';
import { builtIn } from '../support/definitions';

const issue = builtIn('issue');
const at = (day: string, clock: string) => atLocal(day, clock);
const person = (id: string, role: string, grids: string[] | 'all' = ['grid-04'], extra: Partial<Actor> = {}): Actor => ({ kind: 'person', id, role, grids, ...extra });
const worker = person('m-grid-04-worker', 'grid-worker');
const leader = person('m-grid-04-leader', 'grid-leader');

function send(inst: Instance, type: string, by: Actor, data?: Record<string, unknown>, when = at('2026-11-24', '10:00')) {
  return applyEvent(issue, inst, { type, data, at: when, actor: by.id, by }).instance;
}

function atDeliberation(): Instance {
  let inst = startInstance(issue, { input: { source: 'resident', category: 'x', description: 'y' }, grid: 'grid-04', day: '2026-11-23', businessKey: 'issue/x', at: at('2026-11-23', '09:00') }).instance;
  inst = send(inst, 'ACCEPT', worker);
  return send(inst, 'NEEDS_DELIBERATION', worker);
}

describe('access rules, on the virtual clock', () => {
  test('DECIDE is the grid leader\'s at grid level and the community\'s once escalated', () => {
    const inst = atDeliberation();
    const ctx = (i: Instance): AccessContext => accessContext(issue, i, 'DECIDE', at('2026-11-24', '11:00'));
    expect(checkAccess(ctx(inst), leader)).toBeUndefined();
    expect(checkAccess(ctx(inst), person('m-community-manager-1', 'community-manager', 'all'))?.code).toBe('forbidden');
    const up = send(inst, 'ESCALATE', leader, { reason: '需社区协调' });
    expect(up.context.level).toBe('community');
    expect(checkAccess(ctx(up), leader)?.message).toContain('may be sent by community-manager or party-secretary or manager of grid-04');
    expect(checkAccess(ctx(up), person('m-community-manager-1', 'community-manager', 'all'))).toBeUndefined();
  });

  test('someone holding the task (reassigned by the leader) may complete it; a process needs to be named', () => {
    const inst = atDeliberation();
    const ctx = accessContext(issue, inst, 'DECIDE', at('2026-11-24', '11:00'));
    expect(checkAccess(ctx, person('m-grid-04-part-time-1', 'grid-part-time', ['grid-04'], { holds: ['deliberation'] }))).toBeUndefined();
    expect(checkAccess(ctx, person('m-grid-04-part-time-1', 'grid-part-time', ['grid-04'], { holds: ['triage'] }))?.code).toBe('forbidden');
    const report: Actor = { kind: 'process', id: 'weekly-report/grid-04/2026-W48', role: 'weekly-report', grids: ['grid-04'] };
    expect(checkAccess(ctx, report)?.message).toContain('is not for the weekly-report process');
    expect(checkAccess(accessContext(issue, inst, 'ESCALATE', at('2026-11-24', '11:00')), report)).toBeUndefined();
  });

  test('separation of duties counts the manager behind an onBehalfOf as well as the member', () => {
    let inst = send(atDeliberation(), 'DECIDE', leader, { plan: 'p', owner: { kind: 'grid', name: 'grid-04' } });
    const manager = person('ops-manager', 'manager', 'all');
    inst = send(inst, 'RESOLVE', person('m-grid-04-worker', 'grid-worker', ['grid-04'], { by: manager }), { result: 'ok' });
    expect(inst.actors?.RESOLVE).toEqual(['m-grid-04-worker', 'ops-manager']);
    const ctx = accessContext(issue, inst, 'VERIFY_OK', at('2026-11-25', '10:00'));
    expect(checkAccess(ctx, person('m-grid-04-leader', 'grid-leader', ['grid-04'], { by: manager }))?.message).toContain('who sent RESOLVE (ops-manager)');
    expect(checkAccess(ctx, leader)).toBeUndefined();
  });
});

describe('the validator and the diff know the access block', () => {
  const doc = (access: unknown) => ({
    key: 'acc',
    title: 'acc',
    access,
    machine: { id: 'acc', initial: 'a', states: { a: { meta: { timers: [{ id: 't', when: { after: '1h' }, send: 'TICK' }] }, on: { GO: 'b', TICK: 'b' } }, b: { type: 'final' } } },
  });
  test.each([
    ['an event no state handles', { NOPE: { roles: ['grid-leader'] } }, 'access.NOPE', 'no state handles event "NOPE"'],
    ['a timer\'s event', { TICK: { roles: ['grid-leader'] } }, 'access.TICK', 'sent by a timer'],
    ['an unknown role', { GO: { roles: ['grid-leadr'] } }, 'access.GO.roles.0', 'unknown role "grid-leadr"'],
    ['separation from an event that does not exist', { GO: { roles: ['grid-leader'], notBy: ['SUBMITTED'] } }, 'access.GO.notBy.0', '"SUBMITTED" is no event of this machine'],
    ['a rule that lets nobody send it', { GO: { assignee: false } }, 'access.GO', 'lets nobody send it'],
  ])('%s is an error at its path', (_name, access, path, message) => {
    const r = validateDocument(doc(access));
    expect(r.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.stringContaining(message) })]));
  });

  test('a diff lists a rule added, changed or removed', () => {
    const a = validateDocument(doc({ GO: { roles: ['grid-leader'] } }));
    const b = validateDocument(doc({ GO: { roles: ['grid-worker'] } }));
    expect(a.errors).toEqual([]);
    const changes = diffDefinitions(a.document as never, b.document as never);
    expect(changes).toEqual([expect.objectContaining({ subject: 'access', kind: 'changed', name: 'GO' })]);
  });
});

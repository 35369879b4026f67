import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { layoutMachine, layoutMachineStrict, type DiagramLayout, type DiagramNode } from '../../web/src/diagram-layout';
import { damager } from './fixtures/damage';

const dir = path.join(__dirname, '..', '..', 'definitions');
const builtIns: Record<string, Record<string, unknown>> = Object.fromEntries(
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.definition.yaml'))
    .map((f) => {
      const doc = YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      return [doc.key as string, doc.machine as Record<string, unknown>];
    }),
);

type Rec = Record<string, any>;
const leavesOf = (l: DiagramLayout) => l.nodes.filter((n) => !n.compound);
const clustersOf = (l: DiagramLayout) => l.nodes.filter((n) => n.compound);
const byId = (l: DiagramLayout, id: string) => {
  const n = l.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
};
const intersects = (a: DiagramNode, b: DiagramNode) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a: DiagramNode, c: DiagramNode) => a.x >= c.x && a.y >= c.y && a.x + a.w <= c.x + c.w && a.y + a.h <= c.y + c.h;
const isAncestor = (c: DiagramNode, n: DiagramNode) => n.id.startsWith(`${c.id}.`);

/** Every leaf (dotted path) and every targeted transition ({from, to}) of a machine, resolved independently. */
function expected(machine: Rec) {
  const leaves: string[] = [];
  const transitions: { from: string; to: string; event: string }[] = [];
  const ids = new Map<string, string[]>([[machine.id, []]]);
  const walk = (config: Rec, p: string[], out: (c: Rec, p: string[]) => void) => {
    out(config, p);
    for (const [k, v] of Object.entries((config.states ?? {}) as Rec)) walk(v as Rec, [...p, k], out);
  };
  walk(machine, [], (c, p) => {
    if (p.length) ids.set(c.id ?? [machine.id, ...p].join('.'), p);
    if (p.length && !Object.keys(c.states ?? {}).length) leaves.push(p.join('.'));
  });
  walk(machine, [], (c, p) => {
    const add = (event: string, t: unknown) => {
      if (Array.isArray(t)) return t.forEach((x) => add(event, x));
      const target = typeof t === 'string' ? t : (t as Rec).target;
      if (typeof target !== 'string') return;
      let to: string[];
      if (target.startsWith('#')) {
        const [id, ...rest] = target.slice(1).split('.');
        to = [...(ids.get(id) as string[]), ...rest];
      } else if (target.startsWith('.')) to = [...p, ...target.slice(1).split('.')];
      else to = [...p.slice(0, -1), ...target.split('.')];
      transitions.push({ from: p.join('.'), to: to.join('.'), event });
    };
    for (const [event, t] of Object.entries((c.on ?? {}) as Rec)) add(event, t);
    if (c.always) add('always', c.always);
  });
  return { leaves, transitions };
}

/** Axis-aligned segments of an edge's route must not cross a leaf box other than its ends'. */
function segmentsThroughBoxes(l: DiagramLayout): string[] {
  const problems: string[] = [];
  for (const e of l.edges) {
    for (let i = 1; i < e.points.length; i++) {
      const a = e.points[i - 1];
      const b = e.points[i];
      if (a.x !== b.x && a.y !== b.y) continue; // a curve's span, checked by construction (it stays in a gap)
      for (const n of leavesOf(l)) {
        if (n.id === e.from || n.id === e.to || n.id.startsWith(`${e.from}.`) || n.id.startsWith(`${e.to}.`)) continue;
        const [x0, x1] = [Math.min(a.x, b.x), Math.max(a.x, b.x)];
        const [y0, y1] = [Math.min(a.y, b.y), Math.max(a.y, b.y)];
        if (x0 < n.x + n.w - 0.5 && x1 > n.x + 0.5 && y0 < n.y + n.h - 0.5 && y1 > n.y + 0.5) {
          problems.push(`${e.from} -${e.event}-> ${e.to} crosses ${n.id}`);
        }
      }
    }
  }
  return problems;
}

function checkGeometry(l: DiagramLayout) {
  const leaves = leavesOf(l);
  const clusters = clustersOf(l);
  for (const n of l.nodes) {
    expect(Number.isFinite(n.x + n.y + n.w + n.h)).toBe(true);
    expect(n.w).toBeGreaterThan(0);
    expect(n.h).toBeGreaterThan(0);
    expect(n.x).toBeGreaterThanOrEqual(0);
    expect(n.y).toBeGreaterThanOrEqual(0);
    expect(n.x + n.w).toBeLessThanOrEqual(l.width);
    expect(n.y + n.h).toBeLessThanOrEqual(l.height);
  }
  for (const [i, a] of leaves.entries()) {
    for (const b of leaves.slice(i + 1)) {
      if (intersects(a, b)) throw new Error(`leaves ${a.id} and ${b.id} overlap`);
    }
    for (const c of clusters) {
      if (isAncestor(c, a)) {
        if (!inside(a, c)) throw new Error(`leaf ${a.id} is not inside its container ${c.id}`);
      } else if (intersects(a, c)) {
        throw new Error(`leaf ${a.id} lies in the container ${c.id} it does not belong to`);
      }
    }
  }
  for (const [i, a] of clusters.entries()) {
    for (const b of clusters.slice(i + 1)) {
      if (isAncestor(a, b) || isAncestor(b, a)) continue;
      if (intersects(a, b)) throw new Error(`containers ${a.id} and ${b.id} overlap`);
    }
  }
  for (const e of l.edges) {
    expect(e.path).toMatch(/^M[\d.,\-]+/);
    expect(e.path).not.toMatch(/NaN|Infinity|undefined/);
    expect(Number.isFinite(e.labelX + e.labelY)).toBe(true);
  }
  expect(segmentsThroughBoxes(l)).toEqual([]);
}

describe('layoutMachine on the built-in definitions', () => {
  it('finds the four built-ins', () => {
    expect(Object.keys(builtIns).sort()).toEqual(['daily-patrol', 'issue', 'monthly-review', 'weekly-report']);
  });

  for (const key of ['daily-patrol', 'issue', 'monthly-review', 'weekly-report']) {
    describe(key, () => {
      const machine = builtIns[key];
      const l = layoutMachineStrict(machine);
      const want = expected(machine);

      it('draws every leaf as a box and every compound state as a container', () => {
        expect(leavesOf(l).map((n) => n.id).sort()).toEqual([...want.leaves].sort());
        for (const n of l.nodes) expect(n.compound).toBe(n.id !== '' && want.leaves.every((x) => x !== n.id));
      });

      it('draws an edge for every targeted transition', () => {
        const got = l.edges.map((e) => `${e.from} ${e.event} ${e.to}`).sort();
        expect(got).toEqual(want.transitions.map((t) => `${t.from} ${t.event} ${t.to}`).sort());
      });

      it('keeps boxes apart, containers around their own states only, and edges out of boxes', () => {
        checkGeometry(l);
      });

      it('makes boxes wide enough for their labels and marks final states', () => {
        for (const n of leavesOf(l)) {
          expect(n.w).toBeGreaterThanOrEqual(n.label.length * 7);
          expect(n.final).toBe((machineState(machine, n.id) as Rec).type === 'final');
        }
      });

      it('is deterministic', () => {
        expect(layoutMachine(JSON.parse(JSON.stringify(machine)))).toEqual(l);
      });
    });
  }

  it('ranks the issue main path left to right', () => {
    const l = layoutMachineStrict(builtIns.issue);
    const main = ['reported', 'active.triage', 'active.handling', 'verification', 'awaiting-evaluation', 'closed'];
    expect(l.mainPath).toEqual(main);
    for (let i = 1; i < main.length; i++) {
      expect(byId(l, main[i]).rank).toBeGreaterThan(byId(l, main[i - 1]).rank);
      expect(byId(l, main[i]).x).toBeGreaterThan(byId(l, main[i - 1]).x + byId(l, main[i - 1]).w);
    }
    expect(byId(l, 'active.deliberation').rank).toBeGreaterThan(byId(l, 'active.triage').rank);
    expect(byId(l, 'rejected').rank).toBe(1);
    expect(l.initial).toBe('reported');
    // Back edges: rework and reopening go back to handling.
    const back = l.edges.filter((e) => e.back).map((e) => `${e.from} ${e.event}`).sort();
    expect(back).toEqual([
      'active.community-review DISPATCH',
      'active.community-review DISPATCH',
      'active.community-review SEND_DOWN',
      'active.deliberation DECIDE',
      'active.deliberation DECIDE',
      'active.handling OVERDUE_ESCALATE',
      'active.handling RETURN',
      'active.street-review DISPATCH',
      'active.street-review DISPATCH',
      'active.street-review SEND_DOWN',
      'active.suspended RESUME',
      'awaiting-evaluation EVALUATE',
      'verification VERIFY_FAIL',
    ]);
    // Internal transitions are listed under their state (ESCALATE now moves the issue to the level above).
    expect(byId(l, 'active').internal.map((i) => i.label)).toEqual([]);
    expect(byId(l, 'active.handling').internal.map((i) => i.event)).toEqual(['ACKNOWLEDGE', 'PROGRESS', 'EXTEND', 'APPROVE_EXTENSION', 'REFUSE_EXTENSION', 'PAUSE', 'REFUSE_PAUSE']);
  });

  it('puts the daily patrol in a container and applies its transitions to its children', () => {
    const l = layoutMachineStrict(builtIns['daily-patrol']);
    const open = byId(l, 'open');
    expect(open.compound).toBe(true);
    expect(l.initial).toBe('open.assigned');
    expect(byId(l, 'open.assigned').rank).toBe(0);
    expect(byId(l, 'open.patrolling').rank).toBe(1);
    // DAY_END is declared on open, so its targets (walked: submitted-late; untouched: missed) are one step from assigned.
    expect(byId(l, 'missed').rank).toBe(1);
    expect(byId(l, 'submitted-late').rank).toBe(1);
    expect(byId(l, 'completed').rank).toBe(2);
    expect(l.edges.filter((e) => e.event === 'DAY_END').map((e) => [e.from, e.to])).toEqual([
      ['open', 'submitted-late'],
      ['open', 'missed'],
    ]);
    expect(open.internal.map((i) => i.event)).toEqual(['DUE']);
    expect(l.start).not.toBeNull();
  });

  it('marks the weekly report RETURN as a back edge', () => {
    const l = layoutMachineStrict(builtIns['weekly-report']);
    expect(l.edges.find((e) => e.event === 'RETURN')).toMatchObject({ from: 'review', to: 'drafting', back: true });
    expect(l.edges.find((e) => e.event === 'SUBMIT')).toMatchObject({ back: false, label: 'SUBMIT' });
    expect(l.mainPath).toEqual(['drafting', 'review', 'approved']);
  });
});

function machineState(machine: Rec, id: string): unknown {
  let cur: Rec = machine;
  for (const k of id.split('.')) cur = cur.states[k];
  return cur;
}

describe('layoutMachine on drafts', () => {
  const drafts: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a string', 'machine'],
    ['a number', 42],
    ['an array', [1, 2]],
    ['no states', { id: 'x', initial: 'a' }],
    ['empty states', { id: 'x', initial: 'a', states: {} }],
    ['states as a string', { id: 'x', initial: 'a', states: 'a, b' }],
    ['a state as a string', { id: 'x', initial: 'a', states: { a: 'oops', b: {} } }],
    ['a state typed without a body', { id: 'x', initial: 'a', states: { a: { on: { GO: 'b' } }, b: null } }],
    ['a missing target', { id: 'x', initial: 'a', states: { a: { on: { GO: { target: 'nowhere' } } } } }],
    ['a target-less, guard-only transition', { id: 'x', initial: 'a', states: { a: { on: { GO: { guard: 'g' } } } } }],
    ['an event without a body', { id: 'x', initial: 'a', states: { a: { on: { GO: null } } } }],
    ['on as a string', { id: 'x', initial: 'a', states: { a: { on: 'GO' } } }],
    ['a transition list with junk', { id: 'x', initial: 'a', states: { a: { on: { GO: [null, 3, 'b', ['c'], { target: 7 }] } }, b: {} } }],
    ['an unknown initial', { id: 'x', initial: 'zzz', states: { a: {}, b: { initial: 'nope', states: { c: {} } } } }],
    ['an empty compound', { id: 'x', initial: 'a', states: { a: { states: {} } } }],
    ['no id', { initial: 'a', states: { a: { on: { GO: '#x.b' } }, b: {} } }],
    ['a target on the machine', { id: 'x', initial: 'a', on: { RESET: '.a', BAD: 'a' }, states: { a: {} } }],
    ['a self-transition', { id: 'x', initial: 'a', states: { a: { on: { AGAIN: 'a', DOT: '.' } } } }],
    ['a parallel state', { id: 'x', initial: 'p', states: { p: { type: 'parallel', states: { r: { initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } }, s: { initial: 'c', states: { c: {} } } } } } }],
    ['a final state with states', { id: 'x', initial: 'a', states: { a: { type: 'final', states: { b: {} }, on: { GO: 'a' } } } }],
    ['dotted keys', { id: 'x', initial: 'a', states: { 'a.b': {}, a: {} } }],
    ['an always loop', { id: 'x', initial: 'a', states: { a: { always: 'b' }, b: { always: [{ target: 'a', guard: { type: 'g' } }] } } }],
    ['a target array', { id: 'x', initial: 'a', states: { a: { on: { GO: { target: ['b', 5, 'c'] } } }, b: {}, c: {} } }],
    ['a guard of the wrong shape', { id: 'x', initial: 'a', states: { a: { on: { GO: { target: 'b', guard: 5 } } }, b: {} } }],
  ];

  it.each(drafts)('does not throw on %s', (_name, machine) => {
    const l = layoutMachineStrict(machine);
    expect(layoutMachine(machine)).toEqual(l);
    checkGeometry(l);
    expect(l.width).toBeGreaterThan(0);
    expect(l.height).toBeGreaterThan(0);
  });

  it('skips unknown targets, listing them under their state', () => {
    const l = layoutMachineStrict({ id: 'x', initial: 'a', states: { a: { on: { GO: 'nowhere', NEXT: 'b' } }, b: {} } });
    expect(l.edges.map((e) => e.event)).toEqual(['NEXT']);
    expect(byId(l, 'a').internal).toEqual([expect.objectContaining({ event: 'GO', unresolved: 'nowhere' })]);
  });

  it('draws a state typed without a body yet, and ignores a state that is not an object', () => {
    const l = layoutMachineStrict({ id: 'x', initial: 'a', states: { a: { on: { GO: 'b' } }, b: null, c: 'junk' } });
    expect(leavesOf(l).map((n) => n.id)).toEqual(['a', 'b']);
    expect(l.edges).toHaveLength(1);
  });

  it('survives a YAML alias cycle', () => {
    const a: Rec = { on: { GO: 'a' } };
    a.states = { inner: a };
    expect(() => layoutMachineStrict({ id: 'x', initial: 'a', states: { a } })).not.toThrow();
    expect(() => layoutMachine({ id: 'x', initial: 'a', states: { a } })).not.toThrow();
  });

  it('survives random damage to the built-ins', () => {
    const damage = damager(7);
    let drawn = 0;
    for (let i = 0; i < 200; i++) {
      const machine = damage(Object.values(builtIns)[i % 4]);
      const l = layoutMachineStrict(machine);
      checkGeometry(l);
      drawn += l.nodes.length;
    }
    expect(drawn).toBeGreaterThan(600); // the damage leaves most of each diagram standing
  });

  it('has geometry checks that catch overlaps and edges through boxes', () => {
    const l = layoutMachineStrict(builtIns.issue);
    const moved = structuredClone(l);
    Object.assign(byId(moved, 'rejected'), { x: byId(l, 'reported').x, y: byId(l, 'reported').y });
    expect(() => checkGeometry(moved)).toThrow(/overlap/);
    const intruder = structuredClone(l);
    Object.assign(byId(intruder, 'closed'), { x: byId(l, 'active.triage').x + 2, y: byId(l, 'active.triage').y + byId(l, 'active.triage').h + 4 });
    expect(() => checkGeometry(intruder)).toThrow(/container active/);
    const crossed = structuredClone(l);
    const straight = crossed.edges.find((e) => e.event === 'REJECT')!;
    straight.points = [{ x: 0, y: byId(l, 'verification').y + 5 }, { x: l.width, y: byId(l, 'verification').y + 5 }];
    expect(segmentsThroughBoxes(crossed)).toContain('reported -REJECT-> rejected crosses verification');
  });

});

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { layoutMachineStrict, textWidth, type DiagramLayout } from '../../web/src/diagram-layout';
import { damager } from './fixtures/damage';

/**
 * The layout's exact output, pinned: the four built-ins in full (so a change shows as a readable
 * diff of coordinates and paths), and a digest each of drafts and damaged built-ins that take the
 * rarer paths (parallel states, self-loops, unresolved targets, junk). A deliberate change to the
 * layout rewrites the pins with `PIN_LAYOUTS=write npx jest test/unit/diagram-layout-pinned`.
 */

type Rec = Record<string, unknown>;
const definitionsDir = path.join(__dirname, '..', '..', 'definitions');
const pinFile = path.join(__dirname, 'fixtures', 'built-in-layouts.json');

const builtIns: [string, Rec][] = fs
  .readdirSync(definitionsDir)
  .filter((f) => f.endsWith('.definition.yaml'))
  .sort()
  .map((f) => {
    const doc = YAML.parse(fs.readFileSync(path.join(definitionsDir, f), 'utf8'));
    return [doc.key as string, doc.machine as Rec];
  });

const drafts: [string, unknown][] = [
  ['parallel', { id: 'x', initial: 'p', states: { p: { type: 'parallel', on: { STOP: 'done' }, states: { r: { initial: 'a', states: { a: { on: { GO: 'b' } }, b: { on: { BACK: 'a' } } } }, s: { initial: 'c', states: { c: { on: { NEXT: '#x.done' } } } } } }, done: { type: 'final' } } }],
  ['self loops and internal', { id: 'x', initial: 'a', on: { RESET: '.a' }, states: { a: { on: { AGAIN: 'a', NOTE: { guard: 'g' }, LOST: 'nowhere', GO: 'b' } }, b: { always: [{ target: 'a', guard: { type: 'back' } }, 'c'] }, c: { type: 'final' } } }],
  ['nested compounds', { id: 'x', initial: 'o', states: { o: { initial: 'i', on: { OUT: 'z' }, states: { i: { initial: 'j', states: { j: { on: { K: 'k' } }, k: { on: { UP: '#x.o.m' } } } }, m: { on: { DOWN: 'i.k' } } } }, y: { on: { TO: 'o' } }, z: { on: { Y: 'y' } } } }],
  ['a long row of siblings', { id: 'x', initial: 's0', states: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`s${i}`, { on: { NEXT: `s${(i + 1) % 9}`, JUMP: `s${(i + 4) % 9}`, 终止: 's8' } }])) }],
];

/** The built-ins after seeded random damage (fixtures/damage.ts, with a seed of its own). */
function damagedBuiltIns(count: number): [string, unknown][] {
  const damage = damager(11);
  return Array.from({ length: count }, (_, i) => [`damaged ${builtIns[i % builtIns.length][0]} #${i}`, damage(builtIns[i % builtIns.length][1])]);
}

const digest = (l: DiagramLayout) => createHash('sha256').update(JSON.stringify(l)).digest('hex').slice(0, 16);

function computePins() {
  return {
    builtIns: Object.fromEntries(builtIns.map(([key, machine]) => [key, layoutMachineStrict(machine)])),
    digests: Object.fromEntries([...drafts, ...damagedBuiltIns(60)].map(([name, machine]) => [name, digest(layoutMachineStrict(machine))])),
  };
}

describe('the diagram layout, pinned', () => {
  if (process.env.PIN_LAYOUTS === 'write') {
    it('writes the pins', () => {
      fs.writeFileSync(pinFile, `${JSON.stringify(computePins(), null, 1)}\n`);
    });
    return;
  }
  const pinned = JSON.parse(fs.readFileSync(pinFile, 'utf8')) as ReturnType<typeof computePins>;
  const now = computePins();

  it('pins all four built-ins', () => {
    expect(Object.keys(pinned.builtIns).sort()).toEqual(builtIns.map(([k]) => k));
  });

  it.each(builtIns.map(([key]) => key))('lays out the %s definition exactly as pinned', (key) => {
    // Node boxes first: a moved box is the clearest failure to read.
    const boxes = (l: DiagramLayout) => l.nodes.map((n) => ({ id: n.id, x: n.x, y: n.y, w: n.w, h: n.h, rank: n.rank }));
    expect(boxes(now.builtIns[key])).toEqual(boxes(pinned.builtIns[key]));
    expect(now.builtIns[key]).toEqual(pinned.builtIns[key]);
  });

  it('lays out drafts and damaged built-ins exactly as pinned', () => {
    expect(Object.keys(now.digests).length).toBeGreaterThanOrEqual(60);
    expect(now.digests).toEqual(pinned.digests);
  });
});

describe('the diagram layout with display names', () => {
  const issueDoc = YAML.parse(fs.readFileSync(path.join(definitionsDir, 'issue.definition.yaml'), 'utf8'));
  const labels = issueDoc.labels as { states: Record<string, { zh: string }>; events: Record<string, { zh: string }> };
  const names = { state: (k: string) => labels.states[k]?.zh, event: (e: string) => labels.events[e]?.zh };
  const named = layoutMachineStrict(issueDoc.machine, names);

  it('draws each state and event by its name, keeping the codes as ids', () => {
    const handling = named.nodes.find((n) => n.id === 'active.handling');
    expect(handling).toMatchObject({ key: 'handling', label: '办理中' });
    expect(named.nodes.find((n) => n.id === 'active')?.label).toBe('已受理');
    const verified = named.edges.find((e) => e.event === 'VERIFY_OK');
    expect(verified).toMatchObject({ from: 'verification', to: 'awaiting-evaluation', label: '核查通过' });
    expect(named.edges.find((e) => e.event === 'EVALUATE' && e.guard)?.label).toBe('评价 [compare]');
  });

  it('sizes boxes for the names and keeps them apart', () => {
    const leaves = named.nodes.filter((n) => !n.compound);
    for (const n of leaves) expect(n.w).toBeGreaterThanOrEqual(textWidth(n.label) + 28 - 0.1);
    for (const a of leaves) {
      for (const b of leaves) {
        if (a !== b) expect(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).toBe(false);
      }
    }
  });

  it('keeps a code where a name is missing, and lays out exactly as pinned with no names at all', () => {
    const partial = layoutMachineStrict(issueDoc.machine, { state: (k) => (k === 'closed' ? '已办结' : undefined) });
    expect(partial.nodes.find((n) => n.id === 'closed')?.label).toBe('已办结');
    expect(partial.nodes.find((n) => n.id === 'rejected')?.label).toBe('rejected');
    expect(layoutMachineStrict(issueDoc.machine, {})).toEqual(layoutMachineStrict(issueDoc.machine));
  });
});

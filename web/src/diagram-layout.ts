/**
 * Lays out a state diagram for the `machine` part of a definition document (an XState v5 config as
 * JSON). Pure: no DOM, no imports; it never throws, because the input may be a draft the operator is
 * still typing. Unknown targets and non-object states are skipped (targets are listed under their
 * state as unresolved); `null` states (a key typed without a body yet) are drawn as empty leaves.
 *
 * Columns are ranks: the distance from the initial leaf along transitions (a transition declared on a
 * compound state applies to all its descendants; a compound target counts as its initial leaf). Rows
 * are given out in bands: the top-level leaves share the first band and every compound state gets
 * its own band of rows below, recursively, so a container never covers an unrelated state. Edges run
 * between boxes, in the gaps between columns and rows (their "lanes"), never through a box.
 */

export interface DiagramPoint {
  x: number;
  y: number;
}

export interface DiagramInternal {
  event: string;
  guard?: string;
  /** Set when the transition has a target that names no state (drawn as "EVENT → ?target"). */
  unresolved?: string;
  /** How many such transitions (guarded alternatives of one event are folded into one line). */
  count: number;
  label: string;
}

export interface DiagramNode {
  /** The dotted path of state keys, e.g. "open.assigned". */
  id: string;
  key: string;
  /** What the box shows: the state's display name (see DiagramNames), else its key. */
  label: string;
  /** The box (a leaf) or the container (a compound state). */
  x: number;
  y: number;
  w: number;
  h: number;
  final: boolean;
  compound: boolean;
  /** 0 for top-level states. */
  depth: number;
  /** The column of a leaf; for a compound state its first column. */
  rank: number;
  /** The dotted path of the parent state, or null at the top level. */
  parent: string | null;
  /** The initial state of its parent (or of the machine). */
  initial: boolean;
  /** `meta.task.title`, if any. */
  task?: string;
  /** Transitions that stay in the state (no target) or whose target names no state. */
  internal: DiagramInternal[];
}

export interface DiagramEdge {
  /** The dotted path of the state declaring the transition (a compound state's applies to all its descendants). */
  from: string;
  /** The dotted path of the target state (a compound one is entered at its initial state). */
  to: string;
  /** The event, or "always" for an eventless transition. */
  event: string;
  guard?: string;
  /** Event plus guard type, e.g. "SUBMIT [compare]". */
  label: string;
  /** The route's corner points, start to end (before rounding). */
  points: DiagramPoint[];
  /** SVG path data. */
  path: string;
  /** SVG polygon points of the arrowhead. */
  arrow: string;
  /** The centre of the label. */
  labelX: number;
  labelY: number;
  labelW: number;
  /** To a lower or equal rank. */
  back: boolean;
}

export interface DiagramLayout {
  width: number;
  height: number;
  /** Leaves and compound states, in document order (parents before children). */
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  /** The machine's initial leaf, dotted path. */
  initial: string | null;
  /** The marker pointing at the machine's initial state. */
  start: { cx: number; cy: number; path: string; arrow: string } | null;
  /** From the initial leaf along the first transition that goes a rank further, each time. */
  mainPath: string[];
  /** Transitions declared on the machine itself ("EVENT → target"). */
  machineTransitions: string[];
}

/**
 * Display names to draw instead of codes (a definition's labels); a name that is undefined keeps
 * the code. Boxes and labels are sized for what is drawn, so named and unnamed layouts differ.
 */
export interface DiagramNames {
  state?: (key: string) => string | undefined;
  event?: (event: string) => string | undefined;
}

/** Sizes (px) shared with diagram.tsx. */
export const DIAGRAM = {
  fontSize: 13,
  smallFont: 11,
  labelHeight: 14,
  boxHeight: 34,
  lineHeight: 14,
  clusterHead: 24,
} as const;

type Rec = Record<string, unknown>;

const MARGIN = 14;
const PAD = 10; // cluster padding left/right
const FOOT = 10; // cluster padding below
const LANE_X = 8;
const LANE_Y = 18;
const MIN_COL_LANES = 40;
const MIN_ROW_LANES = 22;
const BOX_MIN_W = 76;
const ARROW = 7;
const MAX_STATES = 400;
const MAX_DEPTH = 24;

const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An estimate of a sans-serif text width (state names; CJK full width). */
export function textWidth(s: string, size: number = DIAGRAM.fontSize): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x2e80) w += 1;
    else if ("iljtfrI.,:;|!'` ()[]".includes(ch)) w += 0.34;
    else if ((ch >= 'A' && ch <= 'Z') || ch === 'm' || ch === 'w') w += 0.74;
    else w += 0.58;
  }
  return Math.ceil(w * size);
}

/** Monospace width (event labels). */
export function monoWidth(s: string, size: number = DIAGRAM.smallFont): number {
  let w = 0;
  for (const ch of s) w += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 1 : 0.62;
  return Math.ceil(w * size);
}

interface SNode {
  key: string;
  /** What the box shows: the display name, else the key. */
  label: string;
  path: string[];
  id: string;
  xid: string;
  config: Rec;
  parent?: SNode;
  children: SNode[];
  childMap: Map<string, SNode>;
  kind: 'root' | 'leaf' | 'final' | 'compound' | 'parallel';
  depth: number;
  // layout
  rank: number;
  row: number;
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  w: number;
  h: number;
  x: number;
  y: number;
  internal: DiagramInternal[];
  initial: boolean;
}

interface Trans {
  source: SNode;
  event: string;
  guard?: string;
  targets: string[];
}

const isLeaf = (n: SNode) => n.kind === 'leaf' || n.kind === 'final';

function guardName(g: unknown): string | undefined {
  if (typeof g === 'string') return g || undefined;
  if (isObj(g) && typeof g.type === 'string') return g.type || undefined;
  if (g !== undefined && g !== null) return '?';
  return undefined;
}

function short(s: string, max = 28): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function edgeLabel(event: string, guard?: string): string {
  return guard ? `${short(event)} [${short(guard, 16)}]` : short(event);
}

const emptyLayout = (): DiagramLayout => ({ width: 240, height: 40, nodes: [], edges: [], initial: null, start: null, mainPath: [], machineTransitions: [] });

/**
 * The diagram of `machine` (a MachineConfig, or any draft of one). Never throws: a bug in here
 * yields an empty diagram rather than taking the editor down.
 */
export function layoutMachine(machine: unknown, names?: DiagramNames): DiagramLayout {
  try {
    return layoutMachineStrict(machine, names);
  } catch {
    return emptyLayout();
  }
}

/** layoutMachine without the safety net, for the tests. */
export function layoutMachineStrict(machine: unknown, names: DiagramNames = {}): DiagramLayout {
  // Each phase reads what the earlier ones left on the nodes (kind, internal lines, rank, row,
  // spans, sizes, positions); the order below is the order they depend on each other.
  const tree = buildTree(machine, names);
  if (!tree.leaves.length) return emptyLayout();
  markInitials(tree);
  const { resolved, machineTransitions } = resolveTransitions(tree, collectTransitions(tree));
  const ranks = assignRanks(tree, resolved);
  const rowCount = assignRows(tree.root, 0);
  const compounds = spanCompounds(tree);
  const sizes = sizeBoxes(tree, compounds, ranks.cols, rowCount);
  const routes = planRoutes(tree, resolved);
  const grid = placeGrid(tree, compounds, ranks.cols, rowCount, sizes, routes);
  const edges = drawEdges(routes.plans, grid);
  separateLabels(edges);
  const { width, height } = extent(grid, edges);
  return {
    width: Math.ceil(width),
    height: Math.ceil(height),
    nodes: toNodes(tree),
    edges,
    initial: ranks.startLeaves[0]?.id ?? null,
    start: startMarker(ranks.rootInitial, grid),
    mainPath: followMainPath(ranks),
    machineTransitions,
  };
}

// --- Phase 1: the state tree ---------------------------------------------------------------------

interface Tree {
  root: SNode;
  /** Every node, the root first, in document order. */
  all: SNode[];
  /** By XState id (`#id` targets); the first node wins a duplicate id. */
  ids: Map<string, SNode>;
  /** Every node but the root. */
  states: SNode[];
  leaves: SNode[];
  /** An event as drawn: its display name, else the event. */
  eventText: (event: string) => string;
}

/** The nodes of the machine, skipping what cannot be a state (junk, dotted keys, alias cycles, runaway size). */
function buildTree(machine: unknown, names: DiagramNames): Tree {
  const rootConfig: Rec = isObj(machine) ? machine : {};
  const machineId = typeof rootConfig.id === 'string' ? rootConfig.id : '';
  const all: SNode[] = [];
  const ids = new Map<string, SNode>();
  const onPath = new Set<unknown>();
  function build(key: string, config: Rec, parent: SNode | undefined): SNode {
    const path = parent ? [...parent.path, key] : [];
    const node: SNode = {
      key, label: (parent && names.state?.(key)) || key, path, id: path.join('.'), xid: '', config, parent, children: [], childMap: new Map(),
      kind: 'leaf', depth: path.length - 1, rank: -1, row: -1, r0: 0, r1: 0, c0: 0, c1: 0, w: 0, h: 0, x: 0, y: 0,
      internal: [], initial: false,
    };
    node.xid = !parent ? machineId : typeof config.id === 'string' && config.id ? config.id : [machineId, ...path].join('.');
    all.push(node);
    if (!ids.has(node.xid)) ids.set(node.xid, node);
    onPath.add(config);
    const states = config.states;
    if (config.type !== 'final' && isObj(states) && path.length < MAX_DEPTH) {
      for (const [k, v] of Object.entries(states)) {
        if (all.length >= MAX_STATES) break;
        if (!k || k.includes('.')) continue;
        if (v !== null && v !== undefined && !isObj(v)) continue;
        if (isObj(v) && onPath.has(v)) continue; // a YAML alias cycle
        const child = build(k, isObj(v) ? v : {}, node);
        node.children.push(child);
        node.childMap.set(k, child);
      }
    }
    onPath.delete(config);
    if (!parent) node.kind = 'root';
    else if (config.type === 'final') node.kind = 'final';
    else if (node.children.length) node.kind = config.type === 'parallel' ? 'parallel' : 'compound';
    return node;
  }
  const root = build('', rootConfig, undefined);
  const states = all.filter((n) => n !== root);
  return { root, all, ids, states, leaves: states.filter(isLeaf), eventText: (event) => names.event?.(event) || event };
}

function initialChild(n: SNode): SNode | undefined {
  return (typeof n.config.initial === 'string' ? n.childMap.get(n.config.initial) : undefined) ?? n.children[0];
}

/** The leaves a transition into `n` lands on (a parallel state enters every region). */
function initialLeaves(n: SNode): SNode[] {
  if (isLeaf(n)) return [n];
  if (n.kind === 'parallel') return n.children.flatMap(initialLeaves);
  const c = initialChild(n);
  return c ? initialLeaves(c) : [];
}

function markInitials(tree: Tree): void {
  for (const n of tree.all) {
    if (n.kind === 'compound' || n.kind === 'root') {
      const c = initialChild(n);
      if (c) c.initial = true;
    }
  }
}

// --- Phase 2: transitions ------------------------------------------------------------------------

interface Resolved {
  t: Trans;
  target: SNode;
}

/** Every `on` and `always` transition, one per target list entry; a final state's are ignored. */
function collectTransitions(tree: Tree): Trans[] {
  const transitions: Trans[] = [];
  function collect(source: SNode, config: unknown, event: string) {
    if (Array.isArray(config)) {
      for (const c of config) if (!Array.isArray(c)) collect(source, c, event);
    } else if (typeof config === 'string') {
      transitions.push({ source, event, targets: [config] });
    } else if (isObj(config)) {
      const t = config.target;
      const targets = typeof t === 'string' ? [t] : Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
      transitions.push({ source, event, guard: guardName(config.guard), targets });
    } else if (config === null) {
      transitions.push({ source, event, targets: [] }); // "EVENT:" typed without a body yet
    }
  }
  for (const n of tree.all) {
    if (isLeaf(n) && n.kind === 'final') continue;
    if (isObj(n.config.on)) for (const [event, c] of Object.entries(n.config.on)) collect(n, c, event);
    if (n.config.always !== undefined) collect(n, n.config.always, 'always');
  }
  return transitions;
}

/** The state a target names, as XState reads it: `#id.path`, `.child` or a sibling's path. */
function resolveTarget(tree: Tree, source: SNode, target: string): SNode | undefined {
  if (!target) return undefined;
  let cur: SNode | undefined;
  let segments: string[];
  if (target.startsWith('#')) {
    const [id, ...rest] = target.slice(1).split('.');
    cur = tree.ids.get(id);
    segments = rest;
  } else if (target.startsWith('.')) {
    cur = source;
    segments = target.slice(1).split('.');
  } else {
    cur = source.parent;
    segments = target.split('.');
  }
  for (const seg of segments) {
    if (!cur) return undefined;
    if (!seg) break;
    cur = cur.childMap.get(seg);
  }
  return cur === tree.root ? undefined : cur;
}

function addInternal(n: SNode, item: DiagramInternal): void {
  const same = n.internal.find((i) => i.label.replace(/ ×\d+$/, '') === item.label);
  if (!same) n.internal.push(item);
  else same.label = `${item.label} ×${++same.count}`;
}

/**
 * Splits the transitions into edges (a resolved target), lines inside their state (no target, or
 * one that names no state) and the machine's own transitions, listed as text.
 */
function resolveTransitions(tree: Tree, transitions: Trans[]): { resolved: Resolved[]; machineTransitions: string[] } {
  const resolved: Resolved[] = [];
  const machineTransitions: string[] = [];
  for (const t of transitions) {
    const label = edgeLabel(tree.eventText(t.event), t.guard);
    if (!t.targets.length) {
      if (t.source !== tree.root) addInternal(t.source, { event: t.event, guard: t.guard, count: 1, label: `↻ ${label}` });
      else machineTransitions.push(`${label}（不离开状态）`);
      continue;
    }
    for (const value of t.targets) {
      const target = resolveTarget(tree, t.source, value);
      if (t.source === tree.root) {
        machineTransitions.push(`${label} → ${target ? target.id : `?${value}`}`);
      } else if (target) {
        resolved.push({ t, target });
      } else {
        addInternal(t.source, { event: t.event, guard: t.guard, unresolved: value, count: 1, label: `${label} → ?${short(value, 20)}` });
      }
    }
  }
  return { resolved, machineTransitions };
}

// --- Phase 3: ranks (columns) --------------------------------------------------------------------

interface Ranking {
  cols: number;
  rootInitial: SNode | undefined;
  startLeaves: SNode[];
  /** The edges that leave a leaf: its own and its ancestors'. */
  outOf: (leaf: SNode) => Resolved[];
}

/** A leaf's rank is its breadth-first distance from the initial leaf; unreachable leaves start at 0. */
function assignRanks(tree: Tree, resolved: Resolved[]): Ranking {
  const applicable = (leaf: SNode): Resolved[] => {
    const out: Resolved[] = [];
    for (let n: SNode | undefined = leaf; n && n !== tree.root; n = n.parent) {
      for (const r of resolved) if (r.t.source === n) out.push(r);
    }
    return out;
  };
  const applicableCache = new Map<SNode, Resolved[]>();
  const outOf = (leaf: SNode) => {
    let list = applicableCache.get(leaf);
    if (!list) applicableCache.set(leaf, (list = applicable(leaf)));
    return list;
  };
  const rootInitial = initialChild(tree.root);
  const startLeaves = rootInitial ? initialLeaves(rootInitial) : [];
  const bfs = (seeds: SNode[], base: number) => {
    const queue: SNode[] = [];
    for (const s of seeds) {
      if (s.rank < 0) {
        s.rank = base;
        queue.push(s);
      }
    }
    while (queue.length) {
      const leaf = queue.shift() as SNode;
      for (const r of outOf(leaf)) {
        for (const next of initialLeaves(r.target)) {
          if (next.rank < 0) {
            next.rank = leaf.rank + 1;
            queue.push(next);
          }
        }
      }
    }
  };
  bfs(startLeaves, 0);
  for (const leaf of tree.leaves) if (leaf.rank < 0) bfs([leaf], 0);
  const cols = Math.max(...tree.leaves.map((l) => l.rank)) + 1;
  return { cols, rootInitial, startLeaves, outOf };
}

// --- Phase 4: rows, then the spans of compound states ---------------------------------------------

/** Rows from `start`: `n`'s leaves share the first band, then each compound child gets its own band. Returns the next free row. */
function assignRows(n: SNode, start: number): number {
  const byRank = new Map<number, number>();
  let rows = 0;
  for (const c of n.children) {
    if (!isLeaf(c)) continue;
    const i = byRank.get(c.rank) ?? 0;
    byRank.set(c.rank, i + 1);
    c.row = start + i;
    c.r0 = c.r1 = c.row;
    c.c0 = c.c1 = c.rank;
    rows = Math.max(rows, i + 1);
  }
  let cursor = start + rows;
  for (const c of n.children) {
    if (isLeaf(c)) continue;
    c.r0 = cursor;
    cursor = assignRows(c, cursor);
    c.r1 = cursor - 1;
  }
  return cursor;
}

/** The compound states, with their column spans set innermost first (a compound's rank is its first column). */
function spanCompounds(tree: Tree): SNode[] {
  const compounds = tree.states.filter((n) => !isLeaf(n));
  for (const c of [...compounds].reverse()) {
    c.c0 = Math.min(...c.children.map((k) => k.c0));
    c.c1 = Math.max(...c.children.map((k) => k.c1));
    c.rank = c.c0;
  }
  return compounds;
}

// --- Phase 5: box sizes --------------------------------------------------------------------------

interface Sizes {
  colW: number[];
  rowH: number[];
}

/** Each leaf fits its name and inside lines; columns widen until every container's heading fits. */
function sizeBoxes(tree: Tree, compounds: SNode[], cols: number, rowCount: number): Sizes {
  const { leaves } = tree;
  for (const l of leaves) {
    const lines = l.internal.map((i) => monoWidth(i.label));
    l.w = Math.max(BOX_MIN_W, textWidth(l.label) + 28, ...lines.map((w) => w + 20));
    l.h = DIAGRAM.boxHeight + DIAGRAM.lineHeight * l.internal.length + (l.internal.length ? 4 : 0);
  }
  const colW = Array.from({ length: cols }, (_, c) => Math.max(0, ...leaves.filter((l) => l.rank === c).map((l) => l.w)));
  const rowH = Array.from({ length: rowCount }, (_, r) => Math.max(0, ...leaves.filter((l) => l.row === r).map((l) => l.h)));
  const clusterHeadText = (n: SNode) => [n.label, ...n.internal.map((i) => i.label)];
  for (const c of compounds) {
    const [head, ...rest] = clusterHeadText(c);
    const need = textWidth(head) + rest.reduce((s, t) => s + monoWidth(t) + 10, 0) + 24;
    let have = -2 * PAD;
    for (let k = c.c0; k <= c.c1; k++) have += colW[k] + (k > c.c0 ? MIN_COL_LANES : 0);
    if (have < need) colW[c.c1] += need - have;
  }
  return { colW, rowH };
}

// --- Phase 6: routes in grid terms, and lanes in the gaps -----------------------------------------

type Route =
  | { kind: 'adjacent' }
  | { kind: 'straight' }
  | { kind: 'vertical'; col: number; down: boolean }
  | { kind: 'loop'; gap: number; lane: number } // below the source's row, into the target's bottom
  | { kind: 'channel'; exitGap: number; entryGap: number; gap: number; exitRow: number; entryRow: number; exitLane: number; entryLane: number; lane: number };

interface Plan {
  r: Resolved;
  S: SNode;
  T: SNode;
  route: Route;
  back: boolean;
  label: string;
  labelW: number;
}

/** A stretch of a gap an edge runs along; `set` receives the lane it is given. */
interface Seg {
  lo: number;
  hi: number;
  set: (lane: number) => void;
}

interface Routes {
  plans: Plan[];
  /** Lanes needed in each gap between rows and between columns. */
  rowLanes: Map<number, number>;
  colLanes: Map<number, number>;
  /** The widest label of an adjacent-column edge, by the column it enters. */
  adjacentLabels: Map<number, number>;
}

/** The row a transition enters a compound target at: its initial leaf's. */
const entryRow = (T: SNode) => (isLeaf(T) ? T.row : initialLeaves(T)[0]?.row ?? T.r0);

/**
 * Picks each edge's route in cells and gaps, simplest first: a loop back into the same state, the
 * next column, a vertical run down or up a free column, a straight run along a free row, else a
 * channel through the gaps. Edges sharing a gap get lanes side by side.
 */
function planRoutes(tree: Tree, resolved: Resolved[]): Routes {
  const { leaves } = tree;
  const cell = new Map<string, SNode>();
  for (const l of leaves) cell.set(`${l.row},${l.rank}`, l);
  const occupied = (r: number, c: number) => cell.has(`${r},${c}`);
  const rowGapSegs = new Map<number, Seg[]>();
  const colGapSegs = new Map<number, Seg[]>();
  const addSeg = (m: Map<number, Seg[]>, gap: number, a: number, b: number, set: (lane: number) => void) => {
    const list = m.get(gap) ?? [];
    list.push({ lo: Math.min(a, b), hi: Math.max(a, b), set });
    m.set(gap, list);
  };
  const minRank = (n: SNode) => (isLeaf(n) ? n.rank : Math.min(...leaves.filter((l) => l.path.length > n.path.length && l.id.startsWith(`${n.id}.`)).map((l) => l.rank)));
  const targetRank = (T: SNode) => Math.min(...initialLeaves(T).map((l) => l.rank));

  const adjacentLabels = new Map<number, number>();
  const plans: Plan[] = [];
  for (const r of resolved) {
    const S = r.t.source;
    const T = r.target;
    const label = edgeLabel(tree.eventText(r.t.event), r.t.guard);
    const labelW = monoWidth(label) + 6;
    const back = targetRank(T) <= minRank(S);
    const disjoint = T.r0 > S.r1 || T.r1 < S.r0;
    let route: Route | undefined;
    if (S === T) {
      const route0 = { kind: 'loop' as const, gap: S.r1 + 1, lane: 0 };
      addSeg(rowGapSegs, route0.gap, 2 * S.c1 + 1, 2 * S.c1 + 1, (l) => (route0.lane = l));
      route = route0;
    } else if (T.c0 === S.c1 + 1) {
      route = { kind: 'adjacent' };
      adjacentLabels.set(T.c0, Math.max(adjacentLabels.get(T.c0) ?? 0, labelW));
    }
    if (!route && disjoint) {
      const lo = Math.max(S.c0, T.c0);
      const hi = Math.min(S.c1, T.c1);
      const down = T.r0 > S.r1;
      const [a, b] = down ? [S.r1, T.r0] : [T.r1, S.r0];
      const candidates: number[] = [];
      if (isLeaf(T) && T.rank >= lo && T.rank <= hi) candidates.push(T.rank);
      if (isLeaf(S) && S.rank >= lo && S.rank <= hi) candidates.push(S.rank);
      for (let c = lo; c <= hi; c++) candidates.push(c);
      for (const c of candidates) {
        let free = true;
        for (let row = a + 1; row < b && free; row++) if (occupied(row, c)) free = false;
        if (free) {
          route = { kind: 'vertical', col: c, down };
          break;
        }
      }
    }
    if (!route && isLeaf(S) && isLeaf(T) && S.row === T.row) {
      if (T.rank > S.rank) {
        let free = true;
        for (let c = S.rank + 1; c < T.rank && free; c++) if (occupied(S.row, c)) free = false;
        if (free) route = { kind: 'straight' };
      } else {
        const route0 = { kind: 'loop' as const, gap: S.row + 1, lane: 0 };
        addSeg(rowGapSegs, route0.gap, 2 * T.rank + 1, 2 * S.rank + 1, (l) => (route0.lane = l));
        route = route0;
      }
    }
    if (!route) {
      const exitGap = S.c1 + 1;
      const entryGap = T.c0;
      let gap: number;
      if (T.r0 > S.r1) gap = S.r1 + 1;
      else if (T.r1 < S.r0) gap = S.r0;
      else gap = back ? Math.max(S.r1, T.r1) + 1 : Math.min(S.r0, T.r0);
      const exitRow = isLeaf(S) ? S.row : gap > S.r1 ? S.r1 : S.r0;
      const eRow = entryRow(T);
      const ch = { kind: 'channel' as const, exitGap, entryGap, gap, exitRow, entryRow: eRow, exitLane: 0, entryLane: 0, lane: 0 };
      addSeg(colGapSegs, exitGap, 2 * exitRow + 1, 2 * gap, (l) => (ch.exitLane = l));
      addSeg(rowGapSegs, gap, 2 * exitGap, 2 * entryGap, (l) => (ch.lane = l));
      addSeg(colGapSegs, entryGap, 2 * gap, 2 * eRow + 1, (l) => (ch.entryLane = l));
      route = ch;
    }
    plans.push({ r, S, T, route, back, label, labelW });
  }
  return { plans, rowLanes: assignLanes(rowGapSegs), colLanes: assignLanes(colGapSegs), adjacentLabels };
}

/** Interval colouring per gap: a segment takes the first lane free at its start. Returns the lanes each gap needs. */
function assignLanes(m: Map<number, Seg[]>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const [gap, segs] of m) {
    const ends: number[] = [];
    for (const s of [...segs].sort((a, b) => a.lo - b.lo || a.hi - b.hi)) {
      let lane = ends.findIndex((e) => e < s.lo);
      if (lane < 0) lane = ends.length;
      ends[lane] = s.hi;
      s.set(lane);
    }
    counts.set(gap, ends.length);
  }
  return counts;
}

// --- Phase 7: coordinates ------------------------------------------------------------------------

/** Where the columns, rows and their gaps ended up, in px. */
interface Grid {
  colLeft: number[];
  colRight: number[];
  rowTop: number[];
  rowBottom: number[];
  laneX: (gap: number, lane: number) => number;
  laneY: (gap: number, lane: number) => number;
  rowMid: (r: number) => number;
  colMid: (c: number) => number;
  /** The right and bottom edges of the grid, before the margin. */
  right: number;
  bottom: number;
}

/**
 * Walks the gaps and columns left to right (then the rows top to bottom): each gap is as wide as
 * its lanes and labels need, framed by the padding of the containers ending and starting there.
 * Sets every node's x, y, w and h.
 */
function placeGrid(tree: Tree, compounds: SNode[], cols: number, rowCount: number, sizes: Sizes, routes: Routes): Grid {
  const { colW, rowH } = sizes;
  const { colLanes, rowLanes, adjacentLabels } = routes;
  const slots = (list: SNode[], desc: boolean) => [...new Set(list.map((n) => n.depth))].sort((a, b) => (desc ? b - a : a - b));
  const colLeft: number[] = [];
  const colRight: number[] = [];
  const laneStartX: number[] = [];
  const laneWidthX: number[] = [];
  let x = MARGIN;
  for (let k = 0; k <= cols; k++) {
    const ending = slots(compounds.filter((n) => n.c1 === k - 1), true);
    const starting = slots(compounds.filter((n) => n.c0 === k), false);
    for (const n of compounds.filter((n) => n.c1 === k - 1)) n.w = colRight[k - 1] + (ending.indexOf(n.depth) + 1) * PAD; // right edge for now
    x += ending.length * PAD;
    const lanes = colLanes.get(k) ?? 0;
    const width = Math.max(k === 0 || k === cols ? (k === 0 ? 28 : 12) : MIN_COL_LANES, lanes * LANE_X + 12, (adjacentLabels.get(k) ?? 0) + 16);
    laneStartX[k] = x;
    laneWidthX[k] = width;
    x += width;
    for (const n of compounds.filter((n) => n.c0 === k)) n.x = x + starting.indexOf(n.depth) * PAD;
    x += starting.length * PAD;
    if (k < cols) {
      colLeft[k] = x;
      x += colW[k];
      colRight[k] = x;
    }
  }
  const rowTop: number[] = [];
  const rowBottom: number[] = [];
  const laneStartY: number[] = [];
  let y = MARGIN;
  for (let g = 0; g <= rowCount; g++) {
    const ending = slots(compounds.filter((n) => n.r1 === g - 1), true);
    const starting = slots(compounds.filter((n) => n.r0 === g), false);
    for (const n of compounds.filter((n) => n.r1 === g - 1)) n.h = rowBottom[g - 1] + (ending.indexOf(n.depth) + 1) * FOOT; // bottom edge for now
    y += ending.length * FOOT;
    const lanes = rowLanes.get(g) ?? 0;
    laneStartY[g] = y;
    y += Math.max(g === 0 || g === rowCount ? 4 : MIN_ROW_LANES, lanes * LANE_Y + 6);
    for (const n of compounds.filter((n) => n.r0 === g)) n.y = y + starting.indexOf(n.depth) * DIAGRAM.clusterHead;
    y += starting.length * DIAGRAM.clusterHead;
    if (g < rowCount) {
      rowTop[g] = y;
      y += rowH[g];
      rowBottom[g] = y;
    }
  }
  for (const n of compounds) {
    n.w -= n.x;
    n.h -= n.y;
  }
  for (const l of tree.leaves) {
    l.x = colLeft[l.rank] + (colW[l.rank] - l.w) / 2;
    l.y = rowTop[l.row] + (rowH[l.row] - l.h) / 2;
  }
  return {
    colLeft,
    colRight,
    rowTop,
    rowBottom,
    laneX: (gap, lane) => {
      const n = colLanes.get(gap) ?? 1;
      return laneStartX[gap] + laneWidthX[gap] / 2 + (lane - (n - 1) / 2) * LANE_X;
    },
    laneY: (gap, lane) => laneStartY[gap] + LANE_Y * (lane + 1) - 2,
    rowMid: (r) => (rowTop[r] + rowBottom[r]) / 2,
    colMid: (c) => (colLeft[c] + colRight[c]) / 2,
    right: x,
    bottom: y,
  };
}

// --- Phase 8: edge paths -------------------------------------------------------------------------

/** Each planned route as points, SVG path data, an arrowhead and a label position. */
function drawEdges(plans: Plan[], grid: Grid): DiagramEdge[] {
  const { colLeft, colRight, laneX, laneY, rowMid, colMid } = grid;
  const edges: DiagramEdge[] = [];
  // Several edges on one vertical run or out of one box's bottom are fanned out side by side.
  const pairCount = new Map<string, number>();
  const bottomPorts = new Map<SNode, number>();
  for (const p of plans) {
    const { S, T, route } = p;
    let pts: DiagramPoint[];
    let d: string;
    let dir: DiagramPoint;
    let lx: number;
    let ly: number;
    const sRight = S.x + S.w;
    const tEntryY = isLeaf(T) ? rowMid(T.row) : rowMid(entryRow(T));
    const sExitY = (toward: number) => {
      if (isLeaf(S)) return rowMid(S.row);
      let best = S.r0;
      for (let r = S.r0; r <= S.r1; r++) if (Math.abs(r - toward) < Math.abs(best - toward)) best = r;
      return rowMid(best);
    };
    if (route.kind === 'adjacent') {
      const sy = sExitY(entryRow(T));
      const p0 = { x: sRight, y: sy };
      const p1 = { x: Math.max(sRight, colRight[S.c1] ?? sRight), y: sy };
      const p3 = { x: T.x, y: tEntryY };
      const p2 = { x: Math.min(T.x, colLeft[T.c0] ?? T.x), y: tEntryY };
      const mx = (p1.x + p2.x) / 2;
      const end = { x: p3.x - ARROW, y: p3.y };
      pts = [p0, p1, p2, p3];
      d = `M${f(p0.x)},${f(p0.y)}L${f(p1.x)},${f(p1.y)}C${f(mx)},${f(p1.y)} ${f(mx)},${f(p2.y)} ${f(p2.x)},${f(p2.y)}L${f(end.x)},${f(end.y)}`;
      dir = { x: 1, y: 0 };
      lx = mx;
      ly = (p1.y + p2.y) / 2 - (p1.y === p2.y ? 8 : 0);
    } else if (route.kind === 'straight') {
      const yy = rowMid(S.row);
      pts = [{ x: sRight, y: yy }, { x: T.x, y: yy }];
      d = `M${f(sRight)},${f(yy)}L${f(T.x - ARROW)},${f(yy)}`;
      dir = { x: 1, y: 0 };
      lx = (sRight + T.x) / 2;
      ly = yy - 8;
    } else if (route.kind === 'vertical') {
      const key = [S.id, T.id].sort().join('|') + route.col;
      const k = pairCount.get(key) ?? 0;
      pairCount.set(key, k + 1);
      const xx = colMid(route.col) + (k % 2 ? -1 : 1) * Math.ceil(k / 2) * 12 * (k ? 1 : 0);
      const sy = route.down ? S.y + S.h : S.y;
      const ty = route.down ? T.y : T.y + T.h;
      dir = { x: 0, y: route.down ? 1 : -1 };
      pts = [{ x: xx, y: sy }, { x: xx, y: ty }];
      d = `M${f(xx)},${f(sy)}L${f(xx)},${f(ty - dir.y * ARROW)}`;
      lx = xx + 6 + p.labelW / 2;
      ly = (sy + ty) / 2;
    } else if (route.kind === 'loop') {
      const k = bottomPorts.get(S) ?? 0;
      bottomPorts.set(S, k + 1);
      const ly0 = laneY(route.gap, route.lane);
      const sx = S === T ? S.x + S.w / 2 + 12 + k * 6 : (isLeaf(S) ? S.x + S.w / 2 : S.x + S.w - 24) - 6 - k * 6;
      const tx = S === T ? S.x + S.w / 2 - 12 - k * 6 : (isLeaf(T) ? T.x + T.w / 2 : T.x + 24) + 6;
      const sy = S.y + S.h;
      const ty = T.y + T.h;
      pts = [{ x: sx, y: sy }, { x: sx, y: ly0 }, { x: tx, y: ly0 }, { x: tx, y: ty }];
      dir = { x: 0, y: -1 };
      d = rounded([...pts.slice(0, 3), { x: tx, y: ty + ARROW }]);
      lx = (sx + tx) / 2;
      ly = ly0 - 8;
    } else {
      const sy = sExitY(route.gap <= S.r0 ? S.r0 - 1 : S.r1 + 1);
      const ex = laneX(route.exitGap, route.exitLane);
      const nx = laneX(route.entryGap, route.entryLane);
      const yy = laneY(route.gap, route.lane);
      pts = [{ x: sRight, y: sy }, { x: ex, y: sy }, { x: ex, y: yy }, { x: nx, y: yy }, { x: nx, y: tEntryY }, { x: T.x, y: tEntryY }];
      dir = { x: 1, y: 0 };
      d = rounded([...pts.slice(0, 5), { x: T.x - ARROW, y: tEntryY }]);
      lx = (ex + nx) / 2;
      ly = yy - 8;
    }
    const tip = pts[pts.length - 1];
    edges.push({
      from: S.id,
      to: T.id,
      event: p.r.t.event,
      guard: p.r.t.guard,
      label: p.label,
      points: pts.map((q) => ({ x: f(q.x), y: f(q.y) })),
      path: d,
      arrow: arrowHead(tip, dir),
      labelX: f(lx),
      labelY: f(ly),
      labelW: p.labelW,
      back: p.back,
    });
  }
  return edges;
}

// --- Phase 9: labels, markers and the whole --------------------------------------------------------

/** Labels that still collide move down a little, in edge order. */
function separateLabels(edges: DiagramEdge[]): void {
  const placed: { x: number; y: number; w: number }[] = [];
  for (const e of edges) {
    for (let i = 0; i < 8; i++) {
      const hit = placed.find((q) => Math.abs(q.x - e.labelX) < (q.w + e.labelW) / 2 && Math.abs(q.y - e.labelY) < DIAGRAM.labelHeight);
      if (!hit) break;
      e.labelY = f(hit.y + DIAGRAM.labelHeight + 1);
    }
    placed.push({ x: e.labelX, y: e.labelY, w: e.labelW });
  }
}

/** The dot and arrow pointing at the machine's initial state. */
function startMarker(rootInitial: SNode | undefined, grid: Grid): DiagramLayout['start'] {
  if (!rootInitial) return null;
  const ty = isLeaf(rootInitial) ? grid.rowMid(rootInitial.row) : grid.rowMid(entryRow(rootInitial));
  const tx = rootInitial.x;
  const cx = tx - 22;
  return { cx: f(cx), cy: f(ty), path: `M${f(cx + 4)},${f(ty)}L${f(tx - ARROW)},${f(ty)}`, arrow: arrowHead({ x: tx, y: ty }, { x: 1, y: 0 }) };
}

/** From the initial leaf, along the first transition that goes a rank further, each time. */
function followMainPath({ startLeaves, outOf }: Ranking): string[] {
  const mainPath: string[] = [];
  let cur: SNode | undefined = startLeaves[0];
  const seen = new Set<SNode>();
  while (cur && !seen.has(cur)) {
    seen.add(cur);
    mainPath.push(cur.id);
    const from: SNode = cur;
    const next: SNode | undefined = outOf(from)
      .flatMap((r) => initialLeaves(r.target))
      .find((l) => l.rank === from.rank + 1);
    cur = next;
  }
  return mainPath;
}

/** The grid plus margins, grown to hold every edge point and label. */
function extent(grid: Grid, edges: DiagramEdge[]): { width: number; height: number } {
  let width = grid.right + MARGIN;
  let height = grid.bottom + MARGIN;
  for (const e of edges) {
    width = Math.max(width, e.labelX + e.labelW / 2 + MARGIN);
    height = Math.max(height, e.labelY + DIAGRAM.labelHeight / 2 + MARGIN);
    for (const q of e.points) {
      width = Math.max(width, q.x + MARGIN);
      height = Math.max(height, q.y + MARGIN);
    }
  }
  return { width, height };
}

function toNodes(tree: Tree): DiagramNode[] {
  return tree.states.map((n) => {
    const task = isObj(n.config.meta) && isObj(n.config.meta.task) && typeof n.config.meta.task.title === 'string' ? n.config.meta.task.title : undefined;
    return {
      id: n.id,
      key: n.key,
      label: n.label,
      x: f(n.x),
      y: f(n.y),
      w: f(n.w),
      h: f(n.h),
      final: n.kind === 'final',
      compound: !isLeaf(n),
      depth: n.depth,
      rank: n.rank,
      parent: n.parent && n.parent !== tree.root ? n.parent.id : null,
      initial: n.initial,
      ...(task ? { task } : {}),
      internal: n.internal,
    };
  });
}

function f(n: number): number {
  return Math.round(n * 10) / 10;
}

function arrowHead(tip: DiagramPoint, dir: DiagramPoint): string {
  const bx = tip.x - dir.x * ARROW;
  const by = tip.y - dir.y * ARROW;
  const px = -dir.y * (ARROW / 2);
  const py = dir.x * (ARROW / 2);
  return `${f(tip.x)},${f(tip.y)} ${f(bx + px)},${f(by + py)} ${f(bx - px)},${f(by - py)}`;
}

/** An orthogonal polyline with rounded corners. */
function rounded(input: DiagramPoint[], radius = 8): string {
  const pts: DiagramPoint[] = [];
  for (const p of input) {
    const last = pts[pts.length - 1];
    if (last && Math.abs(last.x - p.x) < 0.01 && Math.abs(last.y - p.y) < 0.01) continue;
    pts.push(p);
  }
  if (!pts.length) return '';
  let d = `M${f(pts[0].x)},${f(pts[0].y)}`;
  for (let i = 1; i < pts.length - 1; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    const c = pts[i + 1];
    const l1 = Math.hypot(b.x - a.x, b.y - a.y);
    const l2 = Math.hypot(c.x - b.x, c.y - b.y);
    const r = Math.min(radius, l1 / 2, l2 / 2);
    const p1 = { x: b.x - ((b.x - a.x) / l1) * r, y: b.y - ((b.y - a.y) / l1) * r };
    const p2 = { x: b.x + ((c.x - b.x) / l2) * r, y: b.y + ((c.y - b.y) / l2) * r };
    d += `L${f(p1.x)},${f(p1.y)}Q${f(b.x)},${f(b.y)} ${f(p2.x)},${f(p2.y)}`;
  }
  const z = pts[pts.length - 1];
  return `${d}L${f(z.x)},${f(z.y)}`;
}

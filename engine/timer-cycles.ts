import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { compileDefinition, metaOf } from './compile';
import type { DefinitionDocument, TimeSpec } from './document.schema';
import { parseDuration } from './time';
import { parseWorkingDays } from './working-days';

/**
 * Zero-delay timer cycles: states whose timers fire the moment they are entered and whose events
 * lead back round to a state that does the same. The engine would step such an instance for ever
 * at one instant (the workflow and the simulator alike), so the validator refuses them.
 */

export interface TimerCycleIssue {
  path: string;
  message: string;
}

interface ZeroTimer {
  node: AnyStateNode;
  id: string;
  send: string;
  /** The document path of the timer: `machine.states.ping.meta.timers.0`. */
  path: string;
  /** Why it fires at once, as the document says it: `after: "0s"`. */
  why: string;
}

const isZero = (text: string): boolean => {
  const wd = parseWorkingDays(text);
  if (wd !== undefined) return wd === 0;
  try {
    return parseDuration(text) === 0;
  } catch {
    return false;
  }
};

/** Why `spec` falls at or before the instant its state is entered, every time; undefined when it waits. */
function firesAtOnce(spec: TimeSpec, due: TimeSpec | undefined): string | undefined {
  const own = ((): string | undefined => {
    if (spec.after !== undefined) {
      if (!isZero(spec.after)) return undefined;
      if (spec.of !== 'due') return `after: "${spec.after}"`;
      const d = due && firesAtOnce(due, undefined);
      return d ? `after: "${spec.after}" of a due that falls at once (${d})` : undefined;
    }
    if (spec.before !== undefined) {
      const d = due && firesAtOnce(due, undefined);
      return d ? `before: "${spec.before}" a due that falls at once (${d})` : undefined;
    }
    if (spec.at !== undefined) {
      // A clock time on the entry day plus whole days moves on each round; any other clock time is fixed and, once passed, is due at entry.
      if (spec.on === 'entry-day' && ((spec.addDays ?? 0) > 0 || (spec.addWorkingDays ?? 0) > 0)) return undefined;
      return `at: "${spec.at}" (${spec.on === 'entry-day' ? 'on the entry day' : "on the instance's day"}, already passed when the cycle comes round)`;
    }
    return undefined;
  })();
  if (own) return own;
  const urgent = spec.urgent && firesAtOnce(spec.urgent, due);
  return urgent ? `urgent: { ${urgent} }` : undefined;
}

const docPath = (node: AnyStateNode) => ['machine', ...node.path.map((k) => `states.${k}`)].join('.');

function ancestry(node: AnyStateNode): AnyStateNode[] {
  const chain: AnyStateNode[] = [];
  for (let n: AnyStateNode | undefined = node; n; n = n.parent) chain.push(n);
  return chain;
}

const isDescendant = (node: AnyStateNode, of: AnyStateNode) => node !== of && ancestry(node).includes(of);

/** The atomic states entering `node` ends in. */
function leavesOf(node: AnyStateNode): AnyStateNode[] {
  const children = Object.values(node.states) as AnyStateNode[];
  if (node.type === 'parallel') return children.flatMap(leavesOf);
  if (node.type === 'compound') return node.initial.target.flatMap(leavesOf);
  return [node];
}

/** The node a transition exits and re-enters below, as XState computes it; undefined means the root too. */
function domainOf(t: AnyTransitionDefinition): AnyStateNode | undefined {
  const targets = t.target ?? [];
  if (!t.reenter && targets.every((x) => x === t.source || isDescendant(x, t.source))) return t.source;
  const [head, ...tail] = [...targets, t.source];
  for (let a = head.parent; a; a = a.parent) if (tail.every((x) => isDescendant(x, a as AnyStateNode))) return a;
  return t.reenter ? undefined : t.source.machine.root;
}

/** The transition an event certainly takes in `leaf`: the innermost handler's first choice, when it has no guard. */
function certainTransition(leaf: AnyStateNode, event: string): AnyTransitionDefinition | undefined {
  for (const node of ancestry(leaf)) {
    const candidates = (node.on as Record<string, AnyTransitionDefinition[]>)[event];
    if (candidates?.length) return candidates[0].guard === undefined ? candidates[0] : undefined;
  }
  return undefined;
}

interface Landing {
  leaf: AnyStateNode;
  /** Nodes (re-)entered on the way, whose timers start again. */
  entered: Set<AnyStateNode>;
}

/** Where a transition from `leaf` lands, following unguarded `always` transitions a few hops on. */
function land(t: AnyTransitionDefinition): Landing[] {
  const out: Landing[] = [];
  const follow = (t: AnyTransitionDefinition, before: Set<AnyStateNode>, hops: number) => {
    if (!t.target?.length) return;
    const domain = domainOf(t);
    for (const leaf of t.target.flatMap(leavesOf)) {
      const entered = new Set(before);
      for (const n of ancestry(leaf)) {
        if (n === domain) break;
        entered.add(n);
      }
      const always = ancestry(leaf).find((n) => n.always?.length)?.always?.[0];
      if (always && always.guard === undefined && always.target?.length && hops < 10) follow(always, entered, hops + 1);
      else out.push({ leaf, entered });
    }
  };
  follow(t, new Set(), 0);
  return out;
}

function zeroTimersOf(node: AnyStateNode): ZeroTimer[] {
  const meta = metaOf(node);
  return (meta.timers ?? []).flatMap((t, i) => {
    const why = firesAtOnce(t.when, meta.task?.due);
    return why ? [{ node, id: t.id, send: t.send, path: `${docPath(node)}.meta.timers.${i}`, why }] : [];
  });
}

/** Errors for each cycle of timers that fire at once and lead back round to each other. */
export function zeroDelayTimerCycles(doc: DefinitionDocument): TimerCycleIssue[] {
  let nodes: AnyStateNode[];
  try {
    nodes = [...compileDefinition(doc).nodes.values()];
  } catch {
    // XState refuses the machine: the validator reports that on its own.
    return [];
  }
  const timers = new Map(nodes.map((n) => [n, zeroTimersOf(n)]));
  if (![...timers.values()].some((list) => list.length)) return [];

  // A vertex is a timer pending in an atomic state; an edge leads to the timers its event starts again.
  type Vertex = { leaf: AnyStateNode; timer: ZeroTimer; key: string };
  const vertex = (leaf: AnyStateNode, timer: ZeroTimer): Vertex => ({ leaf, timer, key: `${leaf.id}|${timer.path}` });
  const edges = (v: Vertex): Vertex[] => {
    const t = certainTransition(v.leaf, v.timer.send);
    if (!t) return [];
    return land(t).flatMap(({ leaf, entered }) =>
      ancestry(leaf)
        .filter((n) => entered.has(n))
        .flatMap((n) => timers.get(n) ?? [])
        .map((timer) => vertex(leaf, timer)),
    );
  };

  const issues: TimerCycleIssue[] = [];
  const reported = new Set<string>();
  const done = new Set<string>();
  const visit = (v: Vertex, trail: Vertex[]) => {
    const at = trail.findIndex((x) => x.key === v.key);
    if (at >= 0) {
      const cycle = trail.slice(at);
      const id = cycle.map((x) => x.key).sort().join(',');
      if (reported.has(id)) return;
      reported.add(id);
      const first = cycle[0].timer;
      const round = [...cycle.map((x) => `${x.leaf.path.join('.')} (${x.timer.send})`), v.leaf.path.join('.')].join(' -> ');
      issues.push({
        path: first.path,
        message: `timer "${first.id}" fires as soon as its state is entered (${first.why}) and leads round a cycle of timers that all do: ${round}; the process would step for ever at one instant. Give one of them a delay, e.g. after: "1m", or a guard that turns false`,
      });
      return;
    }
    if (done.has(v.key)) return;
    for (const next of edges(v)) visit(next, [...trail, v]);
    done.add(v.key);
  };
  for (const leaf of nodes.filter((n) => n.type === 'atomic')) {
    for (const timer of ancestry(leaf).flatMap((n) => timers.get(n) ?? [])) visit(vertex(leaf, timer), []);
  }
  return issues;
}

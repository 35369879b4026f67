import { zeroDelayTimerCycles } from '../timer-cycles';
import { ancestry, label, type CheckContext, type StateNode } from './context';
import { list, suggest } from './words';

/** The state tree: unique ids, a sound shape, a way out of every state, and every state reachable. */

export function checkStateIds(ctx: CheckContext): void {
  for (const { path, message } of ctx.idProblems) ctx.error(path, message);
}

/** initial and type agree with the children; a final state waits for nothing. */
export function checkStateShapes(ctx: CheckContext): void {
  const { error } = ctx;
  const structureError = (path: string, message: string) => {
    ctx.structureErrors++;
    error(path, message);
  };
  for (const node of ctx.nodes) {
    const { config, docPath } = node;
    const children = [...node.children.keys()];
    const meta = config.meta ?? {};
    const name = label(ctx, node);
    if (node.kind === 'root' || node.kind === 'compound') {
      if (!children.length) {
        structureError(docPath, `${name} is compound but has no states; add states or make it type: atomic`);
      } else if (config.initial === undefined) {
        structureError(docPath, `${name} has child states but no initial; add initial: one of ${list(children)}`);
      } else if (!node.children.has(config.initial)) {
        structureError(`${docPath}.initial`, `initial "${config.initial}" is not a child of ${name}${suggest(config.initial, children)}; children: ${list(children)}`);
      }
    }
    if (node.kind === 'parallel') {
      if (!children.length) structureError(docPath, `${name} is parallel but has no states; add its regions under states`);
      if (config.initial !== undefined) structureError(`${docPath}.initial`, `${name} is parallel and enters all its children; remove initial`);
    }
    if (node.kind === 'atomic') {
      if (children.length) structureError(`${docPath}.type`, `${name} is type: atomic but has states; remove type or the states`);
      if (config.initial !== undefined) structureError(`${docPath}.initial`, `${name} has no child states, so initial "${config.initial}" names nothing; remove it`);
    }
    if (node.kind === 'final') {
      const what = 'a final state ends, so it waits for nothing';
      if (config.states) structureError(`${docPath}.states`, `${name} is type: final and may not have states; ${what}: remove them or make it compound`);
      if (config.initial !== undefined) structureError(`${docPath}.initial`, `${name} is type: final and may not have initial; remove it`);
      if (config.on) error(`${docPath}.on`, `${name} is type: final and may not have on; ${what}: remove on or make it a waiting state`);
      if (config.always) error(`${docPath}.always`, `${name} is type: final and may not have always; ${what}: remove always`);
      for (const k of ['task', 'timers', 'reminders', 'escalations'] as const) {
        if (meta[k]) error(`${docPath}.meta.${k}`, `${name} is type: final and may not have meta.${k}; ${what}: move it to a state before`);
      }
    }
  }
}

/** Every waiting state has a way out and something that moves it; an always transition stops. */
export function checkWaysOut(ctx: CheckContext): void {
  const { error, warn } = ctx;
  const leavesBy = (chain: StateNode[]) => chain.some((n) => ctx.transitionsOf(n).some((t) => t.targets.length > 0) || (n.config.meta?.timers?.length ?? 0) > 0);
  for (const node of ctx.nodes) {
    const chain = ancestry(node);
    if (node.kind === 'atomic') {
      if (!leavesBy(chain)) {
        const onlyActions = chain.some((n) => ctx.transitionsOf(n).length > 0);
        error(node.docPath, `${label(ctx, node)} has no way out: add a transition, a timer, or make it type: final${onlyActions ? ' (its transitions have no target)' : ''}`);
      } else if (!node.config.always && !chain.some((n) => n.config.meta?.timers?.length || n.config.meta?.task)) {
        warn(node.docPath, `nothing moves ${label(ctx, node)} by itself: add a task with due or a timer`);
      }
    }
    if (node.kind === 'final' && node.parent && node.parent.kind !== 'root' && !leavesBy(chain.slice(1))) {
      error(node.docPath, `${label(ctx, node)} is final only within ${label(ctx, node.parent)}, and nothing leads out of it, so the process would never end; move it to the top level or add a transition out of ${label(ctx, node.parent)}`);
    }
  }
  for (const t of ctx.transitions) {
    if (t.event !== undefined || t.targets.length) continue;
    if (t.guard === undefined) error(t.path, 'an always transition without a target or guard runs again after every step and never stops; give it a target or a guard');
    else warn(t.path, 'an always transition without a target repeats until its guard is false; make sure its actions change what the guard reads');
  }
}

/**
 * What needs every target resolved and a sound tree: states nothing reaches, always transitions
 * that loop, timers that fire at once round a cycle. Skipped while either has errors.
 */
export function checkReachability(ctx: CheckContext): void {
  if (ctx.structureErrors || ctx.transitions.some((t) => t.targets.some((x) => x.problem))) return;
  checkReachable(ctx);
  checkEventlessLoops(ctx);
  ctx.errors.push(...zeroDelayTimerCycles(ctx.doc));
}

function initialLeaves(node: StateNode): StateNode[] {
  if (node.kind === 'parallel') return [...node.children.values()].flatMap(initialLeaves);
  const initial = node.config.initial !== undefined ? node.children.get(node.config.initial) : undefined;
  return initial ? initialLeaves(initial) : [node];
}

function checkReachable(ctx: CheckContext) {
  const reached = new Set<StateNode>();
  const queue: StateNode[] = [];
  const mark = (node: StateNode) => {
    if (reached.has(node)) return;
    reached.add(node);
    queue.push(node);
  };
  const enterDefault = (node: StateNode) => {
    mark(node);
    if (node.kind === 'parallel') for (const child of node.children.values()) enterDefault(child);
    const initial = node.config.initial !== undefined ? node.children.get(node.config.initial) : undefined;
    if (node.kind !== 'parallel' && initial) enterDefault(initial);
  };
  // Entering a target also enters its ancestors and, in a parallel ancestor, the other regions.
  const enter = (target: StateNode) => {
    const line = ancestry(target).reverse();
    line.forEach((node, i) => {
      mark(node);
      if (node.kind === 'parallel' && i < line.length - 1) {
        for (const region of node.children.values()) if (region !== line[i + 1]) enterDefault(region);
      }
    });
    enterDefault(target);
  };
  enterDefault(ctx.root);
  while (queue.length) {
    const node = queue.shift() as StateNode;
    for (const t of ctx.transitionsOf(node)) for (const target of t.targets) if (target.node) enter(target.node);
  }
  for (const node of ctx.nodes) {
    if (!reached.has(node) && node.parent && reached.has(node.parent)) {
      ctx.error(node.docPath, `${label(ctx, node)} is unreachable: no transition leads to it and it is not an initial state; target it from another state or remove it`);
    }
  }
}

/** Unguarded `always` transitions that lead back to where they started would spin for ever. */
function checkEventlessLoops(ctx: CheckContext) {
  const next = (leaf: StateNode): { via: StateNode; to: StateNode[] } | undefined => {
    const owner = ancestry(leaf).find((n) => n.config.always);
    const first = owner && ctx.transitionsOf(owner).find((t) => t.event === undefined);
    if (!owner || !first || first.guard !== undefined || !first.targets.length) return undefined;
    const to = first.targets
      .filter((t) => t.node && !(t.node === owner && !first.reenter))
      .flatMap((t) => initialLeaves(t.node as StateNode))
      .filter((n) => n.kind !== 'final');
    return { via: owner, to };
  };
  const done = new Set<StateNode>();
  const reported = new Set<StateNode>();
  const visit = (leaf: StateNode, trail: StateNode[]) => {
    const at = trail.indexOf(leaf);
    if (at >= 0) {
      const cycle = trail.slice(at);
      const via = next(cycle[0])?.via as StateNode;
      if (!reported.has(via)) {
        reported.add(via);
        const names = [...cycle, leaf].map((n) => n.path.join('.'));
        ctx.error(`${via.docPath}.always`, `always transitions loop for ever: ${names.join(' -> ')}; guard one of them with a condition that turns false, or stop in a waiting state`);
      }
      return;
    }
    if (done.has(leaf)) return;
    for (const to of next(leaf)?.to ?? []) visit(to, [...trail, leaf]);
    done.add(leaf);
  };
  for (const node of ctx.nodes) if (node.kind === 'atomic') visit(node, []);
}

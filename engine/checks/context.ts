import type { ActionRef, DefinitionDocument, GuardRef, StateConfig, TransitionConfig } from '../document.schema';
import { list, suggest } from './words';

/**
 * What every semantic check of a definition shares: the document, where issues go, and the state
 * tree and transitions read from it once. The tree and the transitions are built without reporting
 * anything; the phases that check them report, in the order validate.ts runs them.
 */

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface StateNode {
  key: string;
  /** State keys from the root: `['open', 'assigned']`; empty for the machine itself. */
  path: string[];
  docPath: string;
  config: StateConfig;
  parent?: StateNode;
  children: Map<string, StateNode>;
  /** The XState id: the configured `id`, else the machine id and the path joined by ".". */
  id: string;
  kind: 'root' | 'atomic' | 'compound' | 'parallel' | 'final';
}

export interface Target {
  value: string;
  path: string;
  /** The state it names, when it names one. */
  node?: StateNode;
  /** Why it names none: the message for `path`. */
  problem?: string;
}

export interface Transition {
  source: StateNode;
  /** The event, or undefined for `always`. */
  event?: string;
  path: string;
  targets: Target[];
  guard?: GuardRef;
  actions: ActionRef | ActionRef[] | undefined;
  reenter: boolean;
}

export interface CheckContext {
  doc: DefinitionDocument;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  error(path: string, message: string): void;
  warn(path: string, message: string): void;
  machineId: string;
  /** Names under `templates`. */
  templates: string[];
  root: StateNode;
  /** Every state node, the machine first, in document order. */
  nodes: StateNode[];
  /** The first node of each XState id. */
  ids: Map<string, StateNode>;
  /** Nodes whose id another node already has, or whose configured id contains ".", in document order. */
  idProblems: ValidationIssue[];
  /** Every `on` and `always` transition, with its targets resolved. */
  transitions: Transition[];
  transitionsOf(node: StateNode): Transition[];
  /** Problems with the tree's shape (initial, type); later phases that need a sound tree skip when any. */
  structureErrors: number;
}

/** The node and its ancestors, nearest first. */
export function ancestry(node: StateNode): StateNode[] {
  const chain: StateNode[] = [];
  for (let n: StateNode | undefined = node; n; n = n.parent) chain.push(n);
  return chain;
}

/** `state "open.assigned"`, or `machine "issue"` for the root. */
export function label(ctx: Pick<CheckContext, 'machineId'>, n: StateNode): string {
  return n.path.length ? `state "${n.path.join('.')}"` : `machine "${ctx.machineId}"`;
}

/** Reads the document's states and transitions; reports nothing. */
export function createCheckContext(doc: DefinitionDocument): CheckContext {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const machineId = doc.machine.id;
  const { root, nodes, ids, idProblems } = buildTree(doc, machineId);
  const transitions = collectTransitions(nodes);
  for (const t of transitions) {
    for (const target of t.targets) Object.assign(target, resolveTarget(machineId, ids, t.source, target.value));
  }
  const bySource = new Map<StateNode, Transition[]>(nodes.map((n) => [n, transitions.filter((t) => t.source === n)]));
  return {
    doc,
    errors,
    warnings,
    error: (path, message) => errors.push({ path, message }),
    warn: (path, message) => warnings.push({ path, message }),
    machineId,
    templates: Object.keys(doc.templates ?? {}),
    root,
    nodes,
    ids,
    idProblems,
    transitions,
    transitionsOf: (node) => bySource.get(node) ?? [],
    structureErrors: 0,
  };
}

function buildTree(doc: DefinitionDocument, machineId: string) {
  const nodes: StateNode[] = [];
  const ids = new Map<string, StateNode>();
  const idProblems: ValidationIssue[] = [];
  const name = (n: StateNode) => label({ machineId }, n);
  const build = (key: string, config: StateConfig, docPath: string, parent?: StateNode): StateNode => {
    const path = parent ? [...parent.path, key] : [];
    const hasChildren = Object.keys(config.states ?? {}).length > 0;
    const kind: StateNode['kind'] = !parent ? 'root' : config.type ?? (hasChildren ? 'compound' : 'atomic');
    const id = parent ? config.id ?? [machineId, ...path].join('.') : machineId;
    const node: StateNode = { key, path, docPath, config, parent, children: new Map(), id, kind };
    nodes.push(node);
    const clash = ids.get(id);
    if (clash) idProblems.push({ path: `${docPath}.id`, message: `id "${id}" is already the id of ${name(clash)}; ids must be unique` });
    else ids.set(id, node);
    if (parent && config.id !== undefined && config.id.includes('.')) {
      idProblems.push({ path: `${docPath}.id`, message: `id "${config.id}" contains "."; a target "#${config.id}" would be read as a path, so use e.g. "${config.id.replace(/\./g, '-')}"` });
    }
    for (const [childKey, child] of Object.entries(config.states ?? {})) {
      node.children.set(childKey, build(childKey, child, `${docPath}.states.${childKey}`, node));
    }
    return node;
  };
  const root = build('', doc.machine as StateConfig, 'machine');
  return { root, nodes, ids, idProblems };
}

function collectTransitions(nodes: StateNode[]): Transition[] {
  const transitions: Transition[] = [];
  const collect = (source: StateNode, config: TransitionConfig, path: string, event?: string) => {
    if (Array.isArray(config)) {
      config.forEach((t, i) => collect(source, t, `${path}.${i}`, event));
      return;
    }
    if (typeof config === 'string') {
      transitions.push({ source, event, path, targets: [{ value: config, path }], actions: undefined, reenter: false });
      return;
    }
    const targets = config.target === undefined ? [] : Array.isArray(config.target)
      ? config.target.map((value, i) => ({ value, path: `${path}.target.${i}` }))
      : [{ value: config.target, path: `${path}.target` }];
    transitions.push({ source, event, path, targets, guard: config.guard, actions: config.actions, reenter: config.reenter ?? false });
  };
  for (const node of nodes) {
    for (const [event, config] of Object.entries(node.config.on ?? {})) collect(node, config, `${node.docPath}.on.${event}`, event);
    if (node.config.always) collect(node, node.config.always, `${node.docPath}.always`);
  }
  return transitions;
}

/** The state a target names, the way XState reads it, or why it names none. */
function resolveTarget(machineId: string, ids: Map<string, StateNode>, source: StateNode, target: string): { node?: StateNode; problem?: string } {
  const forms = `a target is a sibling ("name"), a child (".name") or an id path ("#${machineId}.path")`;
  if (target === '') return { problem: `empty target; ${forms}` };
  let start: StateNode;
  let segments: string[];
  if (target.startsWith('#')) {
    const [id, ...rest] = target.slice(1).split('.');
    const byId = ids.get(id);
    if (!byId) {
      const usable = [...ids.keys()].filter((k) => !k.includes('.'));
      return { problem: `target "${target}" names no state: no state has id "${id}"${suggest(id, usable)}; ids: ${list(usable)}` };
    }
    start = byId;
    segments = rest;
  } else if (target.startsWith('.')) {
    start = source;
    segments = target.slice(1).split('.');
  } else if (!source.parent) {
    return { problem: `target "${target}" is not valid in the machine's own transitions, which have no siblings; use ".${target}" or "#${machineId}.${target}"` };
  } else {
    start = source.parent;
    segments = target.split('.');
  }
  let cur = start;
  for (const [i, seg] of segments.entries()) {
    // XState stops at an empty segment, so "#id." means the node itself.
    if (!seg) break;
    const next = cur.children.get(seg);
    if (!next) {
      const options = [...cur.children.keys()];
      const where = i === 0 && !target.startsWith('#') && !target.startsWith('.')
        ? `there is no state "${seg}" next to "${source.key}"; siblings: ${list(options)}`
        : `${label({ machineId }, cur)} has no child "${seg}"; children: ${list(options)}`;
      return { problem: `unknown target "${target}": ${where}${suggest(seg, options)}; ${forms}` };
    }
    cur = next;
  }
  return { node: cur };
}

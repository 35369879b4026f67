/**
 * The state diagram of a definition's `machine`, as an accessible inline SVG: the figure's caption is
 * the title, the SVG has a summarising aria-label, and a visually hidden list gives the states and
 * their transitions as text. Styled by web/diagram.css (classes only: the page's CSP forbids inline
 * styles). Each state's <g> carries data-state="<dotted path>".
 */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { JSX } from 'preact';
import { currentLang } from './i18n';
import { DIAGRAM, layoutMachine, type DiagramEdge, type DiagramLayout, type DiagramNode } from './diagram-layout';
import { nameIn, type Labels } from './labels';

export interface MachineDiagramProps {
  /** The definition's `machine` (any JSON: a draft that does not validate is drawn as far as it goes). */
  machine: unknown;
  /** The current state: a leaf key ("patrolling"), a dotted path ("open.patrolling") or null. */
  current?: string | null;
  /** States already passed through, as keys or dotted paths. */
  visited?: string[];
  title: string;
  /** The definition's display names: boxes and arrows show them, the codes stay in tooltips and the text list. */
  labels?: Labels;
}

const cache = new Map<string, DiagramLayout>();
const CACHE_SIZE = 24;

/** layoutMachine, memoised by the machine's JSON, the names and the language (the editor re-parses on every keystroke). */
export function cachedLayout(machine: unknown, labels?: Labels): DiagramLayout {
  const names = labels ? { state: (k: string) => nameIn(labels.states?.[k]), event: (e: string) => nameIn(labels.events?.[e]) } : undefined;
  let key: string | undefined;
  try {
    key = JSON.stringify([machine ?? null, labels ? [currentLang(), labels.states, labels.events] : null]);
  } catch {
    key = undefined; // cyclic or BigInt: lay out without the cache
  }
  if (key === undefined) return layoutMachine(machine, names);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const out = layoutMachine(machine, names);
  cache.set(key, out);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return out;
}

/** The node a state reference names: a dotted path, else a leaf key, else any state's key. */
export function findState(nodes: DiagramNode[], ref: string | null | undefined): DiagramNode | undefined {
  if (!ref) return undefined;
  const r = ref.startsWith('#') ? ref.slice(ref.indexOf('.') + 1) : ref;
  return (
    nodes.find((n) => n.id === r) ??
    nodes.find((n) => !n.compound && n.key === r) ??
    nodes.find((n) => n.key === r) ??
    nodes.find((n) => n.id.endsWith(`.${r}`))
  );
}

/** Chinese or English, as the console is set. */
const L = (zh: string, en: string) => (currentLang() === 'zh' ? zh : en);

/** A name with its code after it, when they differ: "办理中（handling）". */
const withCode = (label: string, code: string) => (label === code ? code : L(`${label}（${code}）`, `${label} (${code})`));

function edgeText(e: DiagramEdge, nodes: Map<string, DiagramNode>): string {
  const event = withCode(e.label.replace(/ \[[^\]]*\]$/, ''), e.event);
  return `${event}${e.guard ? ` [${e.guard}]` : ''} → ${withCode(nodes.get(e.to)?.label ?? e.to, e.to)}${e.back ? L('（返回）', ' (back)') : ''}`;
}

export function MachineDiagram({ machine, current = null, visited = [], title, labels }: MachineDiagramProps) {
  const layout = useMemo(() => cachedLayout(machine, labels), [machine, labels, currentLang()]);
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  const named = (id: string) => byId.get(id)?.label ?? id;
  const currentNode = findState(layout.nodes, current);
  const visitedIds = new Set(visited.map((v) => findState(layout.nodes, v)?.id).filter((v): v is string => !!v));
  const leaves = layout.nodes.filter((n) => !n.compound);
  const clusters = layout.nodes.filter((n) => n.compound);

  const summary = layout.nodes.length
    ? L(
        `状态图：${layout.mainPath.map(named).join(' → ')}（共 ${leaves.length} 个状态、${layout.edges.length} 个转换）` +
          (currentNode ? `；当前状态 ${withCode(currentNode.label, currentNode.id)}` : current ? `；当前状态 ${current}（图中没有）` : ''),
        `State diagram: ${layout.mainPath.map(named).join(' → ')} (${leaves.length} states, ${layout.edges.length} transitions)` +
          (currentNode ? `; current state ${withCode(currentNode.label, currentNode.id)}` : current ? `; current state ${current} (not in the diagram)` : ''),
      )
    : L('状态图：还没有状态', 'State diagram: no states yet');
  const cls = (n: DiagramNode, base: string) =>
    [base, n.final && 'final', currentNode?.id === n.id && 'current', visitedIds.has(n.id) && 'visited'].filter(Boolean).join(' ');
  const bucket = Math.max(1, Math.min(12, Math.round(layout.width / 200)));
  // On a narrow screen the diagram scrolls sideways: bring the current state into view.
  const scroller = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = scroller.current;
    const svg = el?.querySelector('svg');
    if (!el || !svg || !currentNode || el.scrollWidth <= el.clientWidth) return;
    const scale = svg.getBoundingClientRect().width / layout.width;
    el.scrollLeft = Math.max(0, (currentNode.x + currentNode.w / 2) * scale - el.clientWidth / 2);
  }, [currentNode?.id, layout]);

  return (
    <figure class="diagram">
      <figcaption>{title}</figcaption>
      <div class="diagram-scroll" ref={scroller}>
        <svg
          class={`diagram-svg dw-${bucket}`}
          role="img"
          aria-label={summary}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          width="100%"
          preserveAspectRatio="xMinYMin meet"
        >
          {!layout.nodes.length && (
            <text class="state-label" x={layout.width / 2} y={layout.height / 2} text-anchor="middle" dominant-baseline="central">
              {L('还没有状态', 'No states yet')}
            </text>
          )}
          {clusters.map((n) => (
            <g key={n.id} class={cls(n, 'node cluster')} data-state={n.id}>
              <title>{withCode(n.label, n.id)}</title>
              <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={8} />
              <text class="cluster-label" x={n.x + 10} y={n.y + 16}>
                {n.label}
                {n.internal.map((i, k) => (
                  <tspan key={k} class={i.unresolved ? 'internal unresolved' : 'internal'} dx={10}>
                    {i.label}
                  </tspan>
                ))}
              </text>
              {currentNode?.id === n.id && badge(n)}
            </g>
          ))}
          {layout.edges.map((e, k) => (
            <g key={`e${k}`} class={e.back ? 'edge back' : 'edge'} data-from={e.from} data-to={e.to} data-event={e.event}>
              <title>{edgeText(e, byId)}</title>
              <path d={e.path} />
              <polygon points={e.arrow} />
            </g>
          ))}
          {layout.start && (
            <g class="start">
              <circle cx={layout.start.cx} cy={layout.start.cy} r={5} />
              <path d={layout.start.path} />
              <polygon points={layout.start.arrow} />
            </g>
          )}
          {leaves.map((n) => (
            <g key={n.id} class={cls(n, 'node leaf')} data-state={n.id}>
              <title>{n.task ? `${withCode(n.label, n.id)}：${n.task}` : withCode(n.label, n.id)}</title>
              <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={6} />
              {n.final && <rect class="inner" x={n.x + 3} y={n.y + 3} width={n.w - 6} height={n.h - 6} rx={4} />}
              <text class="state-label" x={n.x + n.w / 2} y={n.y + 21} text-anchor="middle">
                {n.label}
              </text>
              {n.internal.map((i, k) => (
                <text
                  key={k}
                  class={i.unresolved ? 'internal unresolved' : 'internal'}
                  x={n.x + n.w / 2}
                  y={n.y + DIAGRAM.boxHeight + 8 + k * DIAGRAM.lineHeight}
                  text-anchor="middle"
                >
                  {i.label}
                </text>
              ))}
              {currentNode?.id === n.id && badge(n)}
            </g>
          ))}
          {layout.edges.map((e, k) => (
            <text key={`l${k}`} class={e.back ? 'edge-label back' : 'edge-label'} x={e.labelX} y={e.labelY} text-anchor="middle" dominant-baseline="central">
              {e.label}
            </text>
          ))}
        </svg>
      </div>
      <ol class="sr-only">{stateItems(layout, byId, null, currentNode?.id, visitedIds)}</ol>
      {layout.machineTransitions.length > 0 && <p class="diagram-note">
          {L('任意状态：', 'In any state: ')}
          {layout.machineTransitions.join(L('；', '; '))}
        </p>}
    </figure>
  );
}

function badge(n: DiagramNode): JSX.Element {
  const w = 34;
  const x = n.x + n.w - w + 6;
  const y = n.y - 9;
  return (
    <g class="badge">
      <rect x={x} y={y} width={w} height={16} rx={8} />
      <text x={x + w / 2} y={y + 8} text-anchor="middle" dominant-baseline="central">
        {L('当前', 'now')}
      </text>
    </g>
  );
}

/** The states as text, nested like the machine: flags, task, and each transition. */
function stateItems(layout: DiagramLayout, byId: Map<string, DiagramNode>, parent: string | null, current: string | undefined, visited: Set<string>): JSX.Element[] {
  return layout.nodes
    .filter((n) => n.parent === parent)
    .map((n) => {
      const flags = [
        n.compound && L('复合状态', 'compound'),
        n.initial && L('初始', 'initial'),
        n.final && L('终态', 'final'),
        n.id === current && L('当前', 'current'),
        visited.has(n.id) && L('已经过', 'visited'),
      ].filter(Boolean);
      const moves = [
        ...layout.edges.filter((e) => e.from === n.id).map((e) => edgeText(e, byId)),
        ...n.internal.map((i) =>
          i.unresolved
            ? `${i.event}${i.guard ? ` [${i.guard}]` : ''} → ${i.unresolved}${L('（目标未找到）', ' (target not found)')}`
            : `${i.event}${i.guard ? ` [${i.guard}]` : ''}${L(`（不离开状态${i.count > 1 ? `，${i.count} 个分支` : ''}）`, ` (stays${i.count > 1 ? `, ${i.count} branches` : ''})`)}`,
        ),
      ];
      const children = n.compound ? stateItems(layout, byId, n.id, current, visited) : [];
      return (
        <li key={n.id}>
          {withCode(n.label, n.id)}
          {flags.length > 0 && L(`（${flags.join('，')}）`, ` (${flags.join(', ')})`)}
          {n.task && L(`：${n.task}`, `: ${n.task}`)}
          {moves.length > 0 && L(`。转换：${moves.join('；')}`, `. Transitions: ${moves.join('; ')}`)}
          {children.length > 0 && <ol>{children}</ol>}
        </li>
      );
    });
}

import type { MikroORM } from '@mikro-orm/postgresql';
import { Grid } from '../db/community.entities';
import type { Labels } from '../engine/document.schema';
import { stateLabel, type Lang } from '../engine/labels';

/**
 * Names people read in place of codes, on the server's side of the console: the registry's grid
 * names (第三网格 rather than grid-03) and a definition's display names (labels). Codes stay in
 * what machines read; these go next to them (CSV) or into text meant for people (notices).
 */

// Grid names change rarely (the registry page); a renamed grid shows within this long.
const GRID_NAMES_TTL_MS = 30_000;
const gridCache = new WeakMap<object, { at: number; names: Promise<Map<string, string>> }>();

function cachedGridNames(owner: object, load: () => Promise<{ id: string; name: string }[]>): Promise<Map<string, string>> {
  const hit = gridCache.get(owner);
  if (hit && Date.now() - hit.at < GRID_NAMES_TTL_MS) return hit.names;
  const names = load().then((grids) => new Map(grids.map((g) => [g.id, g.name])));
  gridCache.set(owner, { at: Date.now(), names });
  // A failed read is not kept: the next caller asks again.
  names.catch(() => gridCache.delete(owner));
  return names;
}

/** The registry's grid names by id, read at most once per 30 s for each database. */
export const gridNames = (orm: MikroORM): Promise<Map<string, string>> => cachedGridNames(orm, () => orm.em.fork().find(Grid, {}, { fields: ['id', 'name'] }));

/** The same, through the registry's service (the API's routes hold it rather than the database). */
export const gridNamesFrom = (registry: { listGrids(community?: string | 'all'): Promise<{ id: string; name: string }[]> }): Promise<Map<string, string>> => cachedGridNames(registry, () => registry.listGrids('all'));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const patterns = new WeakMap<Map<string, string>, RegExp | null>();

/**
 * `text` with each grid id that stands as a word replaced by the grid's name: "督办：grid-03 巡查"
 * becomes "督办：第三网格 巡查". An id inside a longer code is left alone, so a business key
 * ("daily-patrol/grid-03/2026-11-25") still names its process.
 */
export function nameGrids(text: string, names: Map<string, string>): string {
  let pattern = patterns.get(names);
  if (pattern === undefined) {
    const ids = [...names.keys()].filter((id) => id && names.get(id)).sort((a, b) => b.length - a.length);
    pattern = ids.length ? new RegExp(`(?<![\\w/.-])(${ids.map(escape).join('|')})(?![\\w/-]|\\.\\w)`, 'g') : null;
    patterns.set(names, pattern);
  }
  return pattern ? text.replace(pattern, (id) => names.get(id) ?? id) : text;
}

/** Where the display names of a definition version come from (a DefinitionService does). */
export interface DefinitionSource {
  get(key: string, version?: number): Promise<{ document: { labels?: Labels } }>;
}

/**
 * The labels of each definition version the rows name, read once each; a definition that is gone
 * has none (its rows keep their codes).
 */
export async function labelsOf(definitions: DefinitionSource, wanted: { key: string; version?: number }[]): Promise<(key: string, version?: number) => Labels | undefined> {
  const found = new Map<string, Labels | undefined>();
  const id = (key: string, version?: number) => `${key}@${version ?? 'latest'}`;
  for (const w of wanted) {
    if (found.has(id(w.key, w.version))) continue;
    found.set(id(w.key, w.version), await definitions.get(w.key, w.version).then((d) => d.document.labels, () => undefined));
  }
  return (key, version) => found.get(id(key, version));
}

/** What the API's routes name rows with. */
export interface Namer {
  grids(): Promise<Map<string, string>>;
  definitions: DefinitionSource;
}

export const namerFrom = (registry: { listGrids(community?: string | 'all'): Promise<{ id: string; name: string }[]> }, definitions: DefinitionSource): Namer => ({
  grids: () => gridNamesFrom(registry),
  definitions,
});

type DefinitionRef = string | { key: string; version?: number };
const refOf = (definition: DefinitionRef, version?: number) => (typeof definition === 'string' ? { key: definition, version } : definition);

/**
 * Rows with people's names next to their codes, in `lang`: `gridName` for a row with a grid and
 * `stateName` for a row with a definition and a state (by the row's definition version, when it has one).
 */
export async function nameRows<R extends { definition?: DefinitionRef; definitionVersion?: number; grid?: string | null; state?: string }>(
  rows: R[],
  namer: Namer,
  lang: Lang,
): Promise<(R & { gridName?: string | null; stateName?: string })[]> {
  const refs = rows.filter((r) => r.definition !== undefined && r.definition !== '*').map((r) => refOf(r.definition as DefinitionRef, r.definitionVersion));
  const [grids, labels] = await Promise.all([namer.grids(), labelsOf(namer.definitions, refs)]);
  return rows.map((r) => {
    const named: R & { gridName?: string | null; stateName?: string } = { ...r };
    if (r.grid !== undefined) named.gridName = r.grid === null ? null : grids.get(r.grid) ?? r.grid;
    if (r.state !== undefined && r.definition !== undefined) {
      const d = refOf(r.definition, r.definitionVersion);
      named.stateName = stateLabel(labels(d.key, d.version), r.state, lang);
    }
    return named;
  });
}

/**
 * Communities as tenants. A street office (街道) runs several communities (社区); each has its own
 * grids, members, registry, processes and ranking. Grid ids are unique within a community: the
 * key gridflow carries everywhere (workflow ids, tokens, read model, search attributes) qualifies
 * the local id with its community, `linyuan.grid-03`, so everything keyed by grid is kept apart by
 * community without a second column. The default community keeps its bare keys (`grid-03`), so
 * the ids, URLs and tokens of a single-community deployment stay as they were. Pure: the workflow,
 * the API and the console share it.
 */

/** The community a deployment has when nothing says otherwise (盛世社区). */
export const DEFAULT_COMMUNITY = 'shengshi';

/** A community id: short kebab-case, e.g. "linyuan". */
export const COMMUNITY_ID = /^[a-z][a-z0-9-]{1,29}$/;

/** A grid's local id within its community. */
export const LOCAL_GRID_ID = /^grid-\d{2}$/;

/** A grid key: the local id, qualified by its community unless that is the default. */
export const GRID_KEY = /^(?:([a-z][a-z0-9-]{1,29})\.)?(grid-\d{2})$/;

/** The community a grid key belongs to; undefined when it is no grid key. */
export function communityOfGrid(key: string): string | undefined {
  const m = GRID_KEY.exec(key);
  if (!m) return undefined;
  return m[1] ?? DEFAULT_COMMUNITY;
}

/** The community of a process or a caller's target: its grid key names it; without a grid, `community`, else the default. */
export function processCommunity(grid: string | null | undefined, community?: string): string {
  if (grid != null) return communityOfGrid(grid) ?? DEFAULT_COMMUNITY;
  return community ?? DEFAULT_COMMUNITY;
}

/** The local id of a grid key (`linyuan.grid-03` -> `grid-03`). */
export function localGrid(key: string): string {
  const m = GRID_KEY.exec(key);
  return m ? m[2] : key;
}

/** The key of `local` in `community`. */
export function gridKey(community: string, local: string): string {
  return community === DEFAULT_COMMUNITY ? local : `${community}.${local}`;
}

/** Why `key` is not a grid of `community`, or undefined when it is. */
export function gridKeyProblem(key: string, community?: string): string | undefined {
  const of = communityOfGrid(key);
  if (!of) return `"${key}" is not a grid key; use "grid-01" to "grid-12" in ${DEFAULT_COMMUNITY}, or "<community>.grid-NN" in another community`;
  if (community !== undefined && of !== community) return `grid "${key}" belongs to community ${of}, not ${community}`;
  return undefined;
}

/**
 * The community of a process: its context names it when it is not the default one; otherwise its
 * grid's, else the default (histories from before communities have neither).
 */
export function communityOfContext(context: Record<string, unknown>): string {
  if (typeof context.community === 'string') return context.community;
  if (typeof context.grid === 'string') return communityOfGrid(context.grid) ?? DEFAULT_COMMUNITY;
  return DEFAULT_COMMUNITY;
}

/** Who a caller or an actor reaches by community: one home community, a street's list, or all. */
export interface CommunityReach {
  /** The home community; absent means the default. */
  community?: string;
  /** A street office's communities, or 'all' (admin); replaces `community` when set. */
  communities?: string[] | 'all';
}

export function reachesCommunity(who: CommunityReach, community: string): boolean {
  if (who.communities === 'all') return true;
  if (who.communities) return who.communities.includes(community);
  return (who.community ?? DEFAULT_COMMUNITY) === community;
}

/** The communities `who` reaches, in words: "linyuan", "the street's shengshi, linyuan", "every community". */
export function describeCommunities(who: CommunityReach): string {
  if (who.communities === 'all') return 'every community';
  if (who.communities) return who.communities.join(', ') || 'no community';
  return who.community ?? DEFAULT_COMMUNITY;
}

/**
 * The segment a process outside the default community carries right after its definition key:
 * `daily-patrol/linyuan/grid-03/2026-12-02`, `monthly-review/linyuan/2026-11`. The default
 * community's ids have none, as before communities existed.
 */
export function communitySegment(community: string): string | undefined {
  return community === DEFAULT_COMMUNITY ? undefined : community;
}

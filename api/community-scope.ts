import type { Request, RequestHandler } from 'express';
import { COMMUNITY_ID, DEFAULT_COMMUNITY, describeCommunities, processCommunity } from '../engine/community';
import { forbidden, notFound } from '../services/errors';
import { communitiesOf, type Principal } from '../services/principal';

declare module 'express-serve-static-core' {
  interface Request {
    /** The community a request names in its path (`/api/communities/:community/...`), if it names one. */
    communityInPath?: string;
  }
}

/** Paths under `/api/communities/:community/` that answer for that community (the rest are the community's own routes). */
const SCOPED = /^\/(processes-counts|processes|tasks|grids|rota|registry|stats|evaluations|deliveries|notifications|schedules|definitions|me)(\/|$|\?)/;

/**
 * `/api/communities/linyuan/processes?...` is `/api/processes?...` about the community linyuan: the
 * path names the community, the routes stay one set. Runs before authentication, which then checks
 * that the caller reaches that community (`requireCommunity`).
 */
export const communityPaths: RequestHandler = (req, _res, next) => {
  const m = /^\/api\/communities\/([^/?]+)(\/[^?]*)(\?.*)?$/.exec(req.url);
  if (!m || !SCOPED.test(m[2])) return next();
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return next(notFound(`community "${m[1]}" does not exist`));
  }
  if (!COMMUNITY_ID.test(id)) return next(notFound(`community "${id}" does not exist; a community id is kebab-case, e.g. "linyuan"`));
  req.communityInPath = id;
  req.url = `/api${m[2]}${m[3] ?? ''}`;
  next();
};

/** After authentication: a path's community must be one the caller reaches. */
export const requireCommunity: RequestHandler = (req, _res, next) => {
  const c = req.communityInPath;
  const p = req.principal;
  if (c === undefined || !p) return next();
  const reach = communitiesOf(p);
  if (reach === 'all' || reach.includes(c)) return next();
  next(forbidden(`community ${c} is not yours; you work in ${describeCommunities(p)}. Its own staff, or the street office above it, may see it`));
};

/** The community a request is about: the one its path names, else the caller's own. */
export function communityOf(req: Request): string {
  return req.communityInPath ?? req.principal?.community ?? DEFAULT_COMMUNITY;
}

/**
 * The communities a list answers for: the path's one, else every community the caller reaches
 * (undefined for all of them, an admin's reach).
 */
export function communitiesFor(req: Request): string[] | undefined {
  if (req.communityInPath) return [req.communityInPath];
  const reach = communitiesOf(req.principal as Principal);
  return reach === 'all' ? undefined : reach;
}

/** Whether `grid` is in one of the communities a list answers for. */
export function inCommunities(communities: string[] | undefined, grid: string): boolean {
  return communities === undefined || communities.includes(processCommunity(grid));
}

/**
 * The grid keys a caller may see within the communities a request answers for, for tables keyed by
 * grid (registry, rota, deliveries): a grid role's own grids, or every grid of those communities.
 */
export async function gridsFor(req: Request, gridIds: (community: string | 'all') => Promise<string[]>): Promise<string[] | 'all'> {
  const p = req.principal as Principal;
  const communities = communitiesFor(req);
  if (p.grids !== 'all') return p.grids.filter((g) => inCommunities(communities, g));
  if (communities === undefined) return 'all';
  return (await Promise.all(communities.map((c) => gridIds(c)))).flat();
}

import { DEFAULT_COMMUNITY, processCommunity, reachesCommunity, type CommunityReach } from '../engine/community';

/**
 * Who is calling, as the services see it: a token's role, its member and the grids (or, for a
 * partner, the organisation) it may reach. It lives below the API so services need nothing of it.
 */
export interface Principal extends CommunityReach {
  role: 'admin' | 'ops' | 'manager' | 'grid-leader' | 'grid-worker' | 'partner';
  name: string;
  /** The community member the caller is, when the token names one. */
  memberId?: string;
  grids: string[] | 'all';
  /** A partner's organisation: the processes it owns are within reach, in any grid. */
  organizationId?: string;
  /**
   * The registry's row of `memberId`, active, as read with the credential on this request: who acts
   * is then known without reading it again. Absent where a principal is made otherwise.
   */
  member?: PrincipalMember;
}

export interface PrincipalMember {
  id: string;
  name: string;
  role: string;
  gridId: string | null;
  organizationId: string | null;
  communityId: string;
}

/**
 * Whether the caller may see or act on `grid` of `community` (community-level processes have no
 * grid; a grid key names its community, so `community` is needed only without one).
 */
export function mayReach(p: Principal | undefined, grid: string | null | undefined, community?: string): boolean {
  if (!p) return true;
  const of = processCommunity(grid, community);
  if (!reachesCommunity(p, of)) return false;
  if (p.grids === 'all') return true;
  return grid != null && p.grids.includes(grid);
}

/** Whether the caller may see a process: its grid, or for a partner, the work given to its organisation. */
export function mayReachProcess(p: Principal | undefined, process: { grid: string | null; owner?: string | null; community?: string }): boolean {
  if (mayReach(p, process.grid, process.community)) return true;
  return Boolean(p?.organizationId && process.owner && p.organizationId === process.owner);
}

/** The communities a caller reaches: 'all' (admin), a street office's list, or its one community. */
export function communitiesOf(p: CommunityReach): string[] | 'all' {
  return p.communities ?? [p.community ?? DEFAULT_COMMUNITY];
}

/** The registry roles a principal of each role may speak for: a token cannot lend a member more power than its role. */
export const MEMBER_ROLES_OF: Record<Principal['role'], string[]> = {
  admin: [],
  ops: [],
  manager: ['party-secretary', 'community-manager', 'street-office'],
  'grid-leader': ['grid-leader'],
  'grid-worker': ['grid-worker', 'grid-part-time', 'grid-police'],
  partner: ['partner'],
};

/**
 * The principal a member is when they sign in themself (a console session): the role their registry
 * role fits, their own grid, or their organisation; the same a fitting token for them would give.
 */
export function principalOfMember(
  m: { id: string; role: string; gridId: string | null; organizationId: string | null; communityId?: string; street?: string[] },
  name: string,
): Principal | undefined {
  const role = (Object.keys(MEMBER_ROLES_OF) as Principal['role'][]).find((r) => MEMBER_ROLES_OF[r].includes(m.role));
  if (!role) return undefined;
  const community = m.communityId ?? DEFAULT_COMMUNITY;
  const member: PrincipalMember = { id: m.id, name, role: m.role, gridId: m.gridId, organizationId: m.organizationId, communityId: community };
  if (role === 'partner') return { role, name, memberId: m.id, grids: [], community, member, ...(m.organizationId ? { organizationId: m.organizationId } : {}) };
  // The street office sits in one community's registry and oversees every community of its street.
  if (role === 'manager') return { role, name, memberId: m.id, grids: 'all', community, member, ...(m.role === 'street-office' && m.street ? { communities: m.street } : {}) };
  return { role, name, memberId: m.id, grids: m.gridId ? [m.gridId] : [], community, member };
}

/**
 * SQL for the communities of the street a member's community belongs to (a street-office member's
 * reach), over `member m`; null for any other role.
 */
export const STREET_OF_MEMBER = `(case when m.role = 'street-office' then (select json_agg(c2.id order by c2.id) from community c1 join community c2 on c2.street_id = c1.street_id where c1.id = m.community_id) end)`;

/**
 * Who is calling, as the services see it: a token's role, its member and the grids (or, for a
 * partner, the organisation) it may reach. It lives below the API so services need nothing of it.
 */
export interface Principal {
  role: 'admin' | 'ops' | 'manager' | 'grid-leader' | 'grid-worker' | 'partner';
  name: string;
  /** The community member the caller is, when the token names one. */
  memberId?: string;
  grids: string[] | 'all';
  /** A partner's organisation: the processes it owns are within reach, in any grid. */
  organizationId?: string;
}

/** Whether the caller may see or act on `grid` (community-level processes have none). */
export function mayReach(p: Principal | undefined, grid: string | null | undefined): boolean {
  if (!p || p.grids === 'all') return true;
  return grid != null && p.grids.includes(grid);
}

/** Whether the caller may see a process: its grid, or for a partner, the work given to its organisation. */
export function mayReachProcess(p: Principal | undefined, process: { grid: string | null; owner?: string | null }): boolean {
  if (mayReach(p, process.grid)) return true;
  return Boolean(p?.organizationId && process.owner && p.organizationId === process.owner);
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
export function principalOfMember(m: { id: string; role: string; gridId: string | null; organizationId: string | null }, name: string): Principal | undefined {
  const role = (Object.keys(MEMBER_ROLES_OF) as Principal['role'][]).find((r) => MEMBER_ROLES_OF[r].includes(m.role));
  if (!role) return undefined;
  if (role === 'partner') return { role, name, memberId: m.id, grids: [], ...(m.organizationId ? { organizationId: m.organizationId } : {}) };
  if (role === 'manager') return { role, name, memberId: m.id, grids: 'all' };
  return { role, name, memberId: m.id, grids: m.gridId ? [m.gridId] : [] };
}

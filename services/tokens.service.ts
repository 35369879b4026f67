import crypto from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { DEFAULT_COMMUNITY, gridKeyProblem } from '../engine/community';
import { MEMBER_ROLES_OF, STREET_OF_MEMBER, type Principal } from './principal';
import type { CommunityService } from './community.service';
import { badRequest } from './errors';

/** Who a principal is for per-caller limits (requests, open streams): its role, token name and member. */
export const callerKey = (p: Principal): string => JSON.stringify([p.role, p.name, p.memberId ?? null]);

const ROLES: Principal['role'][] = ['admin', 'ops', 'manager', 'grid-leader', 'grid-worker', 'partner'];
const hash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/**
 * API tokens: random, shown once, stored only as a SHA-256 hash, with a role, the grids it may
 * reach, an optional member it speaks for, an expiry and revocation.
 */
export class TokenService {
  constructor(
    private readonly orm: MikroORM,
    private readonly community?: CommunityService,
  ) {}

  /**
   * The community a token belongs to: its member's, else the one asked for, else the default; a
   * street token (`street`) reaches every community of that street. Grids must lie in the community.
   */
  private async scopeOf(p: { role: Principal['role']; memberId?: string; grids?: string[]; community?: string; street?: string }): Promise<{ community: string; street: string | null }> {
    const member = p.memberId && this.community ? await this.community.member(p.memberId) : undefined;
    const community = member?.communityId ?? p.community ?? DEFAULT_COMMUNITY;
    if (member && p.community !== undefined && p.community !== member.communityId) {
      throw badRequest(`member "${member.id}" belongs to community ${member.communityId}, not ${p.community}`, [{ path: 'community', message: member.communityId }]);
    }
    if (this.community && !(await this.community.communityExists(community))) {
      throw badRequest(`community "${community}" does not exist`, [{ path: 'community', message: 'see GET /api/communities' }]);
    }
    if (p.street !== undefined) {
      if (p.role !== 'manager') throw badRequest(`a street token is a manager's; role ${p.role} works in one community`, [{ path: 'street', message: 'only with role "manager"' }]);
      if (this.community && !(await this.community.streetCommunities(p.street)).length) {
        throw badRequest(`street "${p.street}" has no community`, [{ path: 'street', message: 'see GET /api/communities' }]);
      }
    }
    for (const [i, g] of (p.grids ?? []).entries()) {
      const problem = gridKeyProblem(g, community);
      if (problem) throw badRequest(`the token's grids: ${problem}`, [{ path: `grids.${i}`, message: problem }]);
    }
    return { community, street: p.street ?? null };
  }

  /** A token that names a member must fit them: a role the member holds and, for grid roles, the member's own grid. */
  private async checkMember(p: { role: Principal['role']; memberId?: string; grids?: string[] }): Promise<void> {
    if (!p.memberId || !this.community) return;
    const member = await this.community.member(p.memberId);
    if (!member) throw badRequest(`member "${p.memberId}" does not exist or is not active`, [{ path: 'memberId', message: 'see GET /api/grids/:id for members' }]);
    const fits = MEMBER_ROLES_OF[p.role];
    if (!fits.includes(member.role)) {
      const roles = Object.entries(MEMBER_ROLES_OF).filter(([, m]) => m.includes(member.role)).map(([r]) => r);
      throw badRequest(`member "${member.id}" is ${member.role}; a ${p.role} token cannot speak for them; use role ${roles.join(' or ') || '(none)'}`, [{ path: 'role', message: `${roles.join(' or ')}` }]);
    }
    if (member.gridId && p.grids && (p.grids.length !== 1 || p.grids[0] !== member.gridId)) {
      throw badRequest(`member "${member.id}" works in ${member.gridId}; the token's grids must be ["${member.gridId}"]`, [{ path: 'grids', message: `["${member.gridId}"]` }]);
    }
  }

  async create(p: { role: Principal['role']; name: string; memberId?: string; grids?: string[]; ttlDays?: number; community?: string; street?: string }): Promise<{ id: string; token: string }> {
    if (!ROLES.includes(p.role)) throw badRequest(`unknown role "${p.role}"; roles: ${ROLES.join(', ')}`, [{ path: 'role', message: `one of ${ROLES.join(', ')}` }]);
    const gridScoped = p.role === 'grid-leader' || p.role === 'grid-worker';
    if (gridScoped && !p.grids?.length) throw badRequest(`a ${p.role} token needs the grids it may reach`, [{ path: 'grids', message: 'e.g. ["grid-03"]' }]);
    // A partner reaches the work given to its organisation, in any grid, and nothing else.
    if (p.role === 'partner' && !p.memberId) throw badRequest('a partner token speaks for a member of an organisation; give memberId, e.g. "m-org-rongbo"', [{ path: 'memberId', message: 'a partner member' }]);
    await this.checkMember({ ...p, grids: gridScoped ? p.grids : undefined });
    const scope = await this.scopeOf({ ...p, grids: gridScoped ? p.grids : undefined });
    const id = crypto.randomBytes(6).toString('hex');
    const token = `gf_${id}_${crypto.randomBytes(24).toString('base64url')}`;
    await this.orm.em.getConnection().execute(
      `insert into api_token (id, hash, role, member_id, grids, name, created_at, expires_at, community_id, street_id) values (?, ?, ?, ?, ?, ?, now(), ?, ?, ?)`,
      [
        id,
        hash(token),
        p.role,
        p.memberId ?? null,
        JSON.stringify(gridScoped ? p.grids : p.role === 'partner' ? [] : 'all'),
        p.name,
        p.ttlDays ? new Date(Date.now() + p.ttlDays * 86_400_000) : null,
        scope.community === DEFAULT_COMMUNITY ? null : scope.community,
        scope.street,
      ],
    );
    return { id, token };
  }

  async revoke(id: string): Promise<boolean> {
    const res = await this.orm.em.getConnection().execute(`update api_token set revoked_at = now() where id = ? and revoked_at is null`, [id], 'run');
    return Number((res as { affectedRows?: number }).affectedRows ?? 0) > 0;
  }

  /** The principal a token stands for, or undefined when it is unknown, expired or revoked. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (!token.startsWith('gf_')) return undefined;
    const rows = await this.orm.em.getConnection().execute<
      {
        role: Principal['role'];
        member_id: string | null;
        grids: string[] | 'all';
        name: string;
        organization_id: string | null;
        community: string;
        street: string[] | null;
        member_name: string | null;
        member_role: string | null;
        member_grid: string | null;
        member_community: string | null;
      }[]
    >(
      `select t.role, t.member_id, t.grids, t.name, m.organization_id, coalesce(m.community_id, t.community_id, '${DEFAULT_COMMUNITY}') as community,
              m.name as member_name, m.role as member_role, m.grid_id as member_grid, m.community_id as member_community,
              coalesce(${STREET_OF_MEMBER}, (select json_agg(c.id order by c.id) from community c where c.street_id = t.street_id)) as street
         from api_token t left join member m on m.id = t.member_id
        where t.hash = ? and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())
          -- A token that speaks for a member who has left (or was removed) speaks for nobody.
          and (t.member_id is null or (m.id is not null and m.active))`,
      [hash(token)],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      role: row.role,
      name: row.name,
      memberId: row.member_id ?? undefined,
      grids: row.grids,
      // The member as the registry has it now (the query above admits active members only).
      ...(row.member_id && row.member_name !== null && row.member_role !== null
        ? { member: { id: row.member_id, name: row.member_name, role: row.member_role, gridId: row.member_grid, organizationId: row.organization_id, communityId: row.member_community ?? DEFAULT_COMMUNITY } }
        : {}),
      community: row.community,
      // A street token or a street-office member: every community of the street, as it is today.
      ...(row.role === 'manager' && row.street ? { communities: row.street } : {}),
      // Operations run the deployment's definitions for every community; an admin token reaches all of it.
      ...(row.role === 'ops' || row.role === 'admin' ? { communities: 'all' as const } : {}),
      ...(row.role === 'partner' && row.organization_id ? { organizationId: row.organization_id } : {}),
    };
  }
}

import type { MikroORM } from '@mikro-orm/postgresql';
import * as readModel from '../db/read-model';
import { ACTING_FOR_ROLES, type Actor } from '../engine/access';
import type { Principal } from './principal';
import { DEFAULT_COMMUNITY, describeCommunities, reachesCommunity, type CommunityReach } from '../engine/community';

/** The community reach a principal lends its actor, named only where it differs from the default. */
function reachOf(p: Principal): CommunityReach {
  return {
    ...(p.community && p.community !== DEFAULT_COMMUNITY ? { community: p.community } : {}),
    ...(p.communities ? { communities: p.communities } : {}),
  };
}
import type { CommunityService } from './community.service';
import type { RotaService } from './rota.service';
import { badRequest, forbidden } from './errors';

/**
 * Turns an authenticated caller into the actor the engine's access rules check: the member the
 * token names (role and grid from the registry), the tasks they hold in the process, and, when a
 * manager acts for someone with `onBehalfOf`, that member with the manager behind them (audited).
 */
export class ActorService {
  constructor(private readonly deps: { orm: MikroORM; community: CommunityService; rota?: RotaService }) {}

  private async holds(memberId: string, workflowId: string): Promise<string[]> {
    // A claim counts only since its state was last entered (see TaskService): stale ones lend nothing.
    const ids = await readModel.claimedTaskIds(this.deps.orm, { workflowId, memberId });
    return ids.map((id) => id.slice(id.lastIndexOf('#') + 1));
  }

  /** The caller as themselves. */
  async self(p: Principal, workflowId: string): Promise<Actor> {
    const where = reachOf(p);
    if (!p.memberId) return { kind: 'person', id: p.name, role: p.role, grids: p.grids, ...where };
    // Read with the credential on this request when it came that way, else from the registry.
    const member = p.member?.id === p.memberId ? p.member : await this.deps.community.member(p.memberId);
    // A token whose member has left acts as nobody in particular: its own role, no tasks held.
    if (!member) return { kind: 'person', id: p.memberId, role: p.role, grids: p.grids, ...where };
    return { kind: 'person', id: member.id, role: member.role, grids: p.grids, ...where, ...(member.organizationId ? { org: member.organizationId } : {}), holds: await this.held(member, workflowId) };
  }

  /** The caller, or the member they act for; `onBehalfOf` is only for managers and is audited. */
  async of(p: Principal, workflowId: string, onBehalfOf?: string, what?: string): Promise<Actor> {
    const me = await this.self(p, workflowId);
    if (onBehalfOf === undefined) return me;
    if (!(ACTING_FOR_ROLES as readonly string[]).includes(me.role) || p.grids !== 'all') {
      throw forbidden(`only a manager or admin acts for someone else ("onBehalfOf"); you are ${me.role}. Send it as yourself, or ask a manager`);
    }
    const member = await this.deps.community.member(onBehalfOf);
    if (!member) throw badRequest(`member "${onBehalfOf}" does not exist or is not active`, [{ path: 'onBehalfOf', message: 'a member id, see GET /api/grids/:id' }]);
    // The street office acts at the street's level: a community's manager does not speak for it.
    if (member.role === 'street-office' && !me.communities) {
      throw forbidden(`member "${member.id}" is the street office; it acts for itself (or an admin for it), not through a community's manager`);
    }
    if (!reachesCommunity(me, member.communityId)) {
      throw forbidden(`member "${member.id}" belongs to community ${member.communityId}; you act for members of ${describeCommunities(me)} only`);
    }
    await this.deps.community.audit(me.id, 'event.on-behalf-of', workflowId, { member: member.id, role: member.role, event: what });
    return {
      kind: 'person',
      id: member.id,
      role: member.role,
      grids: member.gridId ? [member.gridId] : member.organizationId ? [] : 'all',
      ...(member.communityId !== DEFAULT_COMMUNITY ? { community: member.communityId } : {}),
      ...(member.organizationId ? { org: member.organizationId } : {}),
      holds: await this.held(member, workflowId),
      by: me,
    };
  }

  /** Tasks held by claim or reassignment, and, for a stand-in (代岗), the worker's tasks the duty rota gives them. */
  private async held(member: { id: string; role: string; gridId: string | null }, workflowId: string): Promise<string[]> {
    const [claimed, rota] = await Promise.all([this.holds(member.id, workflowId), this.deps.rota?.holds(member, workflowId) ?? []]);
    return [...new Set([...claimed, ...rota])];
  }
}

import { Router } from 'express';
import { z } from 'zod';
import { IDENTITY_PROVIDERS } from '../db/sessions.entities';
import type { CommunityService } from '../services/community.service';
import { forbidden, notFound } from '../services/errors';
import { mayReach, type Principal } from '../services/principal';
import { reachesCommunity } from '../engine/community';
import type { SessionService } from '../services/sessions.service';

export const memberParams = z.strictObject({ id: z.string().min(1).max(100) });
export const identityBody = z.strictObject({
  provider: z.enum(IDENTITY_PROVIDERS).describe('oidc: the unified sign-in; wecom: WeCom'),
  subject: z.string().min(1).max(255).describe('The account at the provider: the ID token\'s "sub", or the WeCom userid'),
});
export const identityParams = z.strictObject({ id: z.string().min(1).max(100), provider: z.enum(IDENTITY_PROVIDERS), subject: z.string().min(1).max(255) });

/** Admin, for anyone; managers, for their community's members (the street office: its street's); a grid leader, for their own grid's. */
function mayManageSessionsOf(p: Principal, member: { id: string; gridId: string | null; communityId: string }): boolean {
  if (p.role === 'admin') return true;
  if (!reachesCommunity(p, member.communityId)) return false;
  if (p.role === 'manager') return true;
  return p.role === 'grid-leader' && member.gridId !== null && mayReach(p, member.gridId);
}
const whoMay = (member: { id: string; gridId: string | null; communityId: string }) =>
  `admin, a manager of community ${member.communityId}${member.gridId ? ` or ${member.gridId}'s grid leader` : ''}`;

/**
 * Console sessions (listed and revoked by those who manage the member) and the provider accounts
 * linked to members (admin links and unlinks; managers may see them).
 */
export function sessionRoutes(sessions: SessionService, community: CommunityService): Router {
  const r = Router();
  const actor = (p: Principal) => p.memberId ?? p.name;

  r.get('/members/:id/sessions', async (req, res) => {
    const p = req.principal as Principal;
    const found = await sessions.requireMember(memberParams.parse(req.params).id, true);
    const member = { ...found, communityId: await community.communityOfMember(found.id) };
    if (!mayManageSessionsOf(p, member)) throw forbidden(`the sessions of member "${member.id}" are for ${whoMay(member)}; you are ${p.role}`);
    res.json({ items: await sessions.list(member.id) });
  });

  r.delete('/sessions/:id', async (req, res) => {
    const p = req.principal as Principal;
    const id = memberParams.parse(req.params).id;
    const owner = await sessions.ownerOf(id);
    if (!owner) throw notFound(`session "${id}" does not exist (or ended over a day ago); see GET /api/members/:id/sessions`);
    const member = { id: owner.memberId, gridId: owner.gridId, communityId: await community.communityOfMember(owner.memberId) };
    if (!mayManageSessionsOf(p, member)) throw forbidden(`the sessions of member "${member.id}" may be revoked by ${whoMay(member)}; you are ${p.role}`);
    const revoked = await sessions.revoke(id, actor(p));
    if (revoked) await community.audit(actor(p), 'session.revoke', `member:${member.id}`, { session: id });
    res.json({ id, revoked });
  });

  r.get('/members/:id/identities', async (req, res) => {
    const p = req.principal as Principal;
    if (p.role !== 'admin' && p.role !== 'manager') throw forbidden(`linked sign-in accounts are for admin and managers; you are ${p.role}`);
    const { id } = memberParams.parse(req.params);
    const of = await community.communityOfMember(id);
    if (!reachesCommunity(p, of)) throw forbidden(`member "${id}" belongs to community ${of}; managers see the accounts of their own community's members`);
    res.json({ items: await sessions.identities(id) });
  });

  r.post('/members/:id/identities', async (req, res) => {
    const p = req.principal as Principal;
    if (p.role !== 'admin') throw forbidden(`only admins link sign-in accounts to members; you are ${p.role}`);
    const { id } = memberParams.parse(req.params);
    const { provider, subject } = identityBody.parse(req.body);
    const { created } = await sessions.link(id, provider, subject, actor(p));
    if (created) await community.audit(actor(p), 'identity.link', `member:${id}`, { provider, subject });
    res.status(created ? 201 : 200).json({ memberId: id, provider, subject, created });
  });

  r.delete('/members/:id/identities/:provider/:subject', async (req, res) => {
    const p = req.principal as Principal;
    if (p.role !== 'admin') throw forbidden(`only admins unlink sign-in accounts; you are ${p.role}`);
    const { id, provider, subject } = identityParams.parse(req.params);
    const { sessionsRevoked } = await sessions.unlink(id, provider, subject, actor(p));
    await community.audit(actor(p), 'identity.unlink', `member:${id}`, { provider, subject, sessionsRevoked });
    res.json({ memberId: id, provider, subject, sessionsRevoked });
  });
  return r;
}

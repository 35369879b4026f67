import { Router } from 'express';
import { z } from 'zod';
import { IDENTITY_PROVIDERS } from '../db/sessions.entities';
import type { CommunityService } from '../services/community.service';
import { forbidden, notFound } from '../services/errors';
import { mayReach, type Principal } from '../services/principal';
import type { SessionService } from '../services/sessions.service';

export const memberParams = z.strictObject({ id: z.string().min(1).max(100) });
export const identityBody = z.strictObject({
  provider: z.enum(IDENTITY_PROVIDERS).describe('oidc: the unified sign-in; wecom: WeCom'),
  subject: z.string().min(1).max(255).describe('The account at the provider: the ID token\'s "sub", or the WeCom userid'),
});
export const identityParams = z.strictObject({ id: z.string().min(1).max(100), provider: z.enum(IDENTITY_PROVIDERS), subject: z.string().min(1).max(255) });

/** Managers and admin, for anyone; a grid leader, for the members of their own grid. */
function mayManageSessionsOf(p: Principal, member: { id: string; gridId: string | null }): boolean {
  if (p.role === 'admin' || p.role === 'manager') return true;
  return p.role === 'grid-leader' && member.gridId !== null && mayReach(p, member.gridId);
}
const whoMay = (member: { id: string; gridId: string | null }) => `admin, a manager${member.gridId ? ` or ${member.gridId}'s grid leader` : ''}`;

/**
 * Console sessions (listed and revoked by those who manage the member) and the provider accounts
 * linked to members (admin links and unlinks; managers may see them).
 */
export function sessionRoutes(sessions: SessionService, community: CommunityService): Router {
  const r = Router();
  const actor = (p: Principal) => p.memberId ?? p.name;

  r.get('/members/:id/sessions', async (req, res) => {
    const p = req.principal as Principal;
    const member = await sessions.requireMember(memberParams.parse(req.params).id, true);
    if (!mayManageSessionsOf(p, member)) throw forbidden(`the sessions of member "${member.id}" are for ${whoMay(member)}; you are ${p.role}`);
    res.json({ items: await sessions.list(member.id) });
  });

  r.delete('/sessions/:id', async (req, res) => {
    const p = req.principal as Principal;
    const id = memberParams.parse(req.params).id;
    const owner = await sessions.ownerOf(id);
    if (!owner) throw notFound(`session "${id}" does not exist (or ended over a day ago); see GET /api/members/:id/sessions`);
    const member = { id: owner.memberId, gridId: owner.gridId };
    if (!mayManageSessionsOf(p, member)) throw forbidden(`the sessions of member "${member.id}" may be revoked by ${whoMay(member)}; you are ${p.role}`);
    const revoked = await sessions.revoke(id, actor(p));
    if (revoked) await community.audit(actor(p), 'session.revoke', `member:${member.id}`, { session: id });
    res.json({ id, revoked });
  });

  r.get('/members/:id/identities', async (req, res) => {
    const p = req.principal as Principal;
    if (p.role !== 'admin' && p.role !== 'manager') throw forbidden(`linked sign-in accounts are for admin and managers; you are ${p.role}`);
    res.json({ items: await sessions.identities(memberParams.parse(req.params).id) });
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

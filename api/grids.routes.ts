import { Router, type Request } from 'express';
import { forbidden, notFound } from '../services/errors';
import { maskPhone, type CommunityService } from '../services/community.service';
import { communityOfGrid, describeCommunities } from '../engine/community';
import { mayReach } from '../services/principal';
import { communityOf } from './community-scope';

// Grid leaders and workers see their own grids only, managers their community's; a request without a principal never gets past authenticate().
const visible = (req: Request, gridId: string) => mayReach(req.principal, gridId);

const UNMASKERS = new Set(['admin', 'manager']);

export function gridRoutes(community: CommunityService): Router {
  const r = Router();

  r.get('/', async (req, res) => {
    const items = (await community.listGrids(communityOf(req))).filter((g) => visible(req, g.id));
    res.json({ items });
  });

  r.get('/:id', async (req, res) => {
    const grid = await community.getGrid(req.params.id);
    if (!visible(req, grid.id)) {
      const p = req.principal;
      throw forbidden(`grid "${grid.id}" is not one of yours; yours: ${p?.grids === 'all' ? `the grids of ${describeCommunities(p)}` : p?.grids.join(', ') || 'none'}`);
    }
    res.json({
      id: grid.id,
      name: grid.name,
      households: grid.households,
      residents: grid.residents,
      description: grid.description,
      sites: grid.sites.map((s) => ({ id: s.id, name: s.name, kind: s.kind, households: s.households })),
      // Listed field by field so a new column never leaves the server by accident; phones only masked (PIPL).
      members: grid.members.map((m) => ({ id: m.id, name: m.name, role: m.role, phone: maskPhone(m.phone) })),
    });
  });

  // Unmasking a phone number is for managers, and every reading is in the audit log.
  r.get('/:id/members/:memberId/phone', async (req, res) => {
    const p = req.principal;
    if (!p || !UNMASKERS.has(p.role)) throw forbidden('only managers may see a phone number unmasked');
    const grid = await community.getGrid(req.params.id);
    if (!visible(req, grid.id)) throw forbidden(`grid "${grid.id}" is in community ${communityOfGrid(grid.id)}; you work in ${describeCommunities(p)}`);
    if (!grid.members.some((m) => m.id === req.params.memberId)) throw notFound(`member "${req.params.memberId}" is not in ${grid.id}`);
    const phone = await community.phoneOf(req.params.memberId);
    await community.audit(p.name, 'phone.unmask', req.params.memberId, { grid: grid.id, requestId: req.requestId });
    res.json({ memberId: req.params.memberId, phone });
  });

  return r;
}

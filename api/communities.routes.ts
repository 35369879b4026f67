import { Router } from 'express';
import { z } from 'zod';
import { localDate } from '../engine/time';
import type { CommunityService } from '../services/community.service';
import { communitiesOf, type Principal } from '../services/principal';
import type { StreetService } from '../services/street.service';
import { monthParam } from './stats.routes';
import { requireRole } from './auth';

export const streetQuery = z.strictObject({
  month: monthParam.optional().describe('The month whose rankings are compared (YYYY-MM); default: the current one'),
});

/**
 * `/api/communities`: the communities a caller reaches (a street office: all of its street's), and
 * `/api/street`: those communities side by side, ranked. `/api/communities/:id/...` reaches one
 * community's routes (api/community-scope.ts).
 */
export function communityRoutes(community: CommunityService, street: StreetService): Router {
  const r = Router();

  r.get('/communities', async (req, res) => {
    const reach = communitiesOf(req.principal as Principal);
    const items = (await community.communities()).filter((c) => reach === 'all' || reach.includes(c.id));
    res.json({ items: items.map((c) => ({ id: c.id, name: c.name, street: { id: c.streetId, name: c.streetName }, households: c.households, residents: c.residents })) });
  });

  // Managers see their own community here; the street office every community of its street.
  r.get('/street', requireRole('manager'), async (req, res) => {
    const p = req.principal as Principal;
    const { month } = streetQuery.parse(req.query);
    res.json(await street.overview(communitiesOf(p), month ?? localDate(Date.now()).slice(0, 7)));
  });

  return r;
}

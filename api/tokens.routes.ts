import { Router } from 'express';
import { z } from 'zod';
import { COMMUNITY_ID, GRID_KEY } from '../engine/community';
import { forbidden } from '../services/errors';
import type { TokenService } from '../services/tokens.service';
import type { Principal } from './auth';

export const createTokenBody = z.strictObject({
  role: z.enum(['admin', 'ops', 'manager', 'grid-leader', 'grid-worker', 'partner']),
  name: z.string().min(1).max(100),
  memberId: z.string().min(1).max(100).optional(),
  grids: z.array(z.string().regex(GRID_KEY, 'a grid key: "grid-03", or "linyuan.grid-03" in another community')).min(1).optional(),
  ttlDays: z.number().int().min(1).max(3650).optional(),
  community: z.string().regex(COMMUNITY_ID, 'a community id, e.g. "linyuan"').optional().describe('The community the token works in; default: its member\'s, else the default community'),
  street: z.string().regex(COMMUNITY_ID, 'a street id, e.g. "xinhuaxi"').optional().describe('A manager token for a street office: every community of that street'),
});

/** Token administration (admin only); the token itself is shown once, in the answer to its creation. */
export function tokenRoutes(tokens: TokenService): Router {
  const r = Router();
  r.use((req, _res, next) => next((req.principal as Principal).role === 'admin' ? undefined : forbidden('only admins manage tokens')));
  r.post('/', async (req, res) => {
    res.status(201).json(await tokens.create(createTokenBody.parse(req.body)));
  });
  r.post('/:id/revoke', async (req, res) => {
    res.json({ id: req.params.id, revoked: await tokens.revoke(req.params.id) });
  });
  return r;
}

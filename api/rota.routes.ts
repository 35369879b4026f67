import { Router } from 'express';
import { z } from 'zod';
import { ROTA_KINDS } from '../engine/rota';
import type { RotaService } from '../services/rota.service';
import type { Principal } from './auth';
import { DAY } from './processes.routes';

const day = z.string().regex(new RegExp(`^${DAY}$`), 'a day as YYYY-MM-DD, e.g. "2026-12-07"');
const memberId = z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, 'a member id, e.g. "m-grid-09-worker"');

export const rotaGridParams = z.strictObject({ grid: z.string().min(1).max(50).describe('A grid id, e.g. grid-09') });
export const rotaQuery = z.strictObject({
  from: day.optional().describe('First day; default the Monday of this week'),
  to: day.optional().describe('Last day; default six days after from (at most 62 days in all)'),
});
export const rotaSetBody = z.strictObject({
  member: memberId.describe('Whose day it is: a member of the grid'),
  from: day,
  to: day.optional().describe('Last day of a stretch (leave for a week); default from'),
  kind: z.enum(ROTA_KINDS, { error: (iss) => `${JSON.stringify(iss.input)} is not a rota kind; use duty (值班), rest (轮休) or leave (请假)` }),
  standIn: memberId.nullable().optional().describe('Who stands in (代岗) during a rest day or leave: another member of the grid'),
  note: z.string().max(200).optional(),
});
export const rotaClearQuery = z.strictObject({ member: memberId, from: day, to: day.optional() });

/** `/api/rota/:grid`: a grid's duty rota; managers and the grid's leader change it (audited). */
export function rotaRoutes(rota: RotaService): Router {
  const r = Router();
  const who = (p: Principal | undefined) => p as Principal;
  r.get('/:grid', async (req, res) => {
    const { grid } = rotaGridParams.parse(req.params);
    res.json(await rota.view(who(req.principal), grid, rotaQuery.parse(req.query)));
  });
  r.put('/:grid/entries', async (req, res) => {
    const { grid } = rotaGridParams.parse(req.params);
    // Who may edit is answered before what was sent: a worker learns who may, not what is wrong with the body.
    await rota.requireEditor(who(req.principal), grid);
    res.json(await rota.set(who(req.principal), grid, rotaSetBody.parse(req.body)));
  });
  r.delete('/:grid/entries', async (req, res) => {
    const { grid } = rotaGridParams.parse(req.params);
    await rota.requireEditor(who(req.principal), grid);
    res.json(await rota.clear(who(req.principal), grid, rotaClearQuery.parse(req.query)));
  });
  return r;
}

import { Router } from 'express';
import { z } from 'zod';
import type { TaskService } from '../services/tasks.service';
import type { Principal } from './auth';
import { communitiesFor } from './community-scope';

export const taskListQuery = z.strictObject({
  assignee: z.string().min(1).optional(),
  status: z.enum(['open']).default('open'),
  grid: z.string().optional(),
  role: z.string().optional(),
  overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});
export const completeBody = z.strictObject({
  type: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an event type in SCREAMING_CASE'),
  data: z.record(z.string(), z.unknown()).optional(),
  requestId: z.string().min(1).max(200).optional(),
  onBehalfOf: z.string().min(1).max(100).optional(),
});
export const reassignBody = z.strictObject({ memberId: z.string().min(1) });

export function taskRoutes(tasks: TaskService): Router {
  const r = Router();
  const who = (p: Principal | undefined) => p as Principal;
  r.get('/', async (req, res) => {
    const q = taskListQuery.parse(req.query);
    const communities = communitiesFor(req);
    res.json({ items: await tasks.list(who(req.principal), { ...q, ...(communities ? { communities } : {}) }) });
  });
  r.post('/:id/complete', async (req, res) => {
    res.json(await tasks.complete(req.params.id, completeBody.parse(req.body), who(req.principal)));
  });
  r.post('/:id/claim', async (req, res) => {
    res.json(await tasks.claim(req.params.id, who(req.principal)));
  });
  r.post('/:id/reassign', async (req, res) => {
    res.json(await tasks.reassign(req.params.id, reassignBody.parse(req.body).memberId, who(req.principal)));
  });
  return r;
}

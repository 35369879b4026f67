import { Router } from 'express';
import { z } from 'zod';
import type { ScheduleService } from '../services/schedules.service';
import { requireRole } from './auth';

export const noteBody = z.strictObject({ note: z.string().max(500).optional() }).optional();

export function scheduleRoutes(schedules: ScheduleService): Router {
  const r = Router();
  r.use(requireRole('ops', 'manager'));
  const operate = requireRole('ops');
  r.get('/', async (_req, res) => {
    res.json(await schedules.list());
  });
  r.get('/:id', async (req, res) => {
    res.json(await schedules.get(String(req.params.id)));
  });
  r.post('/:id/trigger', operate, async (req, res) => {
    await schedules.trigger(String(req.params.id));
    res.status(202).json({ id: String(String(req.params.id)), triggered: true });
  });
  r.post('/:id/pause', operate, async (req, res) => {
    const body = noteBody.parse(req.body);
    res.json(await schedules.setPaused(String(req.params.id), true, body?.note ?? `paused by ${req.principal?.name ?? 'api'}`));
  });
  r.post('/:id/unpause', operate, async (req, res) => {
    const body = noteBody.parse(req.body);
    res.json(await schedules.setPaused(String(req.params.id), false, body?.note ?? `resumed by ${req.principal?.name ?? 'api'}`));
  });
  return r;
}

import { Router } from 'express';
import { z } from 'zod';
import type { ScheduleService } from '../services/schedules.service';

const noteBody = z.strictObject({ note: z.string().max(500).optional() }).optional();

export function scheduleRoutes(schedules: ScheduleService): Router {
  const r = Router();
  r.get('/', async (_req, res) => {
    res.json(await schedules.list());
  });
  r.get('/:id', async (req, res) => {
    res.json(await schedules.get(req.params.id));
  });
  r.post('/:id/trigger', async (req, res) => {
    await schedules.trigger(req.params.id);
    res.status(202).json({ id: req.params.id, triggered: true });
  });
  r.post('/:id/pause', async (req, res) => {
    const body = noteBody.parse(req.body);
    res.json(await schedules.setPaused(req.params.id, true, body?.note ?? `paused by ${req.principal?.name ?? 'api'}`));
  });
  r.post('/:id/unpause', async (req, res) => {
    const body = noteBody.parse(req.body);
    res.json(await schedules.setPaused(req.params.id, false, body?.note ?? `resumed by ${req.principal?.name ?? 'api'}`));
  });
  return r;
}

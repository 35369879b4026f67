import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { GRID_KEY } from '../engine/community';
import type { IntakeService } from '../services/intake.service';
import { unauthorized } from '../services/errors';
import { requireRole, type Principal } from './auth';

declare module 'express-serve-static-core' {
  interface Request {
    /** The external system an intake credential belongs to. */
    intakeSystem?: string;
  }
}

export const systemName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a short name in lower-case letters, digits and "-", e.g. "12345"');

export const ticketBody = z.strictObject({
  ticketId: z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'the system\'s own ticket id: letters, digits, ".", "_", ":" and "-"'),
  grid: z.string().regex(GRID_KEY, 'a grid key, "grid-01" to "grid-12" ("linyuan.grid-03" in another community)'),
  category: z.string().min(1).max(50),
  description: z.string().min(1).max(4000),
  urgency: z.enum(['normal', 'urgent']).optional(),
  location: z.string().max(200).optional(),
  reporter: z.string().max(100).optional(),
  reporterPhone: z.string().min(7).max(20).optional(),
});

export const systemBody = z.strictObject({
  name: systemName,
  webhookUrl: z.string().min(1).max(1000).optional(),
});

/** Intake credentials only: a user's token is not one, and an intake credential opens nothing else. */
function intakeAuth(intake: IntakeService): RequestHandler {
  return async (req, _res, next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const system = m ? await intake.authenticate(m[1]) : undefined;
    if (!system) return next(unauthorized('send "Authorization: Bearer <intake credential>"; an admin registers a system with POST /api/intake/systems'));
    req.intakeSystem = system;
    next();
  };
}

/** `POST /api/intake/tickets` and `GET /api/intake/tickets/:ticketId`, for external systems. */
export function intakeTicketRoutes(intake: IntakeService, gate: { before: RequestHandler[]; after: RequestHandler[] }): Router {
  const r = Router();
  r.use(...gate.before, intakeAuth(intake), ...gate.after);
  r.post('/', async (req, res) => {
    const body = ticketBody.parse(req.body);
    const { created, ...result } = await intake.receive(req.intakeSystem as string, body);
    res.status(created ? 201 : 200).json(result);
  });
  r.get('/:ticketId', async (req, res) => {
    res.json(await intake.ticket(req.intakeSystem as string, String(req.params.ticketId)));
  });
  return r;
}

/** Registering external systems: admin only. */
export function intakeSystemRoutes(intake: IntakeService): Router {
  const r = Router();
  r.use(requireRole());
  r.get('/', async (_req, res) => {
    res.json({ items: await intake.systems() });
  });
  r.post('/', async (req, res) => {
    res.status(201).json(await intake.registerSystem(systemBody.parse(req.body), (req.principal as Principal).name));
  });
  r.post('/:name/revoke', async (req, res) => {
    const name = systemName.parse(req.params.name);
    res.json({ name, revoked: await intake.revokeSystem(name, (req.principal as Principal).name) });
  });
  return r;
}

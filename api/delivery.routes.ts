import { Router } from 'express';
import { z } from 'zod';
import { gridsFor } from './community-scope';
import type { DeliveryService } from '../services/delivery.service';
import { forbidden } from '../services/errors';
import { mayReach, requireRole, type Principal } from './auth';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm');
export const channelBody = z.strictObject({
  webhookUrl: z.string().min(1).max(1000),
  format: z.enum(['text', 'markdown']).default('markdown'),
  quietStart: clock.default('22:00'),
  quietEnd: clock.default('07:00'),
  enabled: z.boolean().default(true),
});
export const deliveryListQuery = z.strictObject({ grid: z.string().optional(), status: z.string().optional(), workflowId: z.string().optional() });
const CONFIGURERS = new Set<Principal['role']>(['admin', 'ops', 'manager']);

/** The grids' chat channels (`/api/grids/:id/channel`) and the delivery outbox (`/api/deliveries`). */
export function deliveryRoutes(delivery: DeliveryService, gridIds: (community: string | 'all') => Promise<string[]>): { channels: Router; deliveries: Router } {
  const channels = Router();
  channels.get('/:id/channel', async (req, res) => {
    if (!mayReach(req.principal, String(req.params.id))) throw forbidden(`grid "${String(req.params.id)}" is not one of yours`);
    const c = await delivery.getChannel(req.params.id);
    // The webhook key is a secret: show where it goes, not the key.
    res.json({ ...c, webhookUrl: c.webhookUrl.replace(/key=[^&]+/, 'key=***') });
  });
  channels.put('/:id/channel', async (req, res) => {
    if (!CONFIGURERS.has((req.principal as Principal).role)) throw forbidden('only ops and managers configure chat channels');
    if (!mayReach(req.principal, String(req.params.id))) throw forbidden(`grid "${String(req.params.id)}" is not in your community`);
    const body = channelBody.parse(req.body);
    const c = await delivery.setChannel({ gridId: String(req.params.id), ...body });
    res.json({ ...c, webhookUrl: c.webhookUrl.replace(/key=[^&]+/, 'key=***') });
  });
  const deliveries = Router();
  deliveries.get('/', requireRole('ops', 'manager', 'grid-leader'), async (req, res) => {
    const q = deliveryListQuery.parse(req.query);
    const p = req.principal as Principal;
    res.json({ items: await delivery.list({ ...q, grids: await gridsFor(req, gridIds), detailed: CONFIGURERS.has(p.role) }) });
  });
  return { channels, deliveries };
}

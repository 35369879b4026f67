import { Router } from 'express';
import { z } from 'zod';
import type { NotificationService } from '../services/notifications.service';
import type { Principal } from './auth';

export const inboxQuery = z.strictObject({
  member: z.string().min(1).optional(),
  unread: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  workflowId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const streamQuery = z.strictObject({ member: z.string().min(1).optional() });

export function notificationRoutes(notifications: NotificationService): Router {
  const r = Router();
  r.get('/', async (req, res) => {
    res.json({ items: await notifications.inbox(req.principal as Principal, inboxQuery.parse(req.query)) });
  });

  // text/event-stream of new notices for the caller; a comment every 15 s keeps proxies from closing it.
  r.get('/stream', async (req, res) => {
    const q = streamQuery.parse(req.query);
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    // authenticate() accepted the request's token or session; the stream asks again about it now and then.
    const stillAuthenticated = req.stillAuthenticated ?? (async () => false);
    const unsubscribe = await notifications.subscribe(req.principal as Principal, q.member, {
      notice: (n) => send('notification', n),
      end: (reason) => {
        send('closed', { reason });
        res.end();
      },
      stillValid: stillAuthenticated,
    });
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    send('ready', { at: new Date().toISOString() });
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  });

  r.post('/:id/read', async (req, res) => {
    res.json(await notifications.markRead(req.params.id, req.principal as Principal));
  });
  return r;
}

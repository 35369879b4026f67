import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import { z } from 'zod';
import type { EvidenceService } from '../services/evidence.service';
import { tooLarge } from '../services/evidence.service';
import type { IntakeService } from '../services/intake.service';
import type { ProcessService } from '../services/processes.service';
import { notFound } from '../services/errors';
import { mayReachProcess, requireRole, type Principal } from './auth';

export const mergeBody = z.strictObject({ duplicate: z.string().min(1).max(300) });
export const sha256Param = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex');
export const uploadQuery = z.strictObject({ name: z.string().max(200).optional() });

/**
 * What belongs to a process beside its events: evidence files, and for issues the merge of a
 * duplicate and the reporters. Every route checks the process like processRoutes does: another
 * grid's process (and its files) is simply not there.
 */
export function processExtrasRoutes(deps: { processes: ProcessService; evidence: EvidenceService; intake: IntakeService }): Router {
  const { processes, evidence, intake } = deps;
  const r = Router();

  const reach: RequestHandler = async (req, _res, next) => {
    const id = String(req.params.id);
    const found = await processes.gridOf(id);
    next(!found || !mayReachProcess(req.principal, found) ? notFound(`process "${id}" does not exist`) : undefined);
  };

  const raw = express.raw({ type: () => true, limit: evidence.settings.maxBytes });
  r.post('/:id/evidence', reach, raw, async (req, res) => {
    const { name } = uploadQuery.parse(req.query);
    const p = req.principal as Principal;
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const { created, ...ref } = await evidence.upload(String(req.params.id), { bytes, type: req.get('content-type') ?? '', name: name ?? '' }, p.memberId ?? p.name);
    res.status(created ? 201 : 200).json(ref);
  });
  r.get('/:id/evidence', reach, async (req, res) => {
    res.json({ items: await evidence.list(String(req.params.id)) });
  });
  r.get('/:id/evidence/:sha256', reach, async (req, res) => {
    const { ref, bytes } = await evidence.download(String(req.params.id), sha256Param.parse(req.params.sha256));
    const disposition = ref.type.startsWith('image/') ? 'inline' : 'attachment';
    res
      .type(ref.type)
      .set('Content-Disposition', `${disposition}; filename*=UTF-8''${encodeURIComponent(ref.name)}`)
      .set('Cache-Control', 'private, max-age=3600')
      .send(bytes);
  });

  // An event's evidence must be files of this process; the stored name, type and size replace what the caller says.
  r.post('/:id/events', async (req, _res, next) => {
    const data = (req.body as { data?: Record<string, unknown> } | undefined)?.data;
    if (data && typeof data === 'object' && data.evidence !== undefined) {
      const id = String(req.params.id);
      const found = await processes.gridOf(id);
      if (!found || !mayReachProcess(req.principal, found)) throw notFound(`process "${id}" does not exist`);
      data.evidence = await evidence.resolveRefs(id, data.evidence);
    }
    next();
  });

  r.post('/:id/merge', reach, requireRole('grid-worker', 'grid-leader'), async (req, res) => {
    const { duplicate } = mergeBody.parse(req.body);
    const kept = String(req.params.id);
    const found = await processes.gridOf(duplicate);
    if (!found || !mayReachProcess(req.principal, found)) throw notFound(`process "${duplicate}" does not exist`);
    const p = req.principal as Principal;
    const by = await processes.actorOf(p, duplicate, undefined, 'REJECT');
    res.json(await intake.merge(kept, duplicate, by, p.memberId ?? p.name));
  });
  r.get('/:id/reporters', reach, async (req, res) => {
    res.json({ items: await intake.reporters(String(req.params.id)), mergedInto: (await intake.mergedInto(String(req.params.id))) ?? null });
  });

  const bodyTooLarge: ErrorRequestHandler = (err, _req, _res, next) => next((err as { type?: string }).type === 'entity.too.large' ? tooLarge(evidence.settings.maxBytes) : err);
  r.use(bodyTooLarge);
  return r;
}

/** Task completions carry evidence the same way as events: files of the task's process only. */
export function taskEvidenceRoutes(evidence: EvidenceService, processes?: ProcessService): Router {
  const r = Router();
  r.post('/:id/complete', async (req, _res, next) => {
    const data = (req.body as { data?: Record<string, unknown> } | undefined)?.data;
    if (data && typeof data === 'object' && data.evidence !== undefined) {
      const workflowId = String(req.params.id).split('#')[0];
      // Out of reach first: what another grid's or community's process holds is not for this caller to probe.
      const found = processes ? await processes.gridOf(workflowId) : undefined;
      if (processes && (!found || !mayReachProcess(req.principal, found))) throw notFound(`task "${String(req.params.id)}" does not exist or is done`);
      data.evidence = await evidence.resolveRefs(workflowId, data.evidence);
    }
    next();
  });
  return r;
}

import { Router } from 'express';
import { z } from 'zod';
import { validateDocument } from '../engine/validate';
import type { DefinitionDocument } from '../engine/document.schema';
import type { DefinitionService } from '../services/definitions.service';
import type { ProcessService } from '../services/processes.service';
import type { ScheduleService } from '../services/schedules.service';
import type { SimulationService } from '../services/simulations.service';
import { requireRole } from './auth';
import { communitiesFor } from './community-scope';
import { badRequest, notFound, unprocessable } from '../services/errors';

export const versionParam = z.coerce.number().int().positive();
export const simulateBody = z.strictObject({
  version: z.number().int().positive().optional(),
  grid: z.string().optional(),
  input: z.record(z.string(), z.unknown()).optional(),
  startAt: z.string().optional(),
  until: z.string().optional(),
  events: z
    .array(z.strictObject({ at: z.string(), type: z.string().regex(/^[A-Z][A-Z0-9_]*$/), data: z.record(z.string(), z.unknown()).optional(), actor: z.string().optional() }))
    .max(10_000),
});
export const draftSimulateBody = simulateBody.omit({ version: true }).extend({ document: z.record(z.string(), z.unknown()) });
export const draftDiffBody = z.strictObject({ document: z.record(z.string(), z.unknown()), from: z.number().int().positive().optional() });
export const diffQuery = z.strictObject({ from: versionParam, to: versionParam });
export const publishQuery = z.strictObject({ note: z.string().max(500).optional() });
export const lifecycleBody = z.strictObject({ note: z.string().max(500).optional() }).optional();
const LIFECYCLE = { pause: 'paused', resume: 'active', retire: 'retired' } as const;
export const migrateBody = z.strictObject({
  from: z.number().int().positive(),
  to: z.number().int().positive(),
  mapping: z.record(z.string(), z.string().min(1)).default({}),
  workflowIds: z.array(z.string().min(1)).min(1).max(10_000).optional(),
  dryRun: z.boolean().default(false),
});

/** The document of a draft request, validated and normalised as publishing would store it; 422 with paths under `document.`. */
function validDraft(document: unknown): DefinitionDocument {
  const checked = validateDocument(document);
  if (!checked.valid || !checked.document) throw unprocessable(`the definition is invalid: ${checked.errors.length} error(s)`, checked.errors.map((e) => ({ ...e, path: `document.${e.path}` })));
  return checked.document;
}

// Simulations are computed in worker threads within limits; still, only those who edit or run processes start them.
const SIMULATORS = ['ops', 'manager'] as const;

export function definitionRoutes(
  definitions: DefinitionService,
  processes: ProcessService,
  simulations: SimulationService,
  schedules: ScheduleService,
  communityExists: (id: string) => Promise<boolean> = async () => true,
): Router {
  const r = Router();

  r.get('/', async (_req, res) => {
    res.json({ items: await definitions.list() });
  });

  r.post('/validate', (req, res) => {
    const result = validateDocument(req.body);
    if (!result.valid) throw unprocessable(`the definition is invalid: ${result.errors.length} error(s)`, result.errors);
    res.json({ valid: true, warnings: result.warnings });
  });

  // The editor's draft: simulated and compared with the published version without being stored.
  r.post('/draft/simulate', requireRole(...SIMULATORS), async (req, res) => {
    const { document, ...sim } = draftSimulateBody.parse(req.body);
    const draft = validDraft(document);
    res.json({ key: draft.key, version: 'draft', ...(await simulations.run(draft, sim)) });
  });

  r.post('/draft/diff', async (req, res) => {
    const body = draftDiffBody.parse(req.body);
    res.json(await definitions.diffDraft(validDraft(body.document), body.from, communitiesFor(req)));
  });

  r.post('/', requireRole('ops'), async (req, res) => {
    const { note } = publishQuery.parse(req.query);
    const checked = validateDocument(req.body);
    if (!checked.valid) throw unprocessable(`the definition is invalid: ${checked.errors.length} error(s)`, checked.errors);
    // Under /api/communities/<id>/, the community's own version of the street's template.
    const community = req.communityInPath;
    if (community !== undefined && !(await communityExists(community))) throw notFound(`community "${community}" does not exist; see GET /api/communities`);
    const saved = await definitions.publish(req.body, req.principal?.name ?? 'api', note ?? req.get('x-change-note'), community);
    // Also when unchanged: publishing again repairs a schedule a failed reconcile left behind.
    const schedule = await schedules.reconcile(saved.key);
    const { unchanged, ...ids } = saved;
    res
      .status(unchanged ? 200 : 201)
      .location(`/api/definitions/${encodeURIComponent(saved.key)}/versions/${saved.version}`)
      .json({ ...ids, unchanged: Boolean(unchanged), warnings: checked.warnings, schedule });
  });

  // Pause (its schedule starts nothing), resume, or retire (schedule deleted, no new starts) a definition.
  for (const [action, status] of Object.entries(LIFECYCLE)) {
    r.post(`/:key/${action}`, requireRole('ops'), async (req, res) => {
      const body = lifecycleBody.parse(req.body);
      const key = String(req.params.key);
      const view = await definitions.setStatus(key, status, req.principal?.name ?? 'api', body?.note);
      res.json({ ...view, schedule: await schedules.reconcile(key, { unpause: status === 'active' }) });
    });
  }

  r.get('/:key', async (req, res) => {
    // The version a community named in the path uses: its own, else the street's template.
    const def = await definitions.get(req.params.key, undefined, req.communityInPath);
    res.json({ ...def.document, version: def.version, createdAt: def.createdAt });
  });

  r.get('/:key/versions', async (req, res) => {
    res.json({ items: await definitions.versions(req.params.key) });
  });

  r.get('/:key/versions/:version', async (req, res) => {
    const version = versionParam.safeParse(req.params.version);
    if (!version.success) throw badRequest('version must be a positive integer', [{ path: 'version', message: 'a positive integer' }]);
    const def = await definitions.get(req.params.key, version.data);
    res.json({ ...def.document, version: def.version, createdAt: def.createdAt });
  });

  r.post('/:key/simulate', requireRole(...SIMULATORS), async (req, res) => {
    const { version, ...sim } = simulateBody.parse(req.body);
    const def = await definitions.get(String(req.params.key), version);
    res.json({ key: def.key, version: def.version, ...(await simulations.run(def.document, sim)) });
  });

  r.post('/:key/migrate', requireRole('ops'), async (req, res) => {
    const body = migrateBody.parse(req.body);
    res.json(await processes.migrate({ definition: String(req.params.key), ...body, ...(req.communityInPath ? { community: req.communityInPath } : {}) }, req.principal?.name));
  });

  r.get('/:key/diff', async (req, res) => {
    const q = diffQuery.parse(req.query);
    // Running counts of the caller's communities only.
    res.json(await definitions.diff(req.params.key, q.from, q.to, communitiesFor(req)));
  });

  return r;
}

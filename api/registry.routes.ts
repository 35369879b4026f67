import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { GRID_KEY } from '../engine/community';
import { REGISTRY_CATEGORIES, VISIT_PERIODS } from '../engine/schedule-fanout';
import { ProblemError } from '../services/errors';
import type { RegistryScope, RegistryService } from '../services/registry.service';
import { requireRole } from './auth';
import { gridsFor } from './community-scope';

const grid = z.string().regex(GRID_KEY, 'a grid key, e.g. grid-03 (linyuan.grid-03 in another community)');
const category = z.enum(REGISTRY_CATEGORIES, { error: (iss) => `${JSON.stringify(iss.input)} is not a registry category; use one of ${REGISTRY_CATEGORIES.join(', ')}` });

export const registryListQuery = z.strictObject({
  grid: grid.optional(),
  category: category.optional(),
  household: z.string().min(1).max(50).optional(),
  active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const coverageQuery = z.strictObject({
  cycle: z
    .string()
    .regex(/^\d{4}-(W\d{2}|\d{2}|\d{2}-\d{2})$/, 'a day (2026-12-03: every entry on its own cycle), a week (2026-W49) or a month (2026-12)')
    .optional()
    .describe('A day (each entry judged on its own cycle holding it; default today), a week (the weekly entries) or a month (the monthly ones)'),
  definition: z.string().min(1).max(100).optional().describe('The registry-driven definition; default the first one published'),
  grid: grid.optional(),
  category: category.optional(),
});

export const entryParams = z.strictObject({ id: z.string().uuid('a registry entry id (a UUID)') });

export const entryPatchBody = z
  .strictObject({
    name: z.string().trim().min(1).max(50).optional(),
    phone: z.string().trim().min(1).max(30).nullable().optional().describe('A mobile or a landline with its area code; null clears it'),
    idNumber: z.string().trim().min(1).max(30).nullable().optional().describe('18 characters (GB 11643); null clears it'),
    address: z.string().trim().min(1).max(200).optional(),
    cycle: z.enum(VISIT_PERIODS).nullable().optional().describe('The entry\'s own visit cycle; null: the definition\'s for its category'),
    since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day, YYYY-MM-DD').optional(),
    active: z.boolean().optional().describe('false: 退出 (no longer visited)'),
  })
  .refine((b) => Object.keys(b).length > 0, { error: 'name at least one field to change: name, phone, idNumber, address, cycle, since, active' });

/** Whoever may see a grid's register: its staff and managers. Ops run definitions and see no one's data. */
const READERS = ['manager', 'grid-leader', 'grid-worker'] as const;
const EDITORS = ['manager', 'grid-leader'] as const;

const actorOf = (req: Request) => req.principal?.memberId ?? req.principal?.name ?? 'api';

/** Media types a CSV upload may carry (browsers give .csv files either of the last two on some systems). */
const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'];
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function registryRoutes(registry: RegistryService, gridIds: (community: string | 'all') => Promise<string[]>): Router {
  /** The grids of the register a caller may read: its own grids, or every grid of its communities. */
  const scopeOf = (req: Request): Promise<RegistryScope> => gridsFor(req, gridIds);
  const r = Router();
  r.use(requireRole(...READERS));

  r.get('/', async (req, res) => {
    const q = registryListQuery.parse(req.query);
    res.json({ ...(await registry.list(await scopeOf(req), q)), limit: q.limit, offset: q.offset });
  });

  r.get('/coverage', async (req, res) => {
    const q = coverageQuery.parse(req.query);
    res.json(await registry.coverage(await scopeOf(req), { ref: q.cycle, definition: q.definition, grid: q.grid, category: q.category }));
  });

  // The body is the file itself; the 1 MB limit of every body holds (about 5,000 lines).
  r.post('/import', requireRole(...EDITORS), express.raw({ type: [...CSV_TYPES, XLSX_TYPE], limit: '1mb' }), async (req, res) => {
    if (!Buffer.isBuffer(req.body)) {
      throw new ProblemError(415, 'Unsupported Media Type', `send the file itself as the body: a CSV file with Content-Type text/csv, or an Excel workbook with Content-Type ${XLSX_TYPE} (got ${req.get('content-type') ?? 'none'})`);
    }
    res.json(req.is(XLSX_TYPE) ? await registry.importXlsx(req.body, await scopeOf(req), actorOf(req)) : await registry.importCsv(req.body, await scopeOf(req), actorOf(req)));
  });

  r.get('/:id', async (req, res, next) => {
    if (req.params.id === 'coverage' || req.params.id === 'import') return next();
    const { id } = entryParams.parse(req.params);
    res.json(await registry.get(id, await scopeOf(req)));
  });

  r.put('/:id', requireRole(...EDITORS), async (req, res, next) => {
    // /coverage and /import are not entries: their other methods are 405, answered further on.
    if (req.params.id === 'coverage' || req.params.id === 'import') return next();
    const { id } = entryParams.parse(req.params);
    res.json(await registry.update(id, await scopeOf(req), entryPatchBody.parse(req.body), actorOf(req)));
  });

  // Name, phone, ID number and address in clear: for the grid's staff and managers, each reading audited.
  r.get('/:id/personal', async (req, res) => {
    const { id } = entryParams.parse(req.params);
    res.json(await registry.personal(id, await scopeOf(req), actorOf(req), req.requestId));
  });

  return r;
}

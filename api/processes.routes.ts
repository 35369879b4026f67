import { Router } from 'express';
import { z } from 'zod';
import { forbidden, notFound } from '../services/errors';
import { sendCsv } from './csv';
import type { StatsService } from '../services/stats.service';
import type { ProcessService } from '../services/processes.service';
import { mayReach, mayReachProcess, requireRole, type Principal } from './auth';
import { nameRows, type Namer } from '../services/names';
import { communitiesFor, communityOf } from './community-scope';

const eventType = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an event type in SCREAMING_CASE, e.g. "START"');
const dataObject = z.record(z.string(), z.unknown());

export const startBody = z.strictObject({
  definition: z.string().min(1, 'name a definition key, e.g. "daily-patrol"'),
  version: z.number().int().positive().optional(),
  businessKey: z.string().min(1).max(200).regex(/^[^\s?#%]+$/, 'no spaces, "?", "#" or "%"').optional(),
  grid: z.string().min(1).optional().describe('A grid key: "grid-03" in the default community, "linyuan.grid-03" in another'),
  community: z.string().min(1).max(30).optional().describe('The community of a process without a grid; default: the one the path names, else your own'),
  input: dataObject.optional(),
});

export const eventBody = z.strictObject({
  type: eventType,
  data: dataObject.optional(),
  requestId: z.string().min(1).max(200).optional(),
  /** A manager acting for a member (audited); the rules are checked for that member. */
  onBehalfOf: z.string().min(1).max(100).optional(),
});

export const cancelBody = z.strictObject({ reason: z.string().min(1, 'say why').max(500) });

// Patterns, not refinements, so that the OpenAPI document carries them and every string they admit is a real
// day (1900-2099, leap days included) or time: what a client generates from the document is accepted.
export const DAY = String.raw`((19|20)\d{2}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])|(19|20)\d{2}-(0[13-9]|1[0-2])-(29|30)|(19|20)\d{2}-(0[13578]|1[02])-31|(19(0[48]|[2468][048]|[13579][26])|20([02468][048]|[13579][26]))-02-29)`;
const TIME = String.raw`T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?`;
// Offsets as zones have them (-12:00 to +14:00); PostgreSQL refuses larger ones.
const OFFSET = String.raw`(Z|[+-](0\d|1[0-4]):[0-5]\d)`;
/** A day, or a time with an offset: what the statistics read as the ends of a period. */
export const dayOrInstant = z.string().regex(new RegExp(`^${DAY}(${TIME}${OFFSET})?$`), 'a day (YYYY-MM-DD) or a time with an offset (2026-11-25T08:00:00+08:00)');
const isoTime = z.string().regex(new RegExp(`^${DAY}(${TIME}${OFFSET}?)?$`), 'an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T00:00:00+08:00');

/** The language of the names a CSV export carries next to the codes (grid, state). */
export const csvLang = z.enum(['zh', 'en']).default('zh').describe('The language of the names in a CSV export (gridName, stateName); codes stay as they are');

export const listQuery = z.strictObject({
  definition: z.string().optional(),
  grid: z.string().optional(),
  state: z.string().optional(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled']).optional(),
  assignee: z.string().optional(),
  level: z.enum(['grid', 'community', 'street']).optional(),
  overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  q: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
  startedFrom: isoTime.optional(),
  startedTo: isoTime.optional(),
  updatedFrom: isoTime.optional(),
  updatedTo: isoTime.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  lang: csvLang,
});

/** Managers and above start community-level processes and cancel; grid roles act within their grids. */
const COMMUNITY_ROLES = new Set<Principal['role']>(['admin', 'manager', 'ops']);

const PROCESS_CSV_COLUMNS = ['workflowId', 'definition', 'definitionVersion', 'title', 'grid', 'gridName', 'businessKey', 'status', 'state', 'stateName', 'assignee', 'dueAt', 'overdue', 'startedAt', 'updatedAt', 'endedAt'];

export function processRoutes(processes: ProcessService, stats?: StatsService, namer?: Namer): Router {
  const r = Router();

  // Object-level check on every route that takes an id: another grid's process is simply not there.
  r.param('id', async (req, _res, next, id: string) => {
    const found = await processes.gridOf(id);
    if (found && !mayReachProcess(req.principal, found)) return next(notFound(`process "${id}" does not exist`));
    next();
  });

  r.post('/', async (req, res) => {
    const body = startBody.parse(req.body);
    const p = req.principal as Principal;
    if (!COMMUNITY_ROLES.has(p.role)) {
      if (!body.grid) throw forbidden(`a ${p.role} starts processes of its own grids only; give "grid"`);
      if (!mayReach(p, body.grid)) throw forbidden(`grid "${body.grid}" is not one of yours`);
    }
    // A process without a grid belongs to the community the request is about; a grid key names its own.
    const community = body.grid ? body.community : (body.community ?? communityOf(req));
    const result = await processes.start({ ...body, ...(community ? { community } : {}) }, p.memberId ?? p.name, p);
    const { created, ...rest } = result;
    res.status(created ? 201 : 200).location(`/api/processes/${encodeURIComponent(rest.workflowId)}`).json(rest);
  });

  r.get('/', async (req, res) => {
    const { format, lang, ...q } = listQuery.parse(req.query);
    const p = req.principal as Principal;
    const page = await processes.list({ ...q, communities: communitiesFor(req), grids: p.organizationId ? { organization: p.organizationId } : p.grids });
    if (format === 'json') return void res.json(page);
    // Exports of lists are audited (PIPL), and the columns stay the same from page to page.
    await stats?.recordExport(p.memberId ?? p.name, 'processes', { query: req.query, rows: page.items.length });
    // People's names next to the codes: the codes stay for whoever reads the file by machine.
    const rows = namer ? await nameRows(page.items, namer, lang) : page.items;
    sendCsv(res, 'processes.csv', rows.map((i) => ({ ...i })), { columns: PROCESS_CSV_COLUMNS, nextCursor: page.nextCursor });
  });

  r.get('/:id', async (req, res) => {
    const id = String(req.params.id);
    res.json(await processes.get(id, await processes.actorOf(req.principal as Principal, id)));
  });

  r.post('/:id/events', async (req, res) => {
    const { onBehalfOf, ...body } = eventBody.parse(req.body);
    const id = String(req.params.id);
    const by = await processes.actorOf(req.principal as Principal, id, onBehalfOf, body.type);
    res.json(await processes.sendEvent(id, body, by));
  });

  r.post('/:id/cancel', requireRole('manager'), async (req, res) => {
    const body = cancelBody.parse(req.body);
    await processes.cancel(String(req.params.id), body.reason, req.principal?.name);
    res.status(202).json({ workflowId: String(String(req.params.id)), status: 'cancelling' });
  });

  return r;
}

import { z } from 'zod';
import { cancelBody, eventBody, listQuery, startBody } from './processes.routes';
import { countsQuery, evaluationQuery, overviewQuery } from './stats.routes';
import { ticketBody } from './intake.routes';

const problem = {
  description: 'RFC 9457 problem',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          accepts: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const csvOrJson = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } }, 'text/csv': { schema: { type: 'string' } } } });
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), problem]));
const idParam = { name: 'workflowId', in: 'path', required: true, description: 'URL-encoded workflow id, e.g. daily-patrol%2Fgrid-01%2F2026-11-25', schema: { type: 'string' } };

const scheduleParam = { name: 'id', in: 'path', required: true, description: 'Schedule id: the definition key, e.g. daily-patrol', schema: { type: 'string' } };

const summary = {
  type: 'object',
  required: ['workflowId', 'definition', 'businessKey', 'status', 'state', 'overdue', 'startedAt', 'updatedAt'],
  properties: {
    workflowId: { type: 'string' },
    definition: { type: 'string' },
    definitionVersion: { type: 'integer' },
    title: { type: 'string' },
    grid: { type: ['string', 'null'] },
    businessKey: { type: 'string' },
    status: { enum: ['running', 'completed', 'failed', 'cancelled'] },
    state: { type: 'string' },
    assignee: { type: 'string' },
    dueAt: { type: 'string', format: 'date-time' },
    overdue: { type: 'boolean' },
    startedAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    endedAt: { type: 'string', format: 'date-time' },
  },
};
const stateResult = { type: 'object', required: ['state', 'status'], properties: { state: { type: 'string' }, status: { type: 'string' }, seq: { type: 'integer' } } };

function queryParams(schema: z.ZodObject) {
  const js = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, object> };
  return Object.entries(js.properties).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
}

/** Path entries for routes whose bodies are described in shared/api.md and the README. */
function simple(route: string, ops: Record<string, [string, ...number[]]>) {
  const params = [...route.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  return {
    [route]: Object.fromEntries(
      Object.entries(ops).map(([method, [summary, ...codes]]) => [
        method,
        {
          summary,
          ...(params.length ? { parameters: params } : {}),
          ...(method === 'post' || method === 'put' ? { requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } } } } } : {}),
          responses: Object.fromEntries(codes.map((c) => [String(c), c < 300 ? json({ type: 'object' }) : problem])),
        },
      ]),
    ),
  };
}

/** The OpenAPI 3.1 document of every route this server answers. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'gridflow', version: '1.0.0', description: 'Community grid governance processes on Temporal. Contract: shared/api.md.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, intake: { type: 'http', scheme: 'bearer', description: 'An intake credential (gfi_...) of an external system' } } },
    security: [{ bearer: [] }],
    paths: {
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { 200: json({ type: 'object', properties: { status: { const: 'ok' } } }) } } },
      '/readyz': { get: { security: [], summary: 'Readiness of PostgreSQL and Temporal', responses: { 200: json({ type: 'object' }), ...errors(503) } } },
      '/api/openapi.json': { get: { security: [], summary: 'This document', responses: { 200: json({ type: 'object' }) } } },
      '/api/processes': {
        post: {
          summary: 'Start a process (idempotent per definition and business key)',
          requestBody: body(startBody),
          responses: {
            201: json({ type: 'object' }, 'Started'),
            200: json({ type: 'object' }, 'Already started with this business key: the same run'),
            ...errors(400, 401, 404, 503),
          },
        },
        get: {
          summary: 'List processes from the read model',
          parameters: queryParams(listQuery),
          responses: { 200: json({ type: 'object', properties: { items: { type: 'array', items: summary }, nextCursor: { type: ['string', 'null'] } } }), ...errors(400, 401) },
        },
      },
      '/api/processes/{workflowId}': {
        get: { summary: 'Process detail: live state, tasks, deadlines and history', parameters: [idParam], responses: { 200: json(summary), ...errors(401, 404) } },
      },
      '/api/processes/{workflowId}/events': {
        post: {
          summary: 'Send an event; answers after the workflow applied it',
          parameters: [idParam],
          requestBody: body(eventBody),
          responses: { 200: json(stateResult), ...errors(400, 401, 404, 409, 503) },
        },
      },
      ...simple('/api/definitions', { get: ['Published definitions with their latest version', 200], post: ['Publish a definition document as its next version (422 when invalid)', 201, 400, 422] }),
      ...simple('/api/definitions/validate', { post: ['Validate a definition document', 200, 422] }),
      ...simple('/api/definitions/draft/simulate', { post: ['Simulate an unpublished document ({ document, startAt?, grid?, input?, events, until? }); nothing is stored. Ops and managers; 422 names the limit (steps, days, time) a run went past', 200, 400, 403, 422, 503] }),
      ...simple('/api/definitions/draft/diff', { post: ['Diff an unpublished document ({ document, from? }) against a published version, with the running instances affected', 200, 400, 404, 422] }),
      ...simple('/api/me', { get: ['Who the token is: name, role, grids, member', 200, 401] }),
      ...simple('/api/definitions/{key}', { get: ['The latest version of a definition', 200, 404] }),
      ...simple('/api/definitions/{key}/versions', { get: ['Every version of a definition', 200, 404] }),
      ...simple('/api/definitions/{key}/versions/{version}', { get: ['One version of a definition', 200, 400, 404] }),
      ...simple('/api/definitions/{key}/simulate', { post: ['Run a definition against timed events on a virtual clock. Ops and managers; 422 names the limit (steps, days, time) a run went past', 200, 400, 403, 404, 422, 503] }),
      ...simple('/api/definitions/{key}/diff', { get: ['Structural diff of two versions and the running instances affected', 200, 400, 404] }),
      ...simple('/api/definitions/{key}/migrate', { post: ['Move running instances between versions (dryRun lists what would move)', 200, 400, 404, 409] }),
      ...simple('/api/tasks', { get: ['Open tasks (assignee=me for the caller\'s own)', 200, 400] }),
      ...simple('/api/tasks/{id}/complete', { post: ['Complete a task with one of its events', 200, 400, 404, 409] }),
      ...simple('/api/tasks/{id}/claim', { post: ['Claim a task of a role several people hold', 200, 403, 404, 409] }),
      ...simple('/api/tasks/{id}/reassign', { post: ['Hand a task to another member (grid leaders, managers)', 200, 400, 403, 404] }),
      ...simple('/api/notifications', { get: ['The caller\'s inbox (member=me, unread=true); grid roles see their grids only', 200, 400, 403] }),
      ...simple('/api/notifications/stream', { get: ['text/event-stream of new notices for the caller; grid roles see their grids only; closed when the token is revoked or expires', 200, 400, 403, 429] }),
      ...simple('/api/notifications/{id}/read', { post: ['Mark a notice read', 200, 404] }),
      ...simple('/api/grids/{id}/channel', { get: ['The grid\'s chat group channel', 200, 403, 404], put: ['Set the grid\'s WeCom group robot webhook, format and quiet hours', 200, 400, 403] }),
      ...simple('/api/deliveries', { get: ['Chat group deliveries with every attempt', 200] }),
      ...simple('/api/tokens', { post: ['Create an API token (admin; shown once)', 201, 400, 403] }),
      ...simple('/api/tokens/{id}/revoke', { post: ['Revoke a token (admin)', 200, 403] }),
      '/api/stats/overview': { get: { summary: 'Per grid and per definition: started, completed, running, overdue, on-time rate, time in each state, satisfaction; patrol coverage (format=csv for a spreadsheet)', parameters: queryParams(overviewQuery), responses: { 200: csvOrJson('The overview of the period'), ...errors(400, 401) } } },
      '/api/evaluations/{month}': { get: { summary: "The month's grid ranking: as the monthly review confirmed it, else computed now (source: provisional)", parameters: [{ name: 'month', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } }, ...queryParams(evaluationQuery)], responses: { 200: csvOrJson('Scores, adjustments with reasons, totals and ranks'), ...errors(400, 401) } } },
      '/api/processes-counts': { get: { summary: 'Instances per definition and state for the filters of GET /api/processes', parameters: queryParams(countsQuery), responses: { 200: csvOrJson('Counts'), ...errors(400, 401) } } },
      '/api/grids': {
        get: { summary: 'The 12 grids with households, residents, sites and members', responses: { 200: json({ type: 'object' }), ...errors(401) } },
      },
      '/api/grids/{id}': {
        get: {
          summary: 'One grid: its sites and members (phone numbers masked)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^grid-\\d{2}$' } }],
          responses: { 200: json({ type: 'object' }), ...errors(401, 403, 404) },
        },
      },
      '/api/schedules': {
        get: { summary: 'Every recurring definition\'s schedule with its next run times (Asia/Shanghai)', responses: { 200: json({ type: 'object' }), ...errors(401) } },
      },
      '/api/schedules/{id}': {
        get: { summary: 'One schedule', parameters: [scheduleParam], responses: { 200: json({ type: 'object' }), ...errors(401, 404) } },
      },
      '/api/schedules/{id}/trigger': {
        post: { summary: 'Run a schedule now (starts nothing twice: business keys carry the day)', parameters: [scheduleParam], responses: { 202: json({ type: 'object' }, 'Triggered'), ...errors(401, 404) } },
      },
      '/api/schedules/{id}/pause': {
        post: { summary: 'Pause a schedule', parameters: [scheduleParam], requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { note: { type: 'string' } } } } } }, responses: { 200: json({ type: 'object' }), ...errors(400, 401, 404) } },
      },
      '/api/schedules/{id}/unpause': {
        post: { summary: 'Resume a schedule', parameters: [scheduleParam], responses: { 200: json({ type: 'object' }), ...errors(400, 401, 404) } },
      },
      '/api/intake/tickets': {
        post: {
          summary: 'File an external ticket (12345 hotline and others) with an intake credential, which opens nothing else: starts one issue with source hotline; the same ticket id again answers 200 with the same workflow id. Status changes go back to the system\'s webhook, signed (X-Gridflow-Signature: sha256=HMAC(secret, X-Gridflow-Timestamp + "." + body))',
          security: [{ intake: [] }],
          requestBody: body(ticketBody),
          responses: { 201: json({ type: 'object' }, 'Filed: a new issue'), 200: json({ type: 'object' }, 'Filed before: the same issue'), ...errors(400, 401, 503) },
        },
      },
      '/api/intake/tickets/{ticketId}': {
        get: { summary: 'The state of a ticket\'s issue (the kept one when merged), with the intake credential', security: [{ intake: [] }], parameters: [{ name: 'ticketId', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }), ...errors(401, 404) } },
      },
      ...simple('/api/intake/systems', { get: ['Registered intake systems (admin)', 200, 403], post: ['Register an intake system, or replace its credential, signing secret and webhook ({ name, webhookUrl? }); the credential and secret are shown once (admin)', 201, 400, 403] }),
      ...simple('/api/intake/systems/{name}/revoke', { post: ['Revoke an intake system\'s credential (admin)', 200, 400, 403] }),
      '/api/processes/{workflowId}/evidence': {
        post: {
          summary: 'Upload a photo or file for a process (the body is the file; Content-Type one of GRIDFLOW_EVIDENCE_TYPES, at most GRIDFLOW_EVIDENCE_MAX_BYTES); answers its reference { sha256, name, type, size } for data.evidence of an event; the same file again answers 200',
          parameters: [idParam, { name: 'name', in: 'query', required: false, schema: { type: 'string', maxLength: 200 } }],
          requestBody: { required: true, content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } }, 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/webp': { schema: { type: 'string', format: 'binary' } }, 'application/pdf': { schema: { type: 'string', format: 'binary' } } } },
          responses: { 201: json({ type: 'object' }, 'Stored'), 200: json({ type: 'object' }, 'Stored before'), ...errors(400, 401, 404, 413, 415) },
        },
        get: { summary: 'The evidence files of a process', parameters: [idParam], responses: { 200: json({ type: 'object' }), ...errors(401, 404) } },
      },
      '/api/processes/{workflowId}/evidence/{sha256}': {
        get: { summary: 'One evidence file of a process (404 for another grid\'s process)', parameters: [idParam, { name: 'sha256', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }], responses: { 200: { description: 'The file' }, ...errors(401, 404) } },
      },
      '/api/processes/{workflowId}/merge': {
        post: { summary: 'Merge a duplicate issue ({ duplicate }) into this one: the duplicate ends rejected (reason duplicate, referTo this one) and its reporters and hotline tickets follow this issue (the grid\'s worker or leader)', parameters: [idParam], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['duplicate'], properties: { duplicate: { type: 'string' } } } } } }, responses: { 200: json({ type: 'object' }), ...errors(400, 401, 403, 404, 409) } },
      },
      '/api/processes/{workflowId}/reporters': {
        get: { summary: 'Who reported an issue: its own report and each merged duplicate, with hotline tickets; mergedInto when it was merged', parameters: [idParam], responses: { 200: json({ type: 'object' }), ...errors(401, 404) } },
      },
      '/api/processes/{workflowId}/cancel': {
        post: { summary: 'Cancel a running process', parameters: [idParam], requestBody: body(cancelBody), responses: { 202: json({ type: 'object' }, 'Accepted'), ...errors(400, 401, 404, 409) } },
      },
    },
  };
}

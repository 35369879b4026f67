import { z } from 'zod';
import { cancelBody, eventBody, listQuery, startBody } from './processes.routes';

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

/** The OpenAPI 3.1 document of every route this server answers. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'gridflow', version: '1.0.0', description: 'Community grid governance processes on Temporal. Contract: shared/api.md.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
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
      '/api/processes/{workflowId}/cancel': {
        post: { summary: 'Cancel a running process', parameters: [idParam], requestBody: body(cancelBody), responses: { 202: json({ type: 'object' }, 'Accepted'), ...errors(400, 401, 404, 409) } },
      },
    },
  };
}

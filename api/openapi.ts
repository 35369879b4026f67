import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ProblemError } from '../services/errors';
import type { Principal } from './auth';
import { cancelBody, eventBody, listQuery, startBody } from './processes.routes';
import { countsQuery, evaluationQuery, monthParam, overviewQuery } from './stats.routes';
import { systemBody, systemName, ticketBody } from './intake.routes';
import { diffQuery, draftDiffBody, draftSimulateBody, lifecycleBody, migrateBody, publishQuery, simulateBody, versionParam } from './definitions.routes';
import { completeBody, reassignBody, taskListQuery } from './tasks.routes';
import { inboxQuery, streamQuery } from './notifications.routes';
import { channelBody, deliveryListQuery } from './delivery.routes';
import { createTokenBody } from './tokens.routes';
import { noteBody } from './schedules.routes';
import { mergeBody, sha256Param, uploadQuery } from './evidence.routes';
import { answerBody } from './resident.routes';
import { coverageQuery, entryParams, entryPatchBody, registryListQuery, XLSX_TYPE } from './registry.routes';
import { oidcCallbackQuery, wecomCallbackQuery } from './auth.routes';
import { identityBody, identityParams, memberParams } from './sessions.routes';
import { rotaClearQuery, rotaGridParams, rotaQuery, rotaSetBody } from './rota.routes';
import { streetQuery } from './communities.routes';

/*
 * The API's contract, generated: one table of every route the app answers, whose request parts are
 * the zod schemas the routes parse with. The statuses each route can answer follow from how it is
 * guarded (authentication, roles, validation, the services behind it), so a route added to the app
 * and not here fails test/unit/openapi.test.ts, and a schema changed in a route changes the document.
 */

type Auth = 'bearer' | 'intake' | 'link' | 'public';
type Media = 'json' | 'csv' | 'sse' | 'binary' | 'html' | 'text' | 'js' | 'manifest';

interface Reply {
  description: string;
  schema?: z.ZodType;
  /** Media types of the answer; JSON when not given. */
  media?: Media[];
  headers?: Record<string, { description: string; schema: object }>;
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** The OpenAPI path, `{name}` for parameters. */
  path: string;
  summary: string;
  tag: string;
  /** Bearer token (default), an intake credential, the resident's signed link, or none. */
  auth?: Auth;
  /** Roles that pass (admin always does); a role check means 403 for the others. */
  roles?: readonly Principal['role'][];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  bodyRequired?: boolean;
  /** Media types the body may have (JSON when not given). */
  bodyMedia?: string[];
  bodyExample?: unknown;
  ok: Record<number, Reply>;
  /** Statuses beyond those implied by auth, roles, validation and the database: 403, 404, 409, 413, 422. */
  errors?: number[];
  /** Answers without touching PostgreSQL or Temporal (no 503). */
  offline?: boolean;
}

const ROLES = ['admin', 'ops', 'manager', 'grid-leader', 'grid-worker', 'partner'] as const;

// Path parameters: the strings the routes read from req.params.
const workflowId = z.string().min(1).describe('The workflow id, URL-encoded, e.g. daily-patrol%2Fgrid-01%2F2026-11-25');
const processParams = z.strictObject({ workflowId });
const keyParams = z.strictObject({ key: z.string().min(1).describe('A definition key, e.g. daily-patrol') });
const idParams = z.strictObject({ id: z.string().min(1) });

// Answers. Most routes answer objects the services build; where the shape is part of the contract it is here.
const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    // A CSV import's errors also name the line and column.
    errors: z.array(z.object({ path: z.string(), message: z.string() }).catchall(z.unknown())).optional(),
    accepts: z.array(z.string()).optional(),
  })
  .describe('RFC 9457 problem details');
const anyObject = z.object({}).catchall(z.unknown());
const items = z.object({ items: z.array(anyObject) }).catchall(z.unknown());
const processSummary = z
  .object({
    workflowId: z.string(),
    definition: z.string(),
    definitionVersion: z.number().int().optional(),
    title: z.string().optional(),
    grid: z.string().nullable().optional(),
    businessKey: z.string(),
    status: z.enum(['running', 'completed', 'failed', 'cancelled']),
    state: z.string(),
    assignee: z.string().nullable().optional(),
    dueAt: z.string().nullable().optional(),
    overdue: z.boolean(),
    startedAt: z.string(),
    updatedAt: z.string(),
    endedAt: z.string().nullable().optional(),
  })
  .catchall(z.unknown())
  .describe('A process as the read model has it');
const startResult = z
  .object({ workflowId: z.string(), definition: z.object({ key: z.string(), version: z.number().int() }), state: z.string(), status: z.string() })
  .catchall(z.unknown());
const stateResult = z.object({ state: z.string(), status: z.string(), seq: z.number().int().optional() }).catchall(z.unknown());

// A server-sent event as clients parse it: its name and its data (JSON text).
const streamEvent = z.object({ event: z.enum(['ready', 'notification', 'closed']), data: z.string() }).catchall(z.unknown());

const json = (description: string, schema: z.ZodType = anyObject): Reply => ({ description, schema });
const csvOrJson = (description: string): Reply => ({ description, media: ['json', 'csv'] });

/** Every route of the app. */
export const OPERATIONS: Operation[] = [
  // Public: health, this document, metrics and the console.
  { method: 'get', path: '/healthz', tag: 'health', auth: 'public', offline: true, summary: 'Liveness', ok: { 200: json('Alive', z.object({ status: z.literal('ok') })) } },
  { method: 'get', path: '/readyz', tag: 'health', auth: 'public', summary: 'Readiness of PostgreSQL and Temporal (503 names the one down)', ok: { 200: json('Ready', z.object({ postgres: z.string(), temporal: z.string() })) } },
  { method: 'get', path: '/api/openapi.json', tag: 'health', auth: 'public', offline: true, summary: 'This document', ok: { 200: json('The OpenAPI document') } },
  { method: 'get', path: '/metrics', tag: 'health', auth: 'public', offline: true, summary: 'Prometheus metrics of the API process', ok: { 200: { description: 'Metrics in the Prometheus text format', media: ['text'] } } },
  { method: 'get', path: '/', tag: 'console', auth: 'public', offline: true, summary: 'The web console (503 when it is not built)', ok: { 200: { description: 'The console page', media: ['html'] } }, errors: [503] },
  { method: 'get', path: '/index.html', tag: 'console', auth: 'public', offline: true, summary: 'The web console (503 when it is not built)', ok: { 200: { description: 'The console page', media: ['html'] } }, errors: [503] },
  { method: 'get', path: '/sw.js', tag: 'console', auth: 'public', offline: true, summary: 'The console\'s service worker: keeps the app\'s own files for offline use (404 when the console is not built)', ok: { 200: { description: 'The service worker script', media: ['js'] } }, errors: [404] },
  { method: 'get', path: '/manifest.webmanifest', tag: 'console', auth: 'public', offline: true, summary: 'The web app manifest of the field page (盛世网格): name, icons, start URL (404 when the console is not built)', ok: { 200: { description: 'The manifest', media: ['manifest'] } }, errors: [404] },

  { method: 'get', path: '/api/me', tag: 'tokens', offline: true, summary: 'Who the token is: name, role, grids, member', ok: { 200: json('The caller', z.object({ name: z.string(), role: z.enum(ROLES), grids: z.union([z.array(z.string()), z.literal('all')]), member: z.string().nullable(), community: z.string(), communities: z.union([z.array(z.string()), z.literal('all')]) })) } },
  { method: 'get', path: '/api/communities', tag: 'grids', summary: 'The communities the caller reaches (a street office: every community of its street); /api/communities/{id}/<route> answers <route> for one of them', ok: { 200: json('Communities', items) } },
  { method: 'get', path: '/api/street', tag: 'stats', roles: ['manager'], query: streetQuery, summary: 'The street\'s communities side by side: running, overdue, open and escalated issues, the month\'s mean grid total and the rank between them', ok: { 200: json('Communities with figures and ranks', z.object({ month: z.string(), communities: z.array(z.object({ id: z.string() }).passthrough()) })) } },

  // Processes.
  {
    method: 'post', path: '/api/processes', tag: 'processes', summary: 'Start a process (idempotent per definition and business key); grid roles start processes of their own grids',
    body: startBody, bodyRequired: true, bodyExample: { definition: 'daily-patrol', grid: 'grid-03' },
    ok: { 201: json('Started', startResult), 200: json('Already started with this business key: the same run', startResult) },
    errors: [403, 404, 409],
  },
  {
    method: 'get', path: '/api/processes', tag: 'processes', summary: 'List processes from the read model (format=csv for a spreadsheet; the next page\'s cursor in X-Next-Cursor)',
    query: listQuery, ok: { 200: { description: 'A page of processes', media: ['json', 'csv'], schema: z.object({ items: z.array(processSummary), nextCursor: z.string().nullable() }) } },
  },
  { method: 'get', path: '/api/processes/{workflowId}', tag: 'processes', params: processParams, summary: 'Process detail: live state, tasks, deadlines and history (404 for another grid\'s process)', ok: { 200: json('The process', processSummary) }, errors: [404] },
  {
    method: 'post', path: '/api/processes/{workflowId}/events', tag: 'processes', params: processParams, summary: 'Send an event; answers after the workflow applied it (409 when the state does not accept it)',
    body: eventBody, bodyRequired: true, bodyExample: { type: 'SUBMIT', data: { note: '巡查完成' }, requestId: 'r-1' },
    ok: { 200: json('Applied', stateResult) }, errors: [403, 404, 409],
  },
  { method: 'post', path: '/api/processes/{workflowId}/cancel', tag: 'processes', params: processParams, roles: ['manager'], summary: 'Cancel a running process', body: cancelBody, bodyRequired: true, bodyExample: { reason: 'opened twice' }, ok: { 202: json('Cancelling') }, errors: [404, 409] },
  {
    method: 'post', path: '/api/processes/{workflowId}/evidence', tag: 'processes', params: processParams, query: uploadQuery,
    summary: 'Upload a photo or file (the body is the file; Content-Type one of GRIDFLOW_EVIDENCE_TYPES, at most GRIDFLOW_EVIDENCE_MAX_BYTES); answers its reference { sha256, name, type, size }; the same file again answers 200',
    body: z.string(), bodyRequired: true, bodyMedia: ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'],
    ok: { 201: json('Stored'), 200: json('Stored before') }, errors: [404, 413, 415],
  },
  { method: 'get', path: '/api/processes/{workflowId}/evidence', tag: 'processes', params: processParams, summary: 'The evidence files of a process', ok: { 200: json('Files', items) }, errors: [404] },
  {
    method: 'get', path: '/api/processes/{workflowId}/evidence/{sha256}', tag: 'processes', params: processParams.extend({ sha256: sha256Param }),
    summary: 'One evidence file of a process', ok: { 200: { description: 'The file', media: ['binary'] } }, errors: [404],
  },
  {
    method: 'post', path: '/api/processes/{workflowId}/merge', tag: 'processes', params: processParams, roles: ['grid-worker', 'grid-leader'],
    summary: 'Merge a duplicate issue ({ duplicate }) into this one: the duplicate ends rejected and its reporters and hotline tickets follow this issue',
    body: mergeBody, bodyRequired: true, ok: { 200: json('Merged') }, errors: [404, 409],
  },
  { method: 'get', path: '/api/processes/{workflowId}/reporters', tag: 'processes', params: processParams, summary: 'Who reported an issue: its own report and each merged duplicate; mergedInto when it was merged', ok: { 200: json('Reporters', items) }, errors: [404] },
  { method: 'post', path: '/api/processes/{workflowId}/satisfaction-link', tag: 'processes', params: processParams, summary: 'A signed, expiring link for the resident to rate a verified issue (grid staff)', ok: { 201: json('The link') }, errors: [403, 404, 409] },

  // Definitions.
  { method: 'get', path: '/api/definitions', tag: 'definitions', summary: 'Published definitions with their latest version and status (active, paused, retired)', ok: { 200: json('Definitions', items) } },
  {
    method: 'post', path: '/api/definitions', tag: 'definitions', roles: ['ops'], query: publishQuery,
    summary: 'Publish a definition document as its next version (422 names every error); its schedule is created, updated or deleted at once',
    body: anyObject.describe('A definition document (see definitions/*.definition.yaml)'), bodyRequired: true,
    ok: { 201: json('Published'), 200: json('The same document as the latest version: unchanged') }, errors: [422],
  },
  { method: 'post', path: '/api/definitions/validate', tag: 'definitions', offline: true, summary: 'Validate a definition document (422 names every error)', body: anyObject, bodyRequired: true, ok: { 200: json('Valid, with warnings') }, errors: [422] },
  {
    method: 'post', path: '/api/definitions/draft/simulate', tag: 'definitions', roles: ['ops', 'manager'], offline: true,
    summary: 'Simulate an unpublished document on a virtual clock; nothing is stored. 422 names the limit (steps, days, time) a run went past',
    body: draftSimulateBody, bodyRequired: true, ok: { 200: json('The run') }, errors: [422],
  },
  { method: 'post', path: '/api/definitions/draft/diff', tag: 'definitions', summary: 'Diff an unpublished document against a published version, with the running instances affected', body: draftDiffBody, bodyRequired: true, ok: { 200: json('The diff') }, errors: [404, 422] },
  { method: 'get', path: '/api/definitions/{key}', tag: 'definitions', params: keyParams, summary: 'The latest version of a definition', ok: { 200: json('The document') }, errors: [404] },
  { method: 'get', path: '/api/definitions/{key}/versions', tag: 'definitions', params: keyParams, summary: 'Every version of a definition', ok: { 200: json('Versions', items) }, errors: [404] },
  { method: 'get', path: '/api/definitions/{key}/versions/{version}', tag: 'definitions', params: keyParams.extend({ version: versionParam }), summary: 'One version of a definition', ok: { 200: json('The document') }, errors: [404] },
  {
    method: 'post', path: '/api/definitions/{key}/simulate', tag: 'definitions', params: keyParams, roles: ['ops', 'manager'],
    summary: 'Run a definition against timed events on a virtual clock. 422 names the limit (steps, days, time) a run went past',
    body: simulateBody, bodyRequired: true, bodyExample: { events: [{ at: '2026-11-25T09:00:00+08:00', type: 'START' }] }, ok: { 200: json('The run') }, errors: [404, 422],
  },
  { method: 'get', path: '/api/definitions/{key}/diff', tag: 'definitions', params: keyParams, query: diffQuery, summary: 'Structural diff of two versions and the running instances affected', ok: { 200: json('The diff') }, errors: [404] },
  { method: 'post', path: '/api/definitions/{key}/migrate', tag: 'definitions', params: keyParams, roles: ['ops'], summary: 'Move running instances between versions (dryRun lists what would move)', body: migrateBody, bodyRequired: true, bodyExample: { from: 1, to: 2, dryRun: true }, ok: { 200: json('Moved') }, errors: [404, 409, 422] },
  ...(['pause', 'resume', 'retire'] as const).map(
    (action): Operation => ({
      method: 'post', path: `/api/definitions/{key}/${action}`, tag: 'definitions', params: keyParams, roles: ['ops'], body: lifecycleBody,
      summary: { pause: 'Pause a definition: its schedule is paused; people may still start processes', resume: 'Resume a paused or retired definition: its schedule is created or resumed', retire: 'Retire a definition: its schedule is deleted and nothing starts it again (409); running ones go on' }[action],
      ok: { 200: json('The definition and its schedule') }, errors: [404, 409],
    }),
  ),

  // Tasks and notifications.
  { method: 'get', path: '/api/tasks', tag: 'tasks', query: taskListQuery, summary: 'Open tasks (assignee=me for the caller\'s own)', ok: { 200: json('Tasks', items) } },
  { method: 'post', path: '/api/tasks/{id}/complete', tag: 'tasks', params: idParams, body: completeBody, bodyRequired: true, summary: 'Complete a task with one of its events', ok: { 200: json('Applied', stateResult) }, errors: [403, 404, 409] },
  { method: 'post', path: '/api/tasks/{id}/claim', tag: 'tasks', params: idParams, summary: 'Claim a task of a role several people hold', ok: { 200: json('Claimed') }, errors: [403, 404, 409] },
  { method: 'post', path: '/api/tasks/{id}/reassign', tag: 'tasks', params: idParams, body: reassignBody, bodyRequired: true, summary: 'Hand a task to another member (grid leaders, managers)', ok: { 200: json('Reassigned') }, errors: [403, 404, 409] },
  { method: 'get', path: '/api/notifications', tag: 'notifications', query: inboxQuery, summary: 'The caller\'s inbox (member=me, unread=true); grid roles see their grids only', ok: { 200: json('Notices', items) }, errors: [403] },
  {
    method: 'get', path: '/api/notifications/stream', tag: 'notifications', query: streamQuery,
    summary: 'Server-sent events of new notices for the caller (events ready, notification, closed); closed when the token is revoked or expires. 429 past the open streams a caller may hold',
    ok: { 200: { description: 'An event stream', media: ['sse'] } }, errors: [403],
  },
  { method: 'post', path: '/api/notifications/{id}/read', tag: 'notifications', params: idParams, summary: 'Mark a notice read', ok: { 200: json('Read') }, errors: [404] },

  // Grids, chat channels and deliveries.
  { method: 'get', path: '/api/grids', tag: 'grids', summary: 'The grids with households, residents, sites and members (grid roles: their own)', ok: { 200: json('Grids', items) } },
  { method: 'get', path: '/api/grids/{id}', tag: 'grids', params: idParams, summary: 'One grid: its sites and members (phone numbers masked)', ok: { 200: json('The grid') }, errors: [403, 404] },
  {
    method: 'get', path: '/api/grids/{id}/members/{memberId}/phone', tag: 'grids', params: idParams.extend({ memberId: z.string().min(1) }), roles: ['manager'],
    summary: 'A member\'s phone number unmasked (managers; audited)', ok: { 200: json('The number', z.object({ memberId: z.string(), phone: z.string().nullable() })) }, errors: [404],
  },
  { method: 'get', path: '/api/grids/{id}/channel', tag: 'grids', params: idParams, summary: 'The grid\'s chat group channel (the webhook key masked)', ok: { 200: json('The channel') }, errors: [403, 404] },
  { method: 'put', path: '/api/grids/{id}/channel', tag: 'grids', params: idParams, roles: ['ops', 'manager'], body: channelBody, bodyRequired: true, summary: 'Set the grid\'s WeCom group robot webhook, format and quiet hours', ok: { 200: json('The channel') }, errors: [404, 422] },
  // The duty rota.
  { method: 'get', path: '/api/rota/{grid}', tag: 'rota', params: rotaGridParams, query: rotaQuery, roles: ['manager', 'grid-leader', 'grid-worker'], summary: 'A grid\'s duty rota (值班, 轮休, 请假, 代岗) day by day, with who is on duty and who takes the worker\'s tasks; managers and the grid\'s own staff', ok: { 200: json('The rota') }, errors: [404] },
  {
    method: 'put', path: '/api/rota/{grid}/entries', tag: 'rota', params: rotaGridParams, roles: ['manager', 'grid-leader'], body: rotaSetBody, bodyRequired: true,
    bodyExample: { member: 'm-grid-09-worker', from: '2026-12-07', to: '2026-12-09', kind: 'leave', standIn: 'm-grid-09-part-time-1', note: '病假' },
    summary: 'Set a member\'s duty, rest days or leave (with a stand-in) for a day or a stretch of days; managers, and the grid\'s leader for their grid; audited',
    ok: { 200: json('The changed days') }, errors: [404, 409],
  },
  { method: 'delete', path: '/api/rota/{grid}/entries', tag: 'rota', params: rotaGridParams, roles: ['manager', 'grid-leader'], query: rotaClearQuery, summary: 'Remove a member\'s rota entries for a day or a stretch of days (back to the usual week); managers, and the grid\'s leader for their grid; audited', ok: { 200: json('The changed days') }, errors: [404] },
  { method: 'get', path: '/api/deliveries', tag: 'grids', query: deliveryListQuery, roles: ['ops', 'manager', 'grid-leader'], summary: 'Chat group deliveries with every attempt', ok: { 200: json('Deliveries', items) } },

  // Tokens and intake.
  {
    method: 'post', path: '/api/tokens', tag: 'tokens', roles: [], body: createTokenBody, bodyRequired: true, bodyExample: { role: 'grid-worker', name: 'grid-03 worker phone', memberId: 'm-grid-03-worker', grids: ['grid-03'], ttlDays: 90 },
    summary: 'Create an API token (admin); the token is shown once', ok: { 201: json('Created') }, errors: [409],
  },
  { method: 'post', path: '/api/tokens/{id}/revoke', tag: 'tokens', params: idParams, roles: [], summary: 'Revoke a token (admin)', ok: { 200: json('Revoked', z.object({ id: z.string(), revoked: z.boolean() })) } },

  // Signing in to the console through an identity provider, and its sessions.
  { method: 'get', path: '/auth/providers', tag: 'sign-in', auth: 'public', offline: true, summary: 'The identity providers the console offers (each when configured)', ok: { 200: json('Configured providers', z.object({ oidc: z.boolean(), wecom: z.boolean() })) }, errors: [429] },
  ...(['oidc', 'wecom'] as const).flatMap((provider): Operation[] => [
    {
      method: 'get', path: `/auth/${provider}/login`, tag: 'sign-in', auth: 'public',
      summary: provider === 'oidc' ? 'Sign in with the unified sign-in (OpenID Connect, authorization code with PKCE): to the provider, with a sign-in cookie (404 when not configured)' : 'Sign in with WeCom (OAuth, snsapi_base): to WeCom, with a sign-in cookie (404 when not configured)',
      ok: { 302: { description: 'To the provider (Location)', media: [] } }, errors: [404, 429],
    },
    {
      method: 'get', path: `/auth/${provider}/callback`, tag: 'sign-in', auth: 'public', query: provider === 'oidc' ? oidcCallbackQuery : wecomCallbackQuery,
      summary: 'The provider\'s answer: checked (state; for OIDC also PKCE, nonce and the ID token\'s signature, issuer, audience and expiry), mapped to a member, a session opened: the session cookie (HttpOnly) and the CSRF cookie set. 400 a sign-in this browser did not start, 401 an answer that does not verify, 403 an account no member is linked to. A page when a browser asks',
      ok: { 303: { description: 'Signed in: to the console (Location /)', media: [] } }, errors: [401, 403, 404, 429],
    },
  ]),
  { method: 'post', path: '/auth/signout', tag: 'sign-in', auth: 'public', summary: 'Sign out: the session ends for good and its cookies are cleared (needs X-CSRF-Token with a session cookie)', ok: { 204: { description: 'Signed out', media: [] } }, errors: [403, 429] },
  { method: 'get', path: '/api/members/{id}/sessions', tag: 'sign-in', params: memberParams, summary: 'A member\'s console sessions, newest first, with their state (active, idle, expired, revoked); admin and managers for anyone, a grid leader for their grid\'s members', ok: { 200: json('Sessions', items) }, errors: [403, 404] },
  { method: 'delete', path: '/api/sessions/{id}', tag: 'sign-in', params: idParams, summary: 'Revoke a console session: its next request is refused (401) saying by whom; the same who may list it; audited', ok: { 200: json('Revoked', z.object({ id: z.string(), revoked: z.boolean() })) }, errors: [403, 404] },
  { method: 'get', path: '/api/members/{id}/identities', tag: 'sign-in', params: memberParams, roles: ['manager'], summary: 'The provider accounts linked to a member', ok: { 200: json('Linked accounts', items) }, errors: [404] },
  {
    method: 'post', path: '/api/members/{id}/identities', tag: 'sign-in', params: memberParams, roles: [], body: identityBody, bodyRequired: true, bodyExample: { provider: 'wecom', subject: 'ZhangSan' },
    summary: 'Link a provider account to a member (admin; audited): signing in with it then signs in as the member. 409 when it is linked to someone else',
    ok: { 201: json('Linked'), 200: json('Linked before') }, errors: [404, 409],
  },
  { method: 'delete', path: '/api/members/{id}/identities/{provider}/{subject}', tag: 'sign-in', params: identityParams, roles: [], summary: 'Unlink a provider account (admin; audited); the sessions it opened are revoked', ok: { 200: json('Unlinked') }, errors: [404] },
  { method: 'get', path: '/api/intake/systems', tag: 'intake', roles: [], summary: 'Registered intake systems (admin)', ok: { 200: json('Systems', items) } },
  { method: 'post', path: '/api/intake/systems', tag: 'intake', roles: [], body: systemBody, bodyRequired: true, summary: 'Register an intake system, or replace its credential, signing secret and webhook; both shown once (admin)', ok: { 201: json('Registered') }, errors: [422] },
  { method: 'post', path: '/api/intake/systems/{name}/revoke', tag: 'intake', params: z.strictObject({ name: systemName }), roles: [], summary: 'Revoke an intake system\'s credential (admin)', ok: { 200: json('Revoked') } },
  {
    method: 'post', path: '/api/intake/tickets', tag: 'intake', auth: 'intake', body: ticketBody, bodyRequired: true,
    bodyExample: { ticketId: 'HL-20261125-0001', grid: 'grid-03', category: '环境卫生', description: '3号楼门口垃圾堆放', urgency: 'normal' },
    summary: 'File an external ticket (12345 hotline and others): starts one issue; the same ticket id again answers 200 with the same workflow id. Status changes go back to the system\'s webhook, signed',
    ok: { 201: json('Filed: a new issue'), 200: json('Filed before: the same issue') }, errors: [409],
  },
  { method: 'get', path: '/api/intake/tickets/{ticketId}', tag: 'intake', auth: 'intake', params: z.strictObject({ ticketId: z.string().min(1) }), summary: 'The state of a ticket\'s issue (the kept one when merged)', ok: { 200: json('The ticket\'s issue') }, errors: [404] },

  // The special-population register (重点人群台账) and its coverage (入户全覆盖): managers, and the staff of the entry's grid.
  { method: 'get', path: '/api/registry', tag: 'registry', query: registryListQuery, roles: ['manager', 'grid-leader', 'grid-worker'], summary: 'Register entries of the caller\'s grids (household, category, grid, cycle); name, phone, ID number and address masked', ok: { 200: json('A page of entries', z.object({ items: z.array(anyObject), total: z.number().int(), limit: z.number().int(), offset: z.number().int() })) } },
  {
    method: 'post', path: '/api/registry/import', tag: 'registry', roles: ['manager', 'grid-leader'], body: z.string(), bodyRequired: true, bodyMedia: ['text/csv', XLSX_TYPE],
    summary: 'Import a CSV file (UTF-8, a byte order mark allowed) or an Excel workbook (.xlsx: its first visible worksheet), headers 户号, 类别, 网格, 姓名, 联系电话, 身份证号, 住址, 走访周期, 纳入日期, 状态: all lines or none; 422 names each bad line (a sheet\'s row and cell) and column; a household and category already registered is updated. 415 for a workbook sent as CSV, text that is not UTF-8, or a body sent as a workbook that is not one (.xls, damaged, a part that inflates past its cap)',
    ok: { 200: json('Imported', z.object({ rows: z.number().int(), created: z.number().int(), updated: z.number().int(), unchanged: z.number().int() })) }, errors: [409, 413, 415, 422],
  },
  {
    method: 'get', path: '/api/registry/coverage', tag: 'registry', query: coverageQuery, roles: ['manager', 'grid-leader', 'grid-worker'],
    summary: '入户全覆盖: per grid and category, who was visited in the cycle, who is pending and who is overdue, by the registry-driven definition\'s rounds',
    ok: { 200: json('Coverage') }, errors: [404],
  },
  { method: 'get', path: '/api/registry/{id}', tag: 'registry', params: entryParams, roles: ['manager', 'grid-leader', 'grid-worker'], summary: 'One entry, masked (404 for another grid\'s)', ok: { 200: json('The entry') }, errors: [404] },
  { method: 'put', path: '/api/registry/{id}', tag: 'registry', params: entryParams, roles: ['manager', 'grid-leader'], body: entryPatchBody, bodyRequired: true, bodyExample: { phone: '13812345678', cycle: 'weekly' }, summary: 'Change an entry: the fields given are set, the rest stay (audited: which fields, not their values)', ok: { 200: json('The entry, masked') }, errors: [404] },
  { method: 'get', path: '/api/registry/{id}/personal', tag: 'registry', params: entryParams, roles: ['manager', 'grid-leader', 'grid-worker'], summary: 'An entry\'s name, phone, ID number and address in clear, for the visit; every reading audited', ok: { 200: json('The personal fields') }, errors: [404] },

  // Schedules.
  { method: 'get', path: '/api/schedules', tag: 'schedules', roles: ['ops', 'manager'], summary: 'Every recurring definition\'s schedule with its next run times after its calendar rule', ok: { 200: json('Schedules') } },
  { method: 'get', path: '/api/schedules/{id}', tag: 'schedules', params: idParams, roles: ['ops', 'manager'], summary: 'One schedule', ok: { 200: json('The schedule') }, errors: [404] },
  { method: 'post', path: '/api/schedules/{id}/trigger', tag: 'schedules', params: idParams, roles: ['ops'], summary: 'Run a schedule now, under its calendar rule (starts nothing twice: business keys carry the day)', ok: { 202: json('Triggered') }, errors: [404, 409] },
  { method: 'post', path: '/api/schedules/{id}/pause', tag: 'schedules', params: idParams, roles: ['ops'], body: noteBody, summary: 'Pause a schedule', ok: { 200: json('The schedule') }, errors: [404] },
  { method: 'post', path: '/api/schedules/{id}/unpause', tag: 'schedules', params: idParams, roles: ['ops'], body: noteBody, summary: 'Resume a schedule', ok: { 200: json('The schedule') }, errors: [404] },

  // Statistics.
  { method: 'get', path: '/api/stats/overview', tag: 'stats', query: overviewQuery, summary: 'Per grid and per definition: started, completed, running, overdue, on-time rate, time in each state, satisfaction; patrol coverage', ok: { 200: csvOrJson('The overview of the period') } },
  { method: 'get', path: '/api/evaluations/{month}', tag: 'stats', params: z.strictObject({ month: monthParam }), query: evaluationQuery, summary: 'The month\'s grid ranking: as the monthly review confirmed it, else computed now (source: provisional)', ok: { 200: csvOrJson('Scores, adjustments with reasons, totals and ranks') } },
  { method: 'get', path: '/api/processes-counts', tag: 'stats', query: countsQuery, summary: 'Instances per definition and state for the filters of GET /api/processes', ok: { 200: csvOrJson('Counts') } },

  // The resident's page: a signed link, no account.
  { method: 'get', path: '/r/{token}', tag: 'resident', auth: 'link', params: z.strictObject({ token: z.string().min(1) }), summary: 'The resident\'s satisfaction page (JSON when asked for it)', ok: { 200: { description: 'The page, or the issue\'s category and whether it is open', media: ['html', 'json'] } }, errors: [404] },
  {
    method: 'post', path: '/r/{token}', tag: 'resident', auth: 'link', params: z.strictObject({ token: z.string().min(1) }), body: answerBody, bodyRequired: true, bodyMedia: ['application/json', 'application/x-www-form-urlencoded'],
    summary: 'The resident\'s answer (1 to 5, a comment): evaluates the issue, closing or reopening it', ok: { 200: { description: 'Recorded', media: ['html', 'json'] } }, errors: [404, 409],
  },
];

const MEDIA: Record<Media, string> = { json: 'application/json', csv: 'text/csv', sse: 'text/event-stream', binary: 'application/octet-stream', html: 'text/html', text: 'text/plain', js: 'text/javascript', manifest: 'application/manifest+json' };

const input = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
const output = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'output', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
const strip = ({ $schema: _, ...rest }: Record<string, unknown>) => rest;

function parameters(where: 'path' | 'query', schema: z.ZodObject | undefined) {
  if (!schema) return [];
  const js = input(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || (js.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

const ERROR_TITLES: Record<number, string> = {
  400: 'The request does not match its schema (errors name each field)',
  401: 'No credential, or not a valid one',
  403: 'The caller\'s role or grids do not allow this',
  404: 'Not found, or not within the caller\'s reach',
  409: 'The state of the thing does not allow this now',
  413: 'The body is larger than the limit',
  415: 'The body\'s media type or charset is not accepted',
  422: 'Well-formed but not valid (errors name each problem)',
  429: 'Too many requests (Retry-After says when to try again)',
  503: 'PostgreSQL or Temporal is not reachable; try again shortly',
};

/** The statuses an operation can answer besides its successes. */
export function errorStatuses(op: Operation): number[] {
  const codes = new Set(op.errors ?? []);
  if (op.auth === undefined || op.auth === 'bearer' || op.auth === 'intake') codes.add(401).add(429);
  if (op.auth === 'link') codes.add(429);
  if (op.roles) codes.add(403);
  if (op.params || op.query || op.body) codes.add(400);
  if (op.body && !op.bodyMedia) codes.add(413).add(415);
  if (!op.offline) codes.add(503);
  return [...codes].sort((a, b) => a - b);
}

function reply(r: Reply) {
  const content = Object.fromEntries(
    (r.media ?? ['json']).map((m) => {
      if (m === 'json') return [MEDIA.json, { schema: r.schema ? strip(output(r.schema)) : { type: 'object' } }];
      if (m === 'sse') return [MEDIA.sse, { schema: strip(output(streamEvent)), itemSchema: strip(output(streamEvent)) }];
      if (m === 'binary') return [MEDIA.binary, { schema: { type: 'string', contentMediaType: 'application/octet-stream' } }];
      if (m === 'manifest') return [MEDIA.manifest, { schema: { type: 'object' } }];
      return [MEDIA[m], { schema: { type: 'string' } }];
    }),
  );
  return { description: r.description, content, ...(r.headers ? { headers: r.headers } : {}) };
}

const SECURITY: Record<Auth, object[]> = { bearer: [{ bearer: [] }, { session: [] }], intake: [{ intake: [] }], link: [], public: [] };

function operation(op: Operation) {
  const params = [...parameters('path', op.params), ...parameters('query', op.query)];
  const body = op.body && {
    required: Boolean(op.bodyRequired),
    content: Object.fromEntries(
      (op.bodyMedia ?? ['application/json']).map((type) => [
        type,
        type === 'application/json' || type === 'application/x-www-form-urlencoded'
          ? { schema: strip(input(op.body as z.ZodType)), ...(op.bodyExample !== undefined ? { example: op.bodyExample } : {}) }
          : { schema: { type: 'string', contentMediaType: type } },
      ]),
    ),
  };
  const responses: Record<string, unknown> = Object.fromEntries(Object.entries(op.ok).map(([status, r]) => [status, reply(r)]));
  for (const code of errorStatuses(op)) {
    responses[String(code)] = {
      description: ERROR_TITLES[code],
      // The resident's page answers its errors as a page too, unless JSON was asked for.
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } }, ...(op.auth === 'link' ? { 'text/html': { schema: { type: 'string' } } } : {}) },
      ...(code === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } } : {}),
    };
  }
  const who = op.roles ? ` Roles: ${['admin', ...op.roles].join(', ')}.` : '';
  return {
    tags: [op.tag],
    summary: op.summary,
    ...(who ? { description: who.trim() } : {}),
    security: SECURITY[op.auth ?? 'bearer'],
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

const pathPatterns = () => {
  const byPath = new Map<string, Set<string>>();
  for (const op of OPERATIONS) (byPath.get(op.path) ?? byPath.set(op.path, new Set()).get(op.path))?.add(op.method.toUpperCase());
  return [...byPath].map(([path, methods]) => {
    const allow = [...methods, ...(methods.has('GET') ? ['HEAD'] : [])];
    return { re: new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}/?$`), allow };
  });
};

/** OPTIONS answered from the document, so Allow lists what a path has (`/definitions/validate` is not `/definitions/:key`). */
export function answerOptions(): RequestHandler {
  const patterns = pathPatterns();
  return (req, res, next) => {
    const known = req.method === 'OPTIONS' ? patterns.find((p) => p.re.test(`${req.baseUrl}${req.path}`)) : undefined;
    if (!known) return next();
    res.set('Allow', known.allow.join(', ')).status(204).end();
  };
}

/** 405 with an Allow header for a path the API has but not with this method; placed after the routes. */
export function methodNotAllowed(): RequestHandler {
  const patterns = pathPatterns();
  return (req, res, next) => {
    const known = patterns.find((p) => p.re.test(req.path));
    if (!known || known.allow.includes(req.method)) return next();
    res.set('Allow', known.allow.join(', '));
    next(new ProblemError(405, 'Method Not Allowed', `${req.method} is not allowed on ${req.path}; allowed: ${known.allow.join(', ')}`));
  };
}

/** The OpenAPI 3.1 document of every route this server answers, generated from OPERATIONS. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  return {
    openapi: '3.1.0',
    info: { title: 'gridflow', version: '1.0.0', description: 'Community grid governance processes on Temporal. Generated from the zod schemas the routes validate with (api/openapi.ts).' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (POST /api/tokens), or GRIDFLOW_ADMIN_TOKEN' },
        intake: { type: 'http', scheme: 'bearer', description: 'An intake credential (gfi_...) of an external system (POST /api/intake/systems)' },
        session: { type: 'apiKey', in: 'cookie', name: 'gridflow_session', description: 'The console\'s session after signing in at /auth/{provider}/login (__Host-gridflow_session over https); requests that change something also send X-CSRF-Token' },
      },
      schemas: { Problem: strip(output(problem)) },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

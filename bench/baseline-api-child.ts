/**
 * The hand-written baseline's HTTP service, for the closed-loop measurement: what one would write
 * around bench/workflows/hand-issue.workflow.ts without gridflow, with the same access checks. The
 * two routes the load uses (POST /api/processes, POST /api/processes/:id/events) do per request
 * what gridflow's do: the bearer token looked up (TokenService), the grid checked against the
 * registry on a start and against the process's read-model row on an event, the sender made an
 * actor from the member registry and their held tasks (ActorService), and a fixed table of which
 * role sends which event; then the Temporal client: `workflow.start` and the same Update. What it
 * does not do is what the engine does: load the published definition, check the input against its
 * schema, render the business key from the registry's counter, compute the initial state.
 *
 * Environment as api-child.ts, plus BENCH_DESIGN (`before` or `now`: how the workflow keeps its
 * books, see HandIssueInput). Sends { type: 'ready', port } over IPC.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { authenticate, mayReach, type Principal } from '../api/auth';
import { loadConfig } from '../config/config';
import { createServices, requireEndpoints } from '../services/container';
import { EVENT_REJECTED, searchAttributeKeys, sendEventUpdate, type EventResult } from '../workflows/messages';
import type { HandIssueInput } from './workflows/hand-issue.workflow';

const SENDERS: Record<string, Principal['role'][]> = {
  ACCEPT: ['grid-worker', 'grid-leader'],
  HANDLE_IN_GRID: ['grid-worker', 'grid-leader'],
  NEEDS_DELIBERATION: ['grid-worker', 'grid-leader'],
  DECIDE: ['grid-leader'],
  PROGRESS: ['grid-worker'],
  RESOLVE: ['grid-worker'],
  VERIFY_OK: ['grid-worker', 'grid-leader'],
  EVALUATE: ['manager'],
};

async function main() {
  const config = requireEndpoints(loadConfig());
  const services = await createServices(config);
  // "now": the design of issue 14 (local projection, no state search attribute); else the one before it.
  const now = process.env.BENCH_DESIGN === 'now';
  const client = services.client;
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.use('/api', authenticate(config.adminToken, services.tokens));

  app.post('/api/processes', async (req: Request, res: Response) => {
    const { grid, input } = req.body as HandIssueInput;
    if (!mayReach(req.principal, grid) || !(await services.community.gridExists(grid))) return res.status(403).json({ title: `not your grid: ${grid}` });
    const workflowId = `hand-issue/${grid}/${crypto.randomUUID()}`;
    const args: HandIssueInput = { businessKey: workflowId, grid, input, projection: now ? 'local' : 'activity', indexState: !now, keepTimer: now };
    await client.workflow.start('handIssue', {
      taskQueue: config.taskQueue,
      workflowId,
      args: [args],
      typedSearchAttributes: [
        { key: searchAttributeKeys.definition, value: 'hand-issue' },
        { key: searchAttributeKeys.grid, value: grid },
        { key: searchAttributeKeys.state, value: '' },
      ],
    });
    res.status(201).json({ workflowId, state: 'reported', status: 'running' });
  });

  app.post('/api/processes/:id/events', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const p = req.principal as Principal;
    const { type, data } = req.body as { type: string; data?: Record<string, unknown> };
    const found = await services.processes.gridOf(id);
    if (!found || !mayReach(p, found.grid)) return res.status(404).json({ title: `process "${id}" does not exist` });
    const by = await services.processes.actorOf(p, id, undefined, type);
    if (!(SENDERS[type] ?? []).includes(p.role)) return res.status(403).json({ title: `${p.role} does not send ${type}` });
    try {
      const result: EventResult = await client.workflow.getHandle(id).executeUpdate(sendEventUpdate, { args: [{ type, data, actor: by.id, by }] });
      res.json(result);
    } catch (e) {
      const cause = e instanceof WorkflowUpdateFailedError ? e.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === EVENT_REJECTED) return res.status(409).json({ title: cause.message });
      throw e;
    }
  });

  app.use((e: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ title: e.message });
  });

  const server = app.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));
  server.keepAliveTimeout = 60_000;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stop') server.close(() => void services.close().then(() => process.exit(0)));
  });
}

main().catch((e) => {
  process.stderr.write(`bench baseline api: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

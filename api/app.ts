import express from 'express';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../config/config';
import { registry } from '../infra/metrics';
import { rateLimit, refuseNul, requestLog, securityHeaders } from './guard';
import type { Logger } from '../infra/log';
import type { Services } from '../services/container';
import type { ProcessService } from '../services/processes.service';
import { authenticate } from './auth';
import { healthRoutes, type HealthChecks } from './health.routes';
import { answerOptions, methodNotAllowed, openApiDocument } from './openapi';
import { notFoundRoute, problemHandler } from './problem';
import { processRoutes } from './processes.routes';
import { statsRoutes } from './stats.routes';
import { namerFrom } from '../services/names';
import type { StatsService } from '../services/stats.service';
import { deliveryRoutes } from './delivery.routes';
import { notificationRoutes } from './notifications.routes';
import { taskRoutes } from './tasks.routes';
import { tokenRoutes } from './tokens.routes';
import type { DeliveryService } from '../services/delivery.service';
import type { NotificationService } from '../services/notifications.service';
import type { TaskService } from '../services/tasks.service';
import type { TokenService } from '../services/tokens.service';
import { definitionRoutes } from './definitions.routes';
import type { DefinitionService } from '../services/definitions.service';
import { gridRoutes } from './grids.routes';
import { rotaRoutes } from './rota.routes';
import type { RotaService } from '../services/rota.service';
import type { CommunityService } from '../services/community.service';
import { scheduleRoutes } from './schedules.routes';
import { consoleDir, consoleRoutes } from './console.routes';
import type { ScheduleService } from '../services/schedules.service';
import type { SimulationService } from '../services/simulations.service';
import type { IntakeService } from '../services/intake.service';
import type { EvidenceService } from '../services/evidence.service';
import { intakeSystemRoutes, intakeTicketRoutes } from './intake.routes';
import { processExtrasRoutes, taskEvidenceRoutes } from './evidence.routes';
import type { SatisfactionService } from '../services/satisfaction.service';
import { residentRoutes, satisfactionLinkRoutes } from './resident.routes';
import { registryRoutes } from './registry.routes';
import type { RegistryService } from '../services/registry.service';
import { authRoutes } from './auth.routes';
import { sessionRoutes } from './sessions.routes';
import type { SessionService } from '../services/sessions.service';
import type { SignInService } from '../services/sign-in.service';
import type { StreetService } from '../services/street.service';
import { communityPaths, requireCommunity } from './community-scope';
import { communityRoutes } from './communities.routes';
import { DEFAULT_COMMUNITY } from '../engine/community';
import { communitiesOf } from '../services/principal';

export interface AppDeps {
  processes: ProcessService;
  stats: StatsService;
  tasks: TaskService;
  notifications: NotificationService;
  delivery: DeliveryService;
  tokens: TokenService;
  sessions: SessionService;
  signIn: SignInService;
  definitions: DefinitionService;
  community: CommunityService;
  rota: RotaService;
  street: StreetService;
  registry: RegistryService;
  schedules: ScheduleService;
  simulations: SimulationService;
  intake: IntakeService;
  evidence: EvidenceService;
  satisfaction: SatisfactionService;
  health: HealthChecks;
  adminToken?: string;
  log: Logger;
  /** Requests a minute per caller by role, and failed authentications per address (config/config.ts). */
  rateLimits?: RateLimits;
  /** The built console (config/config.ts webDir); unset, dist/web. */
  webDir?: string;
}

/** The app over the services of a container: the API's composition root and the tests use this. */
export function appFromServices(services: Services, opts: { adminToken?: string; log: Logger; rateLimits?: RateLimits; webDir?: string }): express.Express {
  return createApp({
    ...services,
    adminToken: opts.adminToken,
    log: opts.log,
    rateLimits: opts.rateLimits,
    webDir: opts.webDir,
    health: {
      postgres: async () => {
        await services.orm.em.getConnection().execute('select 1');
      },
      temporal: async () => {
        await services.connection.workflowService.getSystemInfo({});
      },
    },
  });
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', false);
  app.use(securityHeaders);
  app.use(requestLog(deps.log));
  app.use(express.json({ limit: '1mb', strict: true, type: ['application/json', 'application/*+json'] }));
  // `/api/communities/:community/<route>` is `/api/<route>` about that community.
  app.use(communityPaths);
  app.use(refuseNul);
  app.use(healthRoutes(deps.health));
  app.use(consoleRoutes(consoleDir(deps.webDir)));
  const doc = openApiDocument();
  app.get('/api/openapi.json', (_req, res) => {
    res.json(doc);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  // Callers are limited as who they are, so authentication comes first; failures are limited by address.
  const limit = rateLimit(deps.rateLimits ?? DEFAULT_RATE_LIMITS);
  // External systems hold intake credentials, which open this route only (and user tokens do not open it).
  app.use('/api/intake/tickets', intakeTicketRoutes(deps.intake, { before: [limit.failedAuthGate], after: [] }), limit.countFailedAuth);
  // The resident's satisfaction page: a signed link, no account.
  app.use('/r', limit.failedAuthGate, residentRoutes(deps.satisfaction));
  // Signing in to the console through an identity provider; the session it opens is a credential like a token.
  app.use('/auth', limit.failedAuthGate, authRoutes(deps.signIn, deps.sessions), limit.countFailedAuth);
  app.use('/api', limit.failedAuthGate, authenticate(deps.adminToken, deps.tokens, { sessions: deps.sessions, signIn: deps.signIn }), limit.countFailedAuth, limit.perCaller, requireCommunity);
  app.use(answerOptions());
  app.get('/api/me', (req, res) => {
    const p = req.principal;
    res.json({ name: p?.name, role: p?.role, grids: p?.grids, member: p?.memberId ?? null, community: p?.community ?? DEFAULT_COMMUNITY, communities: p ? communitiesOf(p) : [] });
  });
  app.use('/api', communityRoutes(deps.community, deps.street));
  app.use('/api/processes', processExtrasRoutes(deps), satisfactionLinkRoutes(deps.satisfaction), processRoutes(deps.processes, deps.stats, namerFrom(deps.community, deps.definitions)));
  app.use('/api/intake/systems', intakeSystemRoutes(deps.intake));
  app.use('/api/definitions', definitionRoutes(deps.definitions, deps.processes, deps.simulations, deps.schedules, (c) => deps.community.communityExists(c)));
  app.use('/api/schedules', scheduleRoutes(deps.schedules));
  const { channels, deliveries } = deliveryRoutes(deps.delivery, (c) => deps.community.gridIds(c));
  app.use('/api/grids', channels);
  app.use('/api/grids', gridRoutes(deps.community));
  app.use('/api/rota', rotaRoutes(deps.rota));
  app.use('/api/registry', registryRoutes(deps.registry, (c) => deps.community.gridIds(c)));
  app.use('/api/deliveries', deliveries);
  app.use('/api/tasks', taskEvidenceRoutes(deps.evidence, deps.processes), taskRoutes(deps.tasks));
  app.use('/api/notifications', notificationRoutes(deps.notifications));
  app.use('/api/tokens', tokenRoutes(deps.tokens));
  app.use('/api', sessionRoutes(deps.sessions, deps.community));
  app.use('/api', statsRoutes(deps.stats, namerFrom(deps.community, deps.definitions)));
  app.use(methodNotAllowed());
  app.use(notFoundRoute);
  app.use(problemHandler(deps.log));
  return app;
}

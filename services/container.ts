import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/config';
import { openOrm } from '../db/orm';
import { connectTemporal } from '../infra/temporal';
import { DefinitionService } from './definitions.service';
import { ActorService } from './actors.service';
import { ProcessService } from './processes.service';
import { CommunityService } from './community.service';
import { RotaService } from './rota.service';
import { StatsService } from './stats.service';
import { EncryptionCodec } from '../infra/codec';
import { DataKey } from '../infra/crypto';
import { DeliveryService } from './delivery.service';
import { NotificationService } from './notifications.service';
import { TaskService } from './tasks.service';
import { TokenService } from './tokens.service';
import type { Logger } from '../infra/log';
import { ProviderService } from './providers.service';
import { ScheduleService } from './schedules.service';
import { SimulationService } from './simulations.service';
import type { WorkCalendar } from '../engine/calendar';
import { scoringRulesOf } from '../engine/scoring';
import { createEvidenceStore, EvidenceService } from './evidence.service';
import { SatisfactionService } from './satisfaction.service';
import { IntakeService } from './intake.service';
import { RegistryService } from './registry.service';
import { SessionService } from './sessions.service';
import { SignInService } from './sign-in.service';
import { StreetService } from './street.service';



/** The services both composition roots need, wired once from the configuration. */
export interface Services {
  orm: MikroORM;
  connection: Connection;
  client: Client;
  definitions: DefinitionService;
  processes: ProcessService;
  providers: ProviderService;
  schedules: ScheduleService;
  community: CommunityService;
  rota: RotaService;
  registry: RegistryService;
  tokens: TokenService;
  sessions: SessionService;
  signIn: SignInService;
  tasks: TaskService;
  notifications: NotificationService;
  delivery: DeliveryService;
  intake: IntakeService;
  evidence: EvidenceService;
  satisfaction: SatisfactionService;
  stats: StatsService;
  street: StreetService;
  simulations: SimulationService;
  calendar: WorkCalendar;
  dataKey: DataKey;
  codec: EncryptionCodec;
  close(): Promise<void>;
}

export async function createServices(config: Config & { databaseUrl: string; temporalAddress: string; dataKey: string }, options: { schedulePrefix?: string; log?: Logger } = {}): Promise<Services> {
  const orm = await openOrm(config.databaseUrl);
  const dataKey = new DataKey(config.dataKey);
  const codec = new EncryptionCodec(dataKey);
  const { connection, client } = await connectTemporal(config.temporalAddress, config.temporalNamespace, codec);
  const calendar = DefinitionService.readCalendar();
  const definitions = new DefinitionService(orm, calendar);
  const community = new CommunityService(orm, dataKey);
  // A schedule fans out over the grids of every community.
  const gridIds = () => community.gridIds('all');
  const rota = new RotaService({ orm, community, calendar });
  const providers = new ProviderService(orm, (c) => community.gridIds(c), async () => {
    if (!(await definitions.keys()).includes('monthly-review')) return undefined;
    return scoringRulesOf((await definitions.get('monthly-review')).document);
  }, (month) => rota.nobodyOnDutyDays(month));
  const actors = new ActorService({ orm, community, rota });
  const processes = new ProcessService({ orm, client, definitions, providers, actors, calendar, taskQueue: config.taskQueue, gridExists: (g) => community.gridExists(g), communityExists: (c) => community.communityExists(c), temporalUi: config.temporalUiUrl ? { url: config.temporalUiUrl, namespace: config.temporalNamespace } : undefined });
  const tokens = new TokenService(orm, community);
  const sessions = new SessionService(orm, config.signIn.session);
  const signIn = new SignInService(config.signIn, sessions);
  const stats = new StatsService(orm, providers);
  const street = new StreetService({ orm, stats, communities: () => community.communities() });
  const tasks = new TaskService({ orm, community, processes, definitions, actors, rota });
  const notifications = new NotificationService(orm, config.streams);
  const delivery = new DeliveryService(orm, options.log, config.webhooks);
  const intake = new IntakeService({ orm, processes, delivery, dataKey, webhooks: config.webhooks });
  const evidence = new EvidenceService(orm, createEvidenceStore(config.evidence.store), config.evidence);
  const satisfaction = new SatisfactionService({ processes, community, dataKey });
  const simulations = new SimulationService(calendar, config.simulation, options.log);
  const registry = new RegistryService({ orm, key: dataKey, definitions, calendar, grids: () => community.listGrids('all') });
  const schedules = new ScheduleService({
    client,
    definitions,
    processes,
    calendar,
    taskQueue: config.taskQueue,
    gridIds,
    communityIds: async () => (await community.communities()).map((c) => c.id),
    rounds: registry,
    prefix: options.schedulePrefix,
  });
  return {
    orm,
    connection,
    client,
    definitions,
    street,
    processes,
    providers,
    schedules,
    community,
    rota,
    registry,
    tokens,
    sessions,
    signIn,
    tasks,
    notifications,
    delivery,
    intake,
    evidence,
    satisfaction,
    stats,
    simulations,
    calendar,
    dataKey,
    codec,
    close: async () => {
      notifications.close();
      await simulations.close();
      await delivery.stop();
      await connection.close();
      await orm.close();
    },
  };
}

/** A configuration with both dependencies named; the composition roots refuse to run without them. */
export function requireEndpoints(config: Config): Config & { databaseUrl: string; temporalAddress: string; dataKey: string } {
  const missing = [!config.databaseUrl && 'DATABASE_URL', !config.temporalAddress && 'TEMPORAL_ADDRESS', !config.dataKey && 'GRIDFLOW_DATA_KEY'].filter(Boolean);
  if (missing.length) {
    throw new Error(`${missing.join(' and ')} must be set for this process; "npm start" sets them after starting the embedded servers`);
  }
  return config as Config & { databaseUrl: string; temporalAddress: string; dataKey: string };
}

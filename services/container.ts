import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/config';
import { openOrm } from '../db/orm';
import { connectTemporal } from '../infra/temporal';
import { DefinitionService } from './definitions.service';
import { ProcessService } from './processes.service';

/** The services both composition roots need, wired once from the configuration. */
export interface Services {
  orm: MikroORM;
  connection: Connection;
  client: Client;
  definitions: DefinitionService;
  processes: ProcessService;
  close(): Promise<void>;
}

export async function createServices(config: Config & { databaseUrl: string; temporalAddress: string }): Promise<Services> {
  const orm = await openOrm(config.databaseUrl);
  const { connection, client } = await connectTemporal(config.temporalAddress, config.temporalNamespace);
  const definitions = new DefinitionService(orm);
  const processes = new ProcessService({ orm, client, definitions, taskQueue: config.taskQueue });
  return {
    orm,
    connection,
    client,
    definitions,
    processes,
    close: async () => {
      await connection.close();
      await orm.close();
    },
  };
}

/** A configuration with both dependencies named; the composition roots refuse to run without them. */
export function requireEndpoints(config: Config): Config & { databaseUrl: string; temporalAddress: string } {
  const missing = [!config.databaseUrl && 'DATABASE_URL', !config.temporalAddress && 'TEMPORAL_ADDRESS'].filter(Boolean);
  if (missing.length) {
    throw new Error(`${missing.join(' and ')} must be set for this process; "npm start" sets them after starting the embedded servers`);
  }
  return config as Config & { databaseUrl: string; temporalAddress: string };
}

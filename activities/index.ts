import type { MikroORM } from '@mikro-orm/postgresql';
import { createEffectActivities, type DataProviders, type Launcher, type Outbox, type ProcessStarter, type Recipients } from './effects.activities';
import { createProjectionActivities } from './projection.activities';

export interface ActivityDeps {
  orm: MikroORM;
  processes: ProcessStarter;
  providers: DataProviders;
  launcher: Launcher;
  recipients: Recipients;
  delivery: Outbox;
}

export const createActivities = (deps: ActivityDeps) => ({
  ...createProjectionActivities(deps),
  ...createEffectActivities(deps),
});

export type Activities = ReturnType<typeof createActivities>;
export type { ProcessStarter } from './effects.activities';

import { createEffectActivities, type EffectDeps } from './effects.activities';
import { createProjectionActivities } from './projection.activities';

export type ActivityDeps = EffectDeps;

export const createActivities = (deps: ActivityDeps) => ({
  ...createProjectionActivities(deps),
  ...createEffectActivities(deps),
});

export type Activities = ReturnType<typeof createActivities>;

import type { ActivityDeps } from './deps';
import { createHousekeepingActivities } from './housekeeping';

export type { ActivityDeps } from './deps';

/** The one activity factory: every activity the worker registers is built here from its deps. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createHousekeepingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

import { pruneRateLimitCounters } from '../src/http/rateLimit';
import type { ActivityDeps } from './deps';

export function createHousekeepingActivities({ db, outbox, config }: ActivityDeps) {
  return {
    async sweepOutbox(): Promise<{ started: number; failed: number }> {
      return outbox.sweep(config.OUTBOX_RESYNC_GRACE);
    },
    async pruneExpiredRecords(): Promise<number> {
      return pruneRateLimitCounters(db);
    },
  };
}

export type HousekeepingActivities = ReturnType<typeof createHousekeepingActivities>;

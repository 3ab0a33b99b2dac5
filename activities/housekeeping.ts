import { pruneRateLimitCounters } from '../src/http/rateLimit';
import { pruneExpiredIdempotencyKeys } from '../src/idempotency/middleware';
import type { ActivityDeps } from './deps';

export function createHousekeepingActivities({ db, outbox, config }: ActivityDeps) {
  return {
    async sweepOutbox(): Promise<{ started: number; failed: number }> {
      return outbox.sweep(config.OUTBOX_RESYNC_GRACE);
    },
    async pruneExpiredRecords(): Promise<number> {
      return (await pruneRateLimitCounters(db)) + (await pruneExpiredIdempotencyKeys(db));
    },
  };
}

export type HousekeepingActivities = ReturnType<typeof createHousekeepingActivities>;

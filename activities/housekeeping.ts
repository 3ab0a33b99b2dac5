import { pruneRateLimitCounters } from '../src/http/rateLimit';
import { pruneExpiredIdempotencyKeys } from '../src/idempotency/middleware';
import { reoweUnansweredConsents } from '../src/partners/consent';
import type { ActivityDeps } from './deps';

/**
 * Longer than the sweep activity's start-to-close timeout (2 minutes, workflows/outboxResync.ts),
 * so a sweep still starting its batch is not doubled by the next one.
 */
const SWEEP_LEASE_SECONDS = 300;

export function createHousekeepingActivities({ db, outbox, config }: ActivityDeps) {
  return {
    /**
     * The backstop behind the relays: owed starts older than the grace period, a batch at a time,
     * after owing again the partner consents that no onboarding run acted on.
     */
    async sweepOutbox(): Promise<{ started: number; failed: number }> {
      await reoweUnansweredConsents(db, config);
      const { started, failed } = await outbox.startOwed({ graceMs: config.OUTBOX_RESYNC_GRACE, batchSize: 100, leaseSeconds: SWEEP_LEASE_SECONDS });
      return { started, failed };
    },
    async pruneExpiredRecords(): Promise<number> {
      return (await pruneRateLimitCounters(db)) + (await pruneExpiredIdempotencyKeys(db));
    },
  };
}

export type HousekeepingActivities = ReturnType<typeof createHousekeepingActivities>;

import { proxyActivities } from '@temporalio/workflow';
import type { HousekeepingActivities } from '../activities/housekeeping';

const { sweepOutbox, pruneExpiredRecords } = proxyActivities<HousekeepingActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

/**
 * Run by the `schedule:resync` Schedule. Starts every workflow that a committed transaction owes
 * but whose fast-path start never happened (API crashed, Temporal was down), then prunes
 * expired bookkeeping rows.
 */
export async function outboxResync(): Promise<{ started: number; failed: number; pruned: number }> {
  const { started, failed } = await sweepOutbox();
  const pruned = await pruneExpiredRecords();
  return { started, failed, pruned };
}

import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { HousekeepingActivities } from '../activities/housekeeping';
import type { PublicationActivities } from '../activities/publications';
import type { DriftReport } from '../src/domain/publications';

const { sweepOutbox, pruneExpiredRecords } = proxyActivities<HousekeepingActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

// A sweep pages through every due target's listings: a budget of its own.
const { repairTargetDrift } = proxyActivities<PublicationActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3 },
});

/**
 * Run by the `schedule:resync` Schedule. Starts every workflow that a committed transaction owes
 * but whose fast-path start never happened (API crashed, Temporal was down), prunes expired
 * bookkeeping rows, and repairs drift between Immoflow and each connected target (its reports are
 * this workflow's result, readable in the UI).
 */
export async function outboxResync(): Promise<{ started: number; failed: number; pruned: number; drift: DriftReport[] }> {
  const { started, failed } = await sweepOutbox();
  const pruned = await pruneExpiredRecords();
  const drift = await repairTargetDrift({ repairId: workflowInfo().runId });
  return { started, failed, pruned, drift };
}

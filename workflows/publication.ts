import { continueAsNew, defineSignal, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';
import type { PublicationActivities } from '../activities/publications';
import { PUBLICATION_SIGNALS, PublicationInput, SyncOutcome, SyncRequest, publicationRetryDelay } from '../src/domain/publications';

// A push is bounded by TARGET_TIMEOUT per call (upsert, a few image uploads); infrastructure
// hiccups are retried here, a target's own trouble is the explicit loop below. A local activity:
// it runs in the worker that holds the workflow task, which saves the activity task's round trips
// through Temporal (measured in docs/BENCHMARKS.md); the push is idempotent, so the re-run a
// worker crash costs is harmless.
const publications = proxyLocalActivities<PublicationActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** "The listing or the connection changed; bring the target up to date." */
export const syncSignal = defineSignal<[SyncRequest]>(PUBLICATION_SIGNALS.sync);

/** Syncs before a run hands over to a fresh one, so its history stays small. */
const SYNCS_PER_RUN = 200;

export interface PublicationResult {
  syncs: number;
  last: SyncOutcome['status'] | 'none';
  failureCode?: string;
}

/**
 * `publication:<listingId>:<targetId>` follows one listing's life on one target. Every change is a
 * signal (signal-with-start from the outbox); each sync reads the listing as it is then and makes
 * the one push that brings the target there. A target that is down or rate-limiting is waited for
 * on PUBLICATION_RETRY_SCHEDULE (or its Retry-After) until it is back; the run ends when nothing
 * is owed, and the next change starts a new one.
 */
export async function publication(input: PublicationInput): Promise<PublicationResult> {
  const owed: SyncRequest[] = [...(input.owed ?? [])];
  setHandler(syncSignal, (request) => void owed.push(request ?? {}));
  const result: PublicationResult = { syncs: 0, last: 'none' };
  let retries = 0;

  while (owed.length > 0) {
    if (result.syncs >= SYNCS_PER_RUN) await continueAsNew<typeof publication>({ ...input, owed });
    // Every request owed so far is served by one sync; a repair among them forces the push.
    const request = owed.splice(0).find((entry) => entry.repair) ?? {};
    const outcome = await publications.syncPublication(input, request);
    result.syncs += 1;
    result.last = outcome.status;
    result.failureCode = outcome.failureCode;
    if (outcome.status === 'busy') {
      // Another push of this listing (a connection's backfill) holds it: look again when it is done.
      await sleep(outcome.retryAfterMs ?? 1000);
      owed.push(request);
      continue;
    }
    if (outcome.status !== 'retry') {
      retries = 0;
      continue;
    }
    retries += 1;
    await sleep(outcome.retryAfterMs ?? publicationRetryDelay(input.retryScheduleMs, retries));
    owed.push(request);
  }
  return result;
}

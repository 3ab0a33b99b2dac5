import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { PublicationActivities } from '../activities/publications';
import { BackfillInput, BackfillTotals, addBackfillTotals, emptyBackfillTotals } from '../src/domain/publications';

// A page is BACKFILL_PAGE_SIZE pushes, TARGET_CONCURRENCY at a time, each bounded by
// TARGET_TIMEOUT per call; the heartbeat after every push tells a stuck page from a slow one.
const { pushBackfillPage } = proxyActivities<PublicationActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Pages before a run hands over to a fresh one, so its history stays small. */
const PAGES_PER_RUN = 100;

export type BackfillResult = BackfillTotals & { pages: number };

/**
 * `publication-backfill:<targetId>:<orgId>:<eventId>`: after `target.connected` or
 * `target.disconnected`, brings each of the organisation's listings to the target, a page per
 * activity, in id order. Its result counts what was published, deleted, left as it was, refused,
 * and handed to a listing's own `publication` workflow because it had to wait.
 */
export async function publicationBackfill(input: BackfillInput): Promise<BackfillResult> {
  let totals = input.totals ?? emptyBackfillTotals();
  let after = input.after;
  for (let pages = 0; ; ) {
    if (pages >= PAGES_PER_RUN) await continueAsNew<typeof publicationBackfill>({ ...input, after, totals });
    const page = await pushBackfillPage({ ...input, after, totals: undefined }, workflowInfo().workflowId);
    if (page.pausedMs) {
      // The target's Retry-After: wait it out here rather than fail every listing of the page.
      await sleep(page.pausedMs);
      continue;
    }
    pages += 1;
    totals = addBackfillTotals(totals, page.totals);
    if (!page.next) return { ...totals, pages };
    after = page.next;
  }
}

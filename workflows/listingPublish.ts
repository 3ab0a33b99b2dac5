import {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { GeocodingActivities } from '../activities/geocoding';
import type { ListingActivities } from '../activities/listings';
import {
  FinalModeration,
  ListingPublishInput,
  ListingPublishResult,
  ReviewDecision,
  geocodingTaskQueue,
  resolveReview,
} from '../src/domain/listingPipeline';
import { postalAddressOf } from '../src/domain/address';
import { moderateListing } from '../src/domain/moderation';

const listingActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
} as const;
/** Runs before 2026-12-03: every Postgres step an activity task of its own. */
const queuedListings = proxyActivities<ListingActivities>(listingActivityOptions);
/**
 * The Postgres steps as local activities: a publish with nothing to wait for completes in one
 * workflow task (each step is a marker in the history, still visible in the UI), instead of
 * one workflow task and one activity task per step.
 */
const localListings = proxyLocalActivities<ListingActivities>(listingActivityOptions);

/** Histories recorded before the local activities replay on the activities they scheduled. */
export const LOCAL_LISTING_STEPS_PATCH = 'listing-steps-as-local-activities';

/** An operator's decision on a listing that needs review: from the CLI, the Temporal UI or `temporal workflow update`. */
export const reviewUpdate = defineUpdate<ListingPublishResult, [ReviewDecision]>('review');
/** The same decision as a signal, for tools that can only signal. */
export const reviewSignal = defineSignal<[ReviewDecision]>('reviewDecision');
export const awaitingReviewQuery = defineQuery<boolean>('awaitingReview');
/** Sent by the run of a newer revision: this revision will never be applied, stop waiting. */
export const supersededSignal = defineSignal('superseded');

/**
 * One write of one listing (id `listing-publish:<listingId>:r<revision>`): moderation, an
 * operator review when needed, geocoding when the address changed, then the result is applied
 * only if the listing is still at this revision.
 */
export async function listingPublish(input: ListingPublishInput): Promise<ListingPublishResult> {
  const localSteps = patched(LOCAL_LISTING_STEPS_PATCH);
  const listings = localSteps ? localListings : queuedListings;
  if (input.supersedes) {
    try {
      await getExternalWorkflowHandle(input.supersedes).signal(supersededSignal);
    } catch {
      // That run has already finished (decided or timed out): nothing to stop.
    }
  }
  if (input.action === 'delete') {
    await listings.applyUnpublish(input);
    return { outcome: 'deleted' };
  }

  const snapshot = await listings.loadListingForModeration(input);
  if (!snapshot) return { outcome: 'superseded' };

  const verdict = moderateListing(snapshot.listing, {
    policy: snapshot.policy,
    duplicates: snapshot.duplicates,
    activating: snapshot.status === 'active',
  });
  let moderation: FinalModeration = verdict;

  // Register handlers before anything can block, so a decision is never dropped.
  let awaitingReview = false;
  let superseded = false;
  let decision: ReviewDecision | undefined;
  setHandler(supersededSignal, () => {
    superseded = true;
  });
  let result: ListingPublishResult | undefined;
  setHandler(awaitingReviewQuery, () => awaitingReview);
  setHandler(reviewSignal, (incoming) => {
    if (awaitingReview && !decision) decision = incoming;
  });
  setHandler(
    reviewUpdate,
    async (incoming) => {
      decision ??= incoming;
      await condition(() => result !== undefined);
      return result as ListingPublishResult;
    },
    {
      validator: (incoming) => {
        if (!awaitingReview || decision) throw new Error('This listing revision is not waiting for a review decision.');
        if (typeof incoming?.approve !== 'boolean' || !incoming.reason?.trim()) throw new Error('A decision needs approve (true/false) and a reason.');
      },
    },
  );

  // Every exit after this point answers a pending review Update before the run completes.
  const finish = async (outcome: ListingPublishResult): Promise<ListingPublishResult> => {
    result = outcome;
    await condition(allHandlersFinished);
    return outcome;
  };

  if (verdict.outcome === 'needs_review' && snapshot.status === 'active') {
    // Open for decisions before the state is visible to operators (markNeedsReview), so a
    // decision sent the moment the API shows needs_review is never refused.
    awaitingReview = true;
    const marked = await listings.markNeedsReview(input, verdict, workflowInfo().workflowId);
    if (!marked) return finish({ outcome: 'superseded' });
    log.info('listing waits for an operator review', { listingId: input.listingId, revision: input.revision });
    await condition(() => decision !== undefined || superseded, snapshot.reviewTimeoutMs);
    awaitingReview = false;
    if (superseded && decision === undefined) return finish({ outcome: 'superseded' });
    moderation = resolveReview(verdict, decision, snapshot.reviewTimeoutOutcome);
  }

  let geo: Awaited<ReturnType<GeocodingActivities['geocodeAddress']>> | undefined;
  if (input.addressChanged && localSteps && snapshot.knownGeocode) {
    geo = snapshot.knownGeocode.result;
  } else if (input.addressChanged) {
    const geocoding = proxyActivities<GeocodingActivities>({
      taskQueue: geocodingTaskQueue(workflowInfo().taskQueue),
      startToCloseTimeout: '30 seconds',
      // The provider's own rate limit is the task queue's; retries back off well beyond it.
      retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', maximumAttempts: 8, nonRetryableErrorTypes: ['GeocoderRequestRejected'] },
    });
    try {
      geo = await geocoding.geocodeAddress(postalAddressOf(snapshot.listing));
    } catch (error) {
      // Publication does not depend on coordinates: keep the previous geo and go on.
      log.warn('geocoding failed; publishing without new coordinates', { listingId: input.listingId, error: String(error) });
      geo = undefined;
    }
  }

  const applied = await listings.applyPipelineResult(input, moderation, geo);
  return finish(applied.applied ? { outcome: moderation.outcome, publicationState: applied.publicationState ?? undefined } : { outcome: 'superseded' });
}

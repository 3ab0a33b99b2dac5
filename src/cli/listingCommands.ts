import { WorkflowUpdateFailedError } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Db } from '../db/knex';
import type { ListingPublishResult, ReviewDecision } from '../domain/listingPipeline';
import type { TemporalClientProvider } from '../temporal/client';
import { CliFailure, CliOutput, UsageError, emit } from './io';

/**
 * `immoflow listing review ID --approve|--reject --reason R`: sends the operator's decision to the
 * listing's publish workflow as a Temporal Update and prints the applied outcome.
 */
export async function listingReview(args: string[], deps: { db: Db; temporal: TemporalClientProvider }, out: CliOutput): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { approve: { type: 'boolean', default: false }, reject: { type: 'boolean', default: false }, reason: { type: 'string' }, reviewer: { type: 'string' } },
  });
  const listingId = positionals[0];
  if (!listingId || !z.uuid().safeParse(listingId).success) throw new UsageError('usage: immoflow listing review LISTING_ID --approve|--reject --reason R');
  if (values.approve === values.reject) throw new UsageError('pass exactly one of --approve or --reject');
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError('--reason is required: it is recorded with the moderation decision');

  const listing = await deps.db('listings').where({ id: listingId }).whereNull('deleted_at').first('id', 'review_workflow_id', 'moderation_state', 'revision');
  if (!listing) throw new CliFailure(`no listing ${listingId} (not found)`);
  if (listing.moderation_state !== 'needs_review' || !listing.review_workflow_id) {
    throw new CliFailure(`listing ${listingId} is not waiting for a review (moderation state: ${listing.moderation_state})`);
  }
  const decision: ReviewDecision = { approve: values.approve === true, reason, reviewer: values.reviewer ?? process.env.USER };
  const client = await deps.temporal.get();
  let result: ListingPublishResult;
  try {
    result = await client.workflow.getHandle(listing.review_workflow_id).executeUpdate<ListingPublishResult, [ReviewDecision]>('review', { args: [decision] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw new CliFailure(`the workflow refused the decision: ${error.cause?.message ?? error.message}`);
    throw error;
  }
  emit(
    out,
    { listing_id: listingId, workflow_id: listing.review_workflow_id, decision: decision.approve ? 'approve' : 'reject', ...result },
    `Listing ${listingId}: ${decision.approve ? 'approved' : 'rejected'} → moderation ${result.outcome}, publication ${result.publicationState ?? 'unchanged'}`,
  );
}

import { ActivityFailure, ApplicationFailure, TimeoutFailure, condition, defineQuery, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { AttachmentActivities, ProcessingItem, SettledAttachment } from '../activities/attachments';
import {
  AttachmentFailure,
  AttachmentFailureCode,
  MAX_ATTACHMENT_RETRIES,
  PropertyProcessingInput,
  firstFailure,
  hostBusyBackoffMs,
  pickRunnable,
} from '../src/domain/attachments';

const control = proxyActivities<AttachmentActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** One attachment's progress, as the `progress` Query shows it to operators. */
export interface AttachmentProgress {
  id: string;
  url: string;
  state: 'pending' | 'fetching' | 'ready' | 'failed';
  failureCode: AttachmentFailureCode | null;
}

export const progressQuery = defineQuery<AttachmentProgress[]>('progress');

export interface PropertyProcessingResult {
  outcome: 'succeeded' | 'failed' | 'superseded';
  ready: number;
  failed: number;
}

/** What an activity failure that survived its retries means for the attachment. */
function failureOf(error: unknown): AttachmentFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type === 'TransientFetchError') {
    const detail = cause.details?.[0] as AttachmentFailure | undefined;
    if (detail?.code) return detail;
  }
  if (cause instanceof TimeoutFailure) return { code: 'timeout', message: 'The fetch did not finish in time (or its worker stopped) on every attempt.' };
  return { code: 'url_unreachable', message: `The fetch kept failing: ${(cause as Error | undefined)?.message ?? 'unknown error'}` };
}

/**
 * `property-processing:<listingId>:r<revision>`: fetches every attachment of the revision that
 * is not ready yet, and revalidates ready ones that have an ETag (through the SSRF guard, into
 * MinIO), at most `perListing` at a time and
 * `perHost` per host, then commits every state with `property.processing_succeeded` or
 * `property.processing_failed`. A superseded revision writes nothing.
 */
export async function propertyProcessing(input: PropertyProcessingInput): Promise<PropertyProcessingResult> {
  const progress = new Map<string, AttachmentProgress>();
  setHandler(progressQuery, () => [...progress.values()]);

  const plan = await control.loadProcessingPlan(input);
  if (!plan) return { outcome: 'superseded', ready: 0, failed: 0 };
  for (const id of plan.order) progress.set(id, { id, url: plan.urls[id] ?? '', state: 'pending', failureCode: null });
  const outcomes = new Map<string, SettledAttachment>();
  for (const settled of plan.settled) {
    outcomes.set(settled.id, settled);
    progress.set(settled.id, { ...(progress.get(settled.id) as AttachmentProgress), state: 'ready' });
  }

  const fetching = proxyActivities<AttachmentActivities>({
    startToCloseTimeout: plan.limits.timeoutMs + 60_000,
    // A killed worker's fetch is retried elsewhere within seconds (the fetch beats every second;
    // 5 s proved too tight for a loaded 2-core machine, where the bench saw beats arrive late).
    heartbeatTimeout: '10 seconds',
    retry: {
      initialInterval: plan.limits.retryInitialIntervalMs,
      backoffCoefficient: 2,
      // Only transient failures are thrown (final ones are verdicts): 1 attempt + 3 retries.
      maximumAttempts: MAX_ATTACHMENT_RETRIES + 1,
    },
  });

  const queue: ProcessingItem[] = [...plan.items];
  const running: ProcessingItem[] = [];
  let settledCount = 0;

  async function run(item: ProcessingItem): Promise<void> {
    progress.set(item.id, { ...(progress.get(item.id) as AttachmentProgress), state: 'fetching' });
    let outcome: SettledAttachment;
    try {
      let verdict = await fetching.fetchAttachment(input, item);
      for (let wait = 0; 'hostBusy' in verdict; wait += 1) {
        progress.set(item.id, { ...(progress.get(item.id) as AttachmentProgress), state: 'pending' });
        await sleep(hostBusyBackoffMs(wait));
        progress.set(item.id, { ...(progress.get(item.id) as AttachmentProgress), state: 'fetching' });
        verdict = await fetching.fetchAttachment(input, item);
      }
      if (!verdict.ok) outcome = { id: item.id, state: 'failed', failure: verdict.failure };
      else outcome = 'unchanged' in verdict ? { id: item.id, state: 'ready' } : { id: item.id, state: 'ready', result: verdict.result };
    } catch (error) {
      outcome = { id: item.id, state: 'failed', failure: failureOf(error) };
    }
    // Stale-if-error: a ready copy whose revalidation failed stays what the listing shows.
    if (item.known && outcome.state === 'failed') outcome = { id: item.id, state: 'ready' };
    outcomes.set(item.id, outcome);
    progress.set(item.id, { ...(progress.get(item.id) as AttachmentProgress), state: outcome.state, failureCode: outcome.failure?.code ?? null });
    running.splice(running.indexOf(item), 1);
    settledCount += 1;
  }

  while (queue.length > 0 || running.length > 0) {
    for (const item of pickRunnable(queue, running, plan.limits)) {
      queue.splice(queue.indexOf(item), 1);
      running.push(item);
      void run(item);
    }
    const seen = settledCount;
    await condition(() => settledCount !== seen);
  }

  const ordered = plan.order.map((id) => outcomes.get(id)).filter((outcome): outcome is SettledAttachment => outcome !== undefined);
  const completed = await control.completePropertyProcessing(input, ordered);
  if (!completed.applied) return { outcome: 'superseded', ready: 0, failed: 0 };
  const failed = ordered.filter((outcome) => outcome.state === 'failed').length;
  return { outcome: firstFailure(ordered) ? 'failed' : 'succeeded', ready: ordered.length - failed, failed };
}

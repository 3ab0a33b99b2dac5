import { condition, defineSignal, getExternalWorkflowHandle, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ImageActivities, ProcessUploadVerdict } from '../activities/images';
import { ImageIngestInput, ImageIngestResult, nextUploadCheckInMs } from '../src/domain/images';
import { workflowIds } from '../src/domain/workflowIds';

const images = proxyActivities<ImageActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Download, sniff, decode and encode two variants of at most 5 MB: seconds, not minutes.
const processing = proxyActivities<ImageActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * "An object may have arrived": from MinIO's bucket notification (through the API's storage-event
 * endpoint) or from the client's POST …/complete. A hint only: the workflow checks the store.
 */
export const uploadedSignal = defineSignal('uploaded');
/** The image was deleted through the API: stop waiting. */
export const imageDeletedSignal = defineSignal('imageDeleted');

/**
 * `image-ingest:<imageId>`: wait for the client's PUT until the URL expires, verify size and
 * magic bytes, derive the variants, then mark the image ready with `listing.image.uploaded`.
 * A bad or missing upload ends `failed` with a failure code, its object deleted, and no event.
 */
export async function imageIngest(input: ImageIngestInput): Promise<ImageIngestResult> {
  let hinted = false;
  let deleted = false;
  setHandler(uploadedSignal, () => {
    hinted = true;
  });
  setHandler(imageDeletedSignal, () => {
    deleted = true;
  });

  const deadline = Date.parse(input.uploadExpiresAt) + input.uploadGraceMs;
  for (;;) {
    // Reset before looking: a hint that arrives while we look makes the wait below return at once.
    hinted = false;
    const probe = await images.probeUpload(input);
    if (probe === 'deleted' || deleted) return { outcome: 'deleted' };
    if (probe === 'present') break;
    const waitMs = nextUploadCheckInMs(Date.now(), deadline, input.pollIntervalMs);
    if (waitMs === null) {
      const failure = { code: 'UPLOAD_EXPIRED' as const, message: `No upload arrived before the URL expired at ${input.uploadExpiresAt}.` };
      await images.failImage(input, failure);
      return { outcome: 'failed', failure };
    }
    await condition(() => hinted || deleted, waitMs);
  }

  let verdict: ProcessUploadVerdict;
  try {
    verdict = await processing.processUpload(input);
  } catch {
    // Retries are exhausted (the store or the decoder kept failing): the image must not stay
    // `processing` forever. The client can upload it again as a new image.
    verdict = { ok: false, failure: { code: 'PROCESSING_FAILED', message: 'The image could not be processed; upload it again.' } };
  }
  if (!verdict.ok) {
    await images.failImage(input, verdict.failure);
    return { outcome: 'failed', failure: verdict.failure };
  }
  const marked = await images.markImageReady(input, verdict.result);
  if (!marked) return { outcome: 'deleted' };
  return { outcome: 'ready', width: verdict.result.width, height: verdict.result.height };
}

/** `image-removal:<imageId>`: removes every object of a deleted image and ends its ingest. */
export async function imageRemoval(input: { orgId: string; listingId: string; imageId: string }): Promise<void> {
  try {
    await getExternalWorkflowHandle(workflowIds.imageIngest(input.imageId)).signal(imageDeletedSignal);
  } catch {
    // The ingest has already finished: nothing waits.
  }
  await images.removeObjects(input);
}

import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { RequestActivities } from '../activities/requests';
import type { ContactRequestInput, ContactRequestResult } from '../src/domain/contactRequests';

const ListingIdKey = defineSearchAttributeKey('ListingId', SearchAttributeType.KEYWORD);

// Reading a 10 MB mail from MinIO and parsing it takes seconds; a lost worker is found by the
// missed heartbeat and the step runs again elsewhere (it only reads).
const mail = proxyActivities<RequestActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * `contact-request:<message hash>`: the raw mail in MinIO → MIME → OpenImmo-Feedback XML → the
 * listing by `oobj_id` → `request.created`, or `request.parsing_failed` with a failure code. The
 * mail was stored and this workflow owed in one commit (src/requests/ingress.ts); the step records
 * idempotently per mail, so a crash anywhere ends with exactly one event.
 */
export async function contactRequest(input: ContactRequestInput): Promise<ContactRequestResult> {
  const result = await mail.processContactMail(input);
  if (result.listingId) upsertSearchAttributes([{ key: ListingIdKey, value: result.listingId }]);
  return result;
}

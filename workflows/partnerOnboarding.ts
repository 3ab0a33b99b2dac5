import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { condition, continueAsNew, defineSignal, proxyActivities, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { HeldAgencyKey, PartnerActivities } from '../activities/partners';
import { ConsentSignal, LinkIssuedSignal, ONBOARDING_SIGNALS, PartnerOnboardingInput, RedeliverSignal, extendDeadline } from '../src/domain/partners';
import { parseRetrySchedule } from '../src/domain/webhookRetry';

const partners = proxyActivities<PartnerActivities>({
  // A delivery attempt is bounded by WEBHOOK_TIMEOUT (10 s) and two short writes.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export const linkIssuedSignal = defineSignal<[LinkIssuedSignal]>(ONBOARDING_SIGNALS.linkIssued);
export const consentSignal = defineSignal<[ConsentSignal]>(ONBOARDING_SIGNALS.consent);
export const redeliverSignal = defineSignal<[RedeliverSignal]>(ONBOARDING_SIGNALS.redeliver);

const OrgIdKey = defineSearchAttributeKey('OrgId', SearchAttributeType.KEYWORD);

/** What a run left for the next one (continue-as-new): a newer link's deadline, a consent to act on. */
interface CarriedOver {
  deadlineMs: number;
  consent?: ConsentSignal;
}

export type PartnerOnboardingResult =
  | { status: 'expired' }
  | { status: 'delivered' | 'delivery_failed' | 'revoked' | 'partner_disabled' | 'already_delivered'; connectionId: string };

/**
 * `partner-onboarding:<partnerId>:<agencyId>` (DESIGN §6, reference 001): waits for the agency's
 * consent until its newest link expires, issues the agency key, and POSTs it to the partner's
 * webhook on PARTNER_KEY_RETRY_SCHEDULE. When every attempt fails the developer is e-mailed and
 * the key is kept (encrypted) for an operator's re-send. A new link or consent for the same
 * agency during delivery starts over in a fresh run. The key is in this history only as
 * ciphertext.
 */
export async function partnerOnboarding(input: PartnerOnboardingInput & { carriedOver?: CarriedOver }): Promise<PartnerOnboardingResult> {
  let deadlineMs = input.carriedOver?.deadlineMs ?? 0;
  let consent: ConsentSignal | undefined = input.carriedOver?.consent;
  let redeliver: RedeliverSignal | undefined;
  let linkArrived = false;
  setHandler(linkIssuedSignal, (link) => {
    deadlineMs = extendDeadline(deadlineMs, link.expiresAt);
    linkArrived = true;
  });
  setHandler(consentSignal, (given) => {
    consent = given;
  });
  setHandler(redeliverSignal, (request) => {
    redeliver = request;
  });
  const { partnerId, agencyId, keyMode } = input;
  const startOver = () => continueAsNew<typeof partnerOnboarding>({ ...input, carriedOver: { deadlineMs, consent } });

  while (!consent && !redeliver) {
    const remaining = deadlineMs - Date.now();
    if (remaining <= 0) return { status: 'expired' };
    linkArrived = false;
    await condition(() => consent !== undefined || redeliver !== undefined || linkArrived, remaining);
  }

  let issued;
  if (consent) {
    const given: ConsentSignal = consent;
    upsertSearchAttributes([{ key: OrgIdKey, value: given.orgId }]);
    issued = await partners.issueAgencyKey({ ...given, partnerId, agencyId, keyMode });
  } else {
    issued = await partners.reissueAgencyKey({ connectionId: (redeliver as RedeliverSignal).connectionId, keyMode });
  }
  consent = undefined;
  redeliver = undefined;
  linkArrived = false;
  if (issued.status !== 'issued') return { status: issued.status, connectionId: issued.connectionId };
  const key: HeldAgencyKey = { connectionId: issued.connectionId, keyCiphertext: issued.keyCiphertext };

  const delays = parseRetrySchedule(input.keyRetrySchedule);
  let attempt = 0;
  for (;;) {
    let outcome: 'delivered' | 'failed' | 'revoked' | 'partner_disabled' = 'failed';
    for (const delay of delays) {
      if (delay > 0) await sleep(delay);
      attempt += 1;
      ({ outcome } = await partners.deliverAgencyKey({ ...key, attempt }));
      if (outcome !== 'failed') break;
    }
    if (consent || linkArrived) return startOver();
    if (outcome !== 'failed') return { status: outcome, connectionId: key.connectionId };

    await partners.notifyKeyDeliveryFailed({ connectionId: key.connectionId });
    const woken = await condition(() => redeliver !== undefined || consent !== undefined || linkArrived, input.redeliveryWindowMs);
    if (!woken) return { status: 'delivery_failed', connectionId: key.connectionId };
    if (consent || linkArrived) return startOver();
    redeliver = undefined;
  }
}

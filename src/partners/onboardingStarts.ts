import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type { WorkflowStart } from '../domain/outbox';
import { ConsentSignal, LinkIssuedSignal, ONBOARDING_SIGNALS, PartnerOnboardingInput, RedeliverSignal, agencyKeyMode } from '../domain/partners';
import { workflowIds } from '../domain/workflowIds';
import { taskQueues } from '../temporal/taskQueues';

export type OnboardingConfig = Pick<Config, 'NODE_ENV' | 'TEMPORAL_TASK_QUEUE' | 'PARTNER_KEY_RETRY_SCHEDULE' | 'PARTNER_KEY_REDELIVERY_WINDOW'>;

type OnboardingSignal =
  | { name: typeof ONBOARDING_SIGNALS.linkIssued; args: [LinkIssuedSignal] }
  | { name: typeof ONBOARDING_SIGNALS.consent; args: [ConsentSignal] }
  | { name: typeof ONBOARDING_SIGNALS.redeliver; args: [RedeliverSignal] };

/**
 * The outbox row that signals `partner-onboarding:<partnerId>:<agencyId>`, starting it when no run
 * holds the id. Every signal is its own row (`startKey`), owed in the transaction that caused it.
 */
export function onboardingSignal(config: OnboardingConfig, partnerId: string, agencyId: string, signal: OnboardingSignal, orgId?: string): WorkflowStart {
  const input: PartnerOnboardingInput = {
    partnerId,
    agencyId,
    keyMode: agencyKeyMode(config.NODE_ENV),
    keyRetrySchedule: config.PARTNER_KEY_RETRY_SCHEDULE,
    redeliveryWindowMs: config.PARTNER_KEY_REDELIVERY_WINDOW,
  };
  return {
    workflowType: 'partnerOnboarding',
    workflowId: workflowIds.partnerOnboarding(partnerId, agencyId),
    taskQueue: taskQueues(config).main,
    args: [input],
    searchAttributes: { PartnerId: [partnerId], AgencyId: [agencyId], ...(orgId ? { OrgId: [orgId] } : {}) },
    signal,
    startKey: `${signal.name}:${'linkId' in signal.args[0] ? signal.args[0].linkId : randomUUID()}`,
  };
}

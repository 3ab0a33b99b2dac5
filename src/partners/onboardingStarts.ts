import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { WorkflowStart } from '../domain/outbox';
import { ConsentSignal, LinkIssuedSignal, ONBOARDING_SIGNALS, PartnerOnboardingInput, RedeliverSignal, agencyKeyMode } from '../domain/partners';
import { workflowIds } from '../domain/workflowIds';
import { enqueueWorkflowStart } from '../outbox/service';
import { taskQueues } from '../temporal/taskQueues';

export type OnboardingConfig = Pick<Config, 'NODE_ENV' | 'TEMPORAL_TASK_QUEUE' | 'PARTNER_KEY_RETRY_SCHEDULE' | 'PARTNER_KEY_REDELIVERY_WINDOW'>;

/** Whose onboarding a signal is for; `orgId` once an agency has consented. */
export interface OnboardingTarget {
  partnerId: string;
  agencyId: string;
  orgId?: string;
}

type OnboardingSignal =
  | { name: typeof ONBOARDING_SIGNALS.linkIssued; args: [LinkIssuedSignal] }
  | { name: typeof ONBOARDING_SIGNALS.consent; args: [ConsentSignal] }
  | { name: typeof ONBOARDING_SIGNALS.redeliver; args: [RedeliverSignal] };

/**
 * The outbox row that signals `partner-onboarding:<partnerId>:<agencyId>`, starting it when no run
 * holds the id. Every signal is its own row: a link's and a consent's keyed by the link, so owing
 * one twice keeps one row; a re-send is keyed afresh each time.
 */
function onboardingSignal(config: OnboardingConfig, target: OnboardingTarget, signal: OnboardingSignal, startKey?: string): WorkflowStart {
  const { partnerId, agencyId, orgId } = target;
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
    startKey: startKey ?? `${signal.name}:${'linkId' in signal.args[0] ? signal.args[0].linkId : randomUUID()}`,
  };
}

function owe(trx: Db, config: OnboardingConfig, target: OnboardingTarget, signal: OnboardingSignal, startKey?: string): Promise<void> {
  return enqueueWorkflowStart(trx, onboardingSignal(config, target, signal, startKey), target.orgId ?? null);
}

/** Owes the onboarding, in the caller's transaction, the news of a link, a consent or a re-send. */
export const oweOnboarding = {
  linkIssued: (trx: Db, config: OnboardingConfig, target: OnboardingTarget, link: LinkIssuedSignal) =>
    owe(trx, config, target, { name: ONBOARDING_SIGNALS.linkIssued, args: [link] }),
  /** `repair` owes a consent once more, under a key of its own (see reoweUnansweredConsents). */
  consent: (trx: Db, config: OnboardingConfig, target: OnboardingTarget & { orgId: string }, consent: ConsentSignal, options: { repair?: boolean } = {}) =>
    owe(trx, config, target, { name: ONBOARDING_SIGNALS.consent, args: [consent] }, options.repair ? `consent-repair:${consent.linkId}` : undefined),
  redeliver: (trx: Db, config: OnboardingConfig, target: OnboardingTarget, request: RedeliverSignal) =>
    owe(trx, config, target, { name: ONBOARDING_SIGNALS.redeliver, args: [request] }),
};

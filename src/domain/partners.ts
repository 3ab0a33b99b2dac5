/**
 * CRM partner onboarding (reference 001), the decisions only. PURE: imported by the
 * partnerOnboarding workflow, so no I/O, no clock and no node built-ins.
 */
import type { Scope } from './scopes';

/** What an agency key lets a partner do: push listings (read, write, delete) and read events. */
export const AGENCY_KEY_SCOPES: Scope[] = ['listings:delete', 'events:read'];

/** `sk_live_` keys in production, `sk_test_` everywhere else. */
export function agencyKeyMode(nodeEnv: string): 'live' | 'test' {
  return nodeEnv === 'production' ? 'live' : 'test';
}

/** Reference 001: "Your server must return a 200 OK". Nothing else counts, not even 201 or 204. */
export function isKeyDeliveryAccepted(statusCode: number | null): boolean {
  return statusCode === 200;
}

/** A partner's own id for an agency: any non-empty string up to 200 characters. */
export const AGENCY_ID_MAX_LENGTH = 200;

/** The arguments of a partnerOnboarding run: settings are fixed at start, so replays agree. */
export interface PartnerOnboardingInput {
  partnerId: string;
  agencyId: string;
  keyMode: 'live' | 'test';
  keyRetrySchedule: string;
  redeliveryWindowMs: number;
}

export const ONBOARDING_SIGNALS = {
  /** A new connect link for this partner and agency: the wait for consent lasts until it expires. */
  linkIssued: 'linkIssued',
  /** The agency confirmed on the connect page (the API checked the link and recorded it). */
  consent: 'consent',
  /** An operator asked to re-send the agency key (`immoflow partner redeliver`). */
  redeliver: 'redeliver',
} as const;

export interface LinkIssuedSignal {
  linkId: string;
  expiresAt: string;
}

export interface ConsentSignal {
  linkId: string;
  orgId: string;
  userId: string;
}

export interface RedeliverSignal {
  connectionId: string;
}

/** The consent deadline after a new link: a superseding link may only extend the wait. */
export function extendDeadline(currentMs: number, expiresAtIso: string): number {
  const expires = Date.parse(expiresAtIso);
  return Number.isFinite(expires) ? Math.max(currentMs, expires) : currentMs;
}

/** Why a key delivery attempt failed, in the words the developer e-mail uses. */
export function describeDeliveryFailure(statusCode: number | null, error: string | null): string {
  if (statusCode !== null) return `the webhook answered HTTP ${statusCode} (only 200 OK counts as received)`;
  return error ? `the request failed: ${error}` : 'the request failed';
}

/**
 * The shape of a webhook delivery's workflow and who makes its first attempt. PURE: imported by
 * workflow code.
 */
import { parseRetrySchedule } from './webhookRetry';

/** One attempt's result. Plain JSON: it travels in workflow arguments and in the outbox. */
export interface AttemptResult {
  /** `parked`: no attempt was made; the delivery waits behind its subscription's open circuit. */
  outcome: 'succeeded' | 'gone' | 'retry' | 'disabled' | 'parked';
  statusCode: number | null;
  retryAfterMs: number | null;
  /**
   * For a retry: when the next attempt is due (epoch ms), which the attempt chose (schedule,
   * jitter, Retry-After) and recorded as the delivery's next_attempt_at in its own transaction;
   * null when the schedule has no attempt left. Absolute, so that a run started late (the relay
   * delays the start of a delivery its first attempt failed) waits only what is left. Absent from
   * the results of runs begun before (their workflow schedules the next attempt itself), and from
   * a first attempt an older relay recorded (the retrying activity then makes attempt 2 at once).
   */
  nextAttemptAtMs?: number | null;
}

/** The workflow type of a delivery's run (workflows/webhookDelivery.ts), as the outbox names it. */
export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDelivery';

/** The arguments of one webhookDelivery workflow (`webhook-delivery:<deliveryId>`). */
export interface WebhookDeliveryInput {
  orgId: string;
  webhookId: string;
  deliveryId: string;
  retrySchedule: string;
  /** Attempt 1, when the outbox relay already made it (it did not succeed, or there would be no workflow). */
  firstAttempt?: AttemptResult;
}

/**
 * The task queue of a delivery's activities (its attempts, with their own slots and rate), given
 * the queue its workflow runs on: the main queue's, `<main>-webhooks`. A run begun when the
 * workflows themselves ran on `<main>-webhooks` keeps its activities there.
 */
export function webhookActivityQueue(workflowTaskQueue: string): string {
  return workflowTaskQueue.endsWith(WEBHOOK_QUEUE_SUFFIX) ? workflowTaskQueue : `${workflowTaskQueue}${WEBHOOK_QUEUE_SUFFIX}`;
}

const WEBHOOK_QUEUE_SUFFIX = '-webhooks';

/** Time an attempt needs beyond its POST's timeout: reading the delivery, writing its answer. */
export const ATTEMPT_WRITE_MARGIN_MS = 10_000;

/**
 * Whether the outbox relay may make this delivery's first attempt itself instead of starting its
 * workflow: only an immediate first attempt that has not been made yet, and only when the attempt
 * fits inside the relay's claim on the row, so that no other relay can claim it while it runs.
 * (A relay claims only rows of its own task queue, so the attempt runs with the config of the
 * deployment that owes it: src/outbox/relay.ts.)
 */
export function relayMayMakeFirstAttempt(input: { delivery: WebhookDeliveryInput; timeoutMs: number; leaseMs: number }): boolean {
  if (input.delivery.firstAttempt) return false;
  if (input.timeoutMs + ATTEMPT_WRITE_MARGIN_MS > input.leaseMs) return false;
  const [firstDelay] = parseRetrySchedule(input.delivery.retrySchedule);
  return firstDelay === 0;
}

/**
 * The latest moment a first attempt claimed at `claimedAtMs` may begin: after it, the attempt
 * could outlive the claim, and the delivery's workflow must make it instead.
 */
export function latestFirstAttemptStart(input: { claimedAtMs: number; leaseMs: number; timeoutMs: number }): number {
  return input.claimedAtMs + input.leaseMs - input.timeoutMs - ATTEMPT_WRITE_MARGIN_MS;
}

/** The signal a closing circuit sends a parked delivery's workflow (or starts it with). */
export const RELEASE_FROM_CIRCUIT_SIGNAL = 'releaseFromCircuit';

/** What a subscription's circuit lets one delivery's due attempt do (src/webhooks/circuit.ts). */
export type CircuitVerdict =
  /** The circuit is closed, or this delivery is its probe: attempt. */
  | 'attempt'
  /** The circuit is open and nobody probes it: this delivery becomes the probe, and attempts. */
  | 'probe'
  /** The circuit is open and another delivery probes it: wait, without an attempt. */
  | 'park';

export interface CircuitState {
  /** WEBHOOK_CIRCUIT_THRESHOLD; 0 never opens the circuit. */
  threshold: number;
  /** WEBHOOK_CIRCUIT_OPEN_AFTER: how long every attempt must have failed, at least. */
  minFailingMs: number;
  failedAttemptsInARow: number;
  /** When the first of those failed attempts was recorded (epoch ms), or null. */
  failingSinceMs: number | null;
  probeDeliveryId: string | null;
}

/**
 * Open once at least `threshold` attempts in a row failed over at least `minFailingMs`: a burst
 * of failures shorter than that (a subscriber that refuses a first attempt, then takes its retry
 * a second later) resets before it opens anything; a subscriber that is down does not.
 */
export function isCircuitOpen(state: Omit<CircuitState, 'probeDeliveryId'>, nowMs: number): boolean {
  if (state.threshold === 0 || state.failedAttemptsInARow < state.threshold || state.failingSinceMs === null) return false;
  return nowMs - state.failingSinceMs >= state.minFailingMs;
}

export function circuitVerdict(state: CircuitState, deliveryId: string, nowMs: number): CircuitVerdict {
  if (!isCircuitOpen(state, nowMs)) return 'attempt';
  if (state.probeDeliveryId === null) return 'probe';
  return state.probeDeliveryId === deliveryId ? 'attempt' : 'park';
}

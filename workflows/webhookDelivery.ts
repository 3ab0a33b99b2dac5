import { condition, defineSignal, patched, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { AttemptResult, SettledRetries, WebhookActivities } from '../activities/webhooks';
import { RELEASE_FROM_CIRCUIT_SIGNAL, type WebhookDeliveryInput, webhookActivityQueue } from '../src/domain/webhookDelivery';
import { nextAttemptDelay, parseRetrySchedule } from '../src/domain/webhookRetry';

// Infrastructure hiccups (Postgres, the activity worker) are retried by Temporal with this
// back-off. A subscriber's failure is a business retry: the attempt records it and names its own
// next retry delay (the schedule, jitter, Retry-After and the worker's pace), which Temporal
// honours over this policy. The activities run on the webhooks queue, with its own slots and
// rate, whichever queue the workflow runs on.
function webhookActivities(): WebhookActivities {
  return proxyActivities<WebhookActivities>({
    taskQueue: webhookActivityQueue(workflowInfo().taskQueue),
    // An attempt is bounded by WEBHOOK_TIMEOUT (10 s) plus two short writes; a worker that dies
    // mid-attempt is noticed after this, not after minutes.
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
}

/** Sent when the subscription's circuit closes (src/webhooks/circuit.ts), to a parked delivery's run or as its start. */
export const releaseFromCircuit = defineSignal(RELEASE_FROM_CIRCUIT_SIGNAL);

/** Retries are the tries of one activity (issue 16): no workflow task or timer per retry. */
const RETRIES_AS_ACTIVITY_RETRIES = 'webhook-retries-as-activity-retries';

export interface WebhookDeliveryResult {
  status: 'succeeded' | 'failed';
  attempts: number;
  reason?: 'gone' | 'disabled' | 'exhausted';
}

/**
 * `webhook-delivery:<deliveryId>`: the attempts after the first, until one settles the delivery,
 * then what its end requires (disable a subscription that is gone or failing, tell its owner).
 * When the outbox relay already made attempt 1 (src/webhooks/firstAttempts.ts), it is in the
 * input, the run started delayed until attempt 2 was due, and the workflow goes on from there.
 */
export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const webhooks = webhookActivities();
  let releases = 0;
  setHandler(releaseFromCircuit, () => {
    releases += 1;
  });
  if (!patched(RETRIES_AS_ACTIVITY_RETRIES)) return deliverWithWorkflowTimers(webhooks, input);
  const schedule = parseRetrySchedule(input.retrySchedule);
  if (schedule[0] > 0 && !input.firstAttempt) await sleep(schedule[0]);
  const first = input.firstAttempt;
  const settledByFirst = first && (first.outcome !== 'retry' || first.nextAttemptAtMs === null);
  if (settledByFirst) return settle(webhooks, input, first, 1);
  for (;;) {
    // Counted before the activity: a release that arrives while it parks the delivery still counts.
    const releasesBefore = releases;
    const settled: SettledRetries = await webhooks.retryUntilSettled(input.deliveryId, input.retrySchedule);
    if (settled.outcome !== 'parked') return settle(webhooks, input, settled, settled.attemptNumber);
    // Parked behind the subscription's open circuit: no timer, no task, until it closes.
    await condition(() => releases > releasesBefore);
  }
}

/** The end of a delivery whose last attempt (number `attempt`) had this result. */
async function settle(webhooks: WebhookActivities, input: WebhookDeliveryInput, result: AttemptResult, attempt: number): Promise<WebhookDeliveryResult> {
  // A success was recorded as complete by the attempt itself.
  if (result.outcome === 'succeeded') return { status: 'succeeded', attempts: attempt };
  if (result.outcome === 'disabled') {
    await webhooks.failDelivery(input.deliveryId, false);
    return { status: 'failed', attempts: attempt - 1, reason: 'disabled' };
  }
  if (result.outcome === 'gone') {
    await webhooks.disableWebhook(input.webhookId, 'the endpoint answered 410 Gone');
    await webhooks.failDelivery(input.deliveryId, false);
    await webhooks.notifyWebhookDisabled(input.webhookId);
    return { status: 'failed', attempts: attempt, reason: 'gone' };
  }
  const { disabledWebhook } = await webhooks.failDelivery(input.deliveryId, true);
  if (disabledWebhook) await webhooks.notifyWebhookDisabled(input.webhookId);
  return { status: 'failed', attempts: attempt, reason: 'exhausted' };
}

/**
 * Runs begun before RETRIES_AS_ACTIVITY_RETRIES: attempt, record, sleep on the retry schedule, in
 * the workflow. Their histories replay through here (test/integration/webhooks/deliveryHistory).
 */
async function deliverWithWorkflowTimers(webhooks: WebhookActivities, input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const schedule = parseRetrySchedule(input.retrySchedule);
  if (schedule[0] > 0 && !input.firstAttempt) await sleep(schedule[0]);
  for (let attempt = 1; ; attempt += 1) {
    const result = attempt === 1 && input.firstAttempt ? input.firstAttempt : await webhooks.attemptDelivery(input.deliveryId, attempt);
    if (result.outcome !== 'retry') return settle(webhooks, input, result, attempt);
    const delay = nextAttemptDelay({ schedule, attemptNumber: attempt, retryAfterMs: result.retryAfterMs, random: Math.random() });
    if (delay === null) return settle(webhooks, input, result, attempt);
    await webhooks.scheduleNextAttempt(input.deliveryId, delay);
    await sleep(delay);
  }
}

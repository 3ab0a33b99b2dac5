import { proxyActivities, sleep } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks';
import type { WebhookDeliveryInput } from '../src/domain/webhookDelivery';
import { nextAttemptDelay, parseRetrySchedule } from '../src/domain/webhookRetry';

// Infrastructure hiccups (Postgres, the activity worker) are retried by Temporal; the subscriber's
// failures are business retries, made visible as explicit attempts with durable timers below.
const webhooks = proxyActivities<WebhookActivities>({
  // An attempt is bounded by WEBHOOK_TIMEOUT (10 s) plus two short writes; a worker that dies
  // mid-attempt is noticed after this, not after minutes.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export interface WebhookDeliveryResult {
  status: 'succeeded' | 'failed';
  attempts: number;
  reason?: 'gone' | 'disabled' | 'exhausted';
}

/**
 * `webhook-delivery:<deliveryId>`: attempt, record, sleep on the retry schedule, until done. When
 * the outbox relay already made attempt 1 (src/webhooks/firstAttempts.ts), it is in the input and
 * the workflow goes on from its result.
 */
export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const schedule = parseRetrySchedule(input.retrySchedule);
  if (schedule[0] > 0 && !input.firstAttempt) await sleep(schedule[0]);
  for (let attempt = 1; ; attempt += 1) {
    const result = attempt === 1 && input.firstAttempt ? input.firstAttempt : await webhooks.attemptDelivery(input.deliveryId, attempt, input.retrySchedule);
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
    // The attempt chose and recorded its successor's time. A result recorded before attempts did
    // (in the history of a run begun then) leaves it to the workflow, as it was: replay follows
    // the recorded result, so no patch is needed.
    const scheduledByAttempt = result.nextAttemptAtMs !== undefined;
    // Workflow time: the replay-safe time of this workflow task. A run whose start was delayed
    // until the attempt was due has nothing left to wait.
    const delay = scheduledByAttempt
      ? result.nextAttemptAtMs == null ? null : Math.max(0, result.nextAttemptAtMs - Date.now())
      : nextAttemptDelay({ schedule, attemptNumber: attempt, retryAfterMs: result.retryAfterMs, random: Math.random() });
    if (delay === null) {
      const { disabledWebhook } = await webhooks.failDelivery(input.deliveryId, true);
      if (disabledWebhook) await webhooks.notifyWebhookDisabled(input.webhookId);
      return { status: 'failed', attempts: attempt, reason: 'exhausted' };
    }
    if (!scheduledByAttempt) await webhooks.scheduleNextAttempt(input.deliveryId, delay);
    if (delay > 0) await sleep(delay);
  }
}

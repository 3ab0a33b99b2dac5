import { ApplicationFailure, Context } from '@temporalio/activity';
import nodemailer from 'nodemailer';
import type { AttemptResult } from '../src/domain/webhookDelivery';
import { createDeliveryAttempts } from '../src/webhooks/attempts';
import { createCircuit } from '../src/webhooks/circuit';
import type { DeliveryRow, WebhookRow } from '../src/webhooks/dto';
import type { ActivityDeps } from './deps';

export type { AttemptResult } from '../src/domain/webhookDelivery';

/** How a delivery's retries ended: the last attempt's result and its number. */
export type SettledRetries = AttemptResult & { attemptNumber: number };

/** The failure type of a try whose subscriber did not take the delivery; Temporal retries it on the schedule. */
const SUBSCRIBER_FAILED = 'WebhookSubscriberFailed';
export { INTERRUPTED_TRY } from '../src/webhooks/attempts';

/**
 * Webhook delivery attempts and the failure policy (DESIGN §7). Deliveries themselves are created
 * with their event, in its transaction (`appendEvent`); their first attempt is usually made by the
 * outbox relay (src/webhooks/firstAttempts.ts), and this workflow's activities make the rest.
 */
export function createWebhookActivities({ db, config, logger, retryPacer }: ActivityDeps) {
  const attempts = createDeliveryAttempts({ db, config, logger, retryPacer });
  const circuit = createCircuit(config);
  const mailer = nodemailer.createTransport(config.SMTP_URL);

  return {
    /**
     * One signed POST, recorded in the attempt log; a success completes the delivery in the same
     * transaction. Re-reads the subscription first: a disabled one is not called. For runs begun
     * before retries became retryUntilSettled's tries.
     */
    async attemptDelivery(deliveryId: string, attemptNumber: number): Promise<AttemptResult> {
      return attempts.attempt(deliveryId, attemptNumber, Context.current().info.attempt);
    },

    /**
     * Makes a delivery's attempts until one settles it (success, 410 Gone, a disabled subscription,
     * or the schedule exhausted), each try one attempt: a failed attempt records its successor's
     * time and fails the try with that as Temporal's next retry delay. So a retry costs Temporal
     * one activity task and no workflow task, and the Temporal UI shows the pending activity with
     * its attempt count and the subscriber's last answer.
     */
    async retryUntilSettled(deliveryId: string, retrySchedule: string): Promise<SettledRetries> {
      const { info } = Context.current();
      const attempt = await attempts.retry(deliveryId, retrySchedule, { key: `${info.workflowExecution?.runId}:${info.activityId}`, attempt: info.attempt });
      if (!attempt.made && 'completed' in attempt) {
        const { status, attemptNumber } = attempt.completed;
        return { outcome: status === 'succeeded' ? 'succeeded' : 'disabled', statusCode: null, retryAfterMs: null, attemptNumber };
      }
      if (!attempt.made && 'parked' in attempt) return { outcome: 'parked', statusCode: null, retryAfterMs: null, attemptNumber: attempt.parked.attemptNumber };
      if (!attempt.made) {
        throw ApplicationFailure.create({ type: SUBSCRIBER_FAILED, message: 'the next attempt is not due yet', nextRetryDelay: attempt.remainingMs });
      }
      const { result, attemptNumber } = attempt;
      if (result.outcome === 'retry' && typeof result.nextAttemptAtMs === 'number') {
        const answer = result.statusCode === null ? 'no answer' : `HTTP ${result.statusCode}`;
        throw ApplicationFailure.create({
          type: SUBSCRIBER_FAILED,
          message: `attempt ${attemptNumber}: ${answer}; attempt ${attemptNumber + 1} at ${new Date(result.nextAttemptAtMs).toISOString()}`,
          nextRetryDelay: Math.max(1, result.nextAttemptAtMs - Date.now()),
        });
      }
      return { ...result, attemptNumber };
    },

    /** For runs begun before retries became retryUntilSettled's tries. */
    async scheduleNextAttempt(deliveryId: string, delayMs: number): Promise<void> {
      await db('webhook_deliveries').where({ id: deliveryId }).update({ next_attempt_at: new Date(Date.now() + delayMs) });
    },

    /**
     * Ends a delivery as failed. An exhausted one adds to the subscription's consecutive failures
     * (a success resets them); at WEBHOOK_FAILURE_THRESHOLD it is disabled. So is a subscription
     * whose circuit's probe exhausted its schedule while every other delivery waited: nothing got
     * through for a whole retry schedule (src/webhooks/circuit.ts). A disabled subscription's
     * parked deliveries are released, to end as disabled.
     */
    async failDelivery(deliveryId: string, exhausted: boolean): Promise<{ disabledWebhook: boolean }> {
      return db.transaction(async (trx) => {
        const [delivery]: DeliveryRow[] = await trx('webhook_deliveries')
          .where({ id: deliveryId, status: 'pending' })
          .update({ status: 'failed', completed_at: trx.fn.now(), next_attempt_at: null })
          .returning('*');
        if (!delivery) return { disabledWebhook: false };
        const webhook: WebhookRow = await trx('webhooks').where({ id: delivery.webhook_id }).forNoKeyUpdate().first();
        const consecutiveFailures = webhook.consecutive_failures + (exhausted ? 1 : 0);
        const wasProbe = webhook.probe_delivery_id === deliveryId;
        const reason = !webhook.active || !exhausted
          ? null
          : wasProbe
            ? `its circuit stayed open while delivery ${deliveryId}, its probe, failed every retry`
            : consecutiveFailures >= config.WEBHOOK_FAILURE_THRESHOLD
              ? `${consecutiveFailures} consecutive deliveries failed after every retry`
              : null;
        if (exhausted || wasProbe) {
          await trx('webhooks')
            .where({ id: webhook.id })
            .update({
              consecutive_failures: consecutiveFailures,
              ...(wasProbe ? { probe_delivery_id: null } : {}),
              ...(reason ? { active: false, disabled_reason: reason, updated_at: trx.fn.now() } : {}),
            });
        }
        if (!webhook.active || reason) await circuit.releaseParked(trx, webhook.id);
        return { disabledWebhook: reason !== null };
      });
    },

    /** 410 Gone: the subscriber asked us to stop. Its parked deliveries end as disabled. */
    async disableWebhook(webhookId: string, reason: string): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('webhooks').where({ id: webhookId }).update({ active: false, disabled_reason: reason, updated_at: trx.fn.now() });
        await circuit.releaseParked(trx, webhookId);
      });
    },

    /** Tells the organisation's developer contact that a subscription was disabled, and how to resume. */
    async notifyWebhookDisabled(webhookId: string): Promise<boolean> {
      const row = await db('webhooks as w')
        .join('organizations as o', 'o.id', 'w.org_id')
        .where('w.id', webhookId)
        .first('w.id', 'w.url', 'w.disabled_reason', 'o.name as org_name', 'o.developer_contact_email as contact');
      if (!row?.contact) return false;
      await mailer.sendMail({
        from: config.MAIL_FROM,
        to: row.contact,
        subject: `Immoflow webhook disabled: ${row.url}`,
        text: [
          `Hello ${row.org_name} team,`,
          '',
          `Immoflow disabled your webhook ${row.id} (${row.url}).`,
          `Reason: ${row.disabled_reason}.`,
          '',
          'No further events are sent to it. Fix the endpoint, then re-enable it with',
          `PATCH /api/v1/webhooks/${row.id} {"active": true}; failed deliveries can be redelivered with`,
          `POST /api/v1/webhooks/${row.id}/deliveries/{delivery_id}/redeliver.`,
        ].join('\n'),
      });
      return true;
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;

import { Context } from '@temporalio/activity';
import nodemailer from 'nodemailer';
import { classifyResponse, parseRetryAfter } from '../src/domain/webhookRetry';
import { createGuardedDispatcher, guardedFetch, resolverFromConfig } from '../src/http/ssrfGuard';
import type { DeliveryRow, WebhookRow } from '../src/webhooks/dto';
import { createSecretBox } from '../src/webhooks/secretCrypto';
import { signedHeaders } from '../src/webhooks/signing';
import type { ActivityDeps } from './deps';

const RESPONSE_BODY_LIMIT = 2048;

/** The logged error of a try whose worker stopped before it recorded the endpoint's answer. */
export const INTERRUPTED_TRY = 'Interrupted: the worker stopped before this attempt recorded its answer; the endpoint may have received the request.';

/** What one attempt needs of a delivery and its subscription, read in one join. */
type DeliveryTarget = Pick<DeliveryRow, 'webhook_id' | 'envelope' | 'event_id' | 'event_name'> &
  Pick<WebhookRow, 'url' | 'active' | 'deleted_at' | 'consecutive_failures' | 'secret_ciphertext' | 'previous_secret_ciphertext' | 'previous_secret_expires_at'>;

export interface AttemptResult {
  outcome: 'succeeded' | 'gone' | 'retry' | 'disabled';
  statusCode: number | null;
  retryAfterMs: number | null;
}

/**
 * Webhook delivery attempts and the failure policy (DESIGN §7). Deliveries themselves are created
 * with their event, in its transaction (`appendEvent`). Every outbound call goes through the SSRF
 * guard.
 */
export function createWebhookActivities({ db, config, logger }: ActivityDeps) {
  const secrets = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
  const mailer = nodemailer.createTransport(config.SMTP_URL);
  // One pooled, guarded dispatcher per worker: every connection is checked and pinned at connect.
  const policy = { allowTargets: config.WEBHOOK_ALLOW_TARGETS, resolve: resolverFromConfig(config) };
  const dispatcher = createGuardedDispatcher(policy);

  function signingSecrets(webhook: Pick<WebhookRow, 'secret_ciphertext' | 'previous_secret_ciphertext' | 'previous_secret_expires_at'>): string[] {
    const current = secrets.decrypt(webhook.secret_ciphertext);
    const previousValid = webhook.previous_secret_ciphertext && webhook.previous_secret_expires_at && webhook.previous_secret_expires_at.getTime() > Date.now();
    return previousValid ? [current, secrets.decrypt(webhook.previous_secret_ciphertext as string)] : [current];
  }

  return {
    /** One signed POST. Re-reads the subscription first: a disabled one is not called. */
    async attemptDelivery(deliveryId: string, attemptNumber: number): Promise<AttemptResult> {
      const target: DeliveryTarget | undefined = await db('webhook_deliveries as d')
        .join('webhooks as w', 'w.id', 'd.webhook_id')
        .where('d.id', deliveryId)
        .first(
          'd.webhook_id',
          'd.envelope',
          'd.event_id',
          'd.event_name',
          'w.url',
          'w.active',
          'w.deleted_at',
          'w.consecutive_failures',
          'w.secret_ciphertext',
          'w.previous_secret_ciphertext',
          'w.previous_secret_expires_at',
        );
      if (!target || !target.active || target.deleted_at) return { outcome: 'disabled', statusCode: null, retryAfterMs: null };

      const rawBody = JSON.stringify(target.envelope);
      const headers = signedHeaders({
        rawBody,
        secrets: signingSecrets(target),
        deliveryEventId: target.event_id,
        eventName: target.event_name,
        webhookMessageId: target.event_id,
        timestampSeconds: Math.floor(Date.now() / 1000),
      });
      const started = Date.now();
      let statusCode: number | null = null;
      let responseBody: string | null = null;
      let error: string | null = null;
      let retryAfterMs: number | null = null;
      try {
        const response = await guardedFetch(target.url, { method: 'POST', headers, body: rawBody }, { ...policy, timeoutMs: config.WEBHOOK_TIMEOUT, dispatcher });
        statusCode = response.status;
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
        responseBody = (await response.text()).slice(0, RESPONSE_BODY_LIMIT);
      } catch (caught) {
        error = caught instanceof Error ? `${caught.name}: ${caught.message}`.slice(0, 500) : String(caught);
      }
      const durationMs = Date.now() - started;
      const outcome = classifyResponse(statusCode);
      const tryNumber = Context.current().info.attempt;
      await db.transaction(async (trx) => {
        // Earlier tries of this attempt that left no row died after they may have sent the POST:
        // the log says so rather than pretend the subscriber saw nothing.
        if (tryNumber > 1) {
          await trx('delivery_attempts')
            .insert(
              Array.from({ length: tryNumber - 1 }, (_, index) => ({
                delivery_id: deliveryId,
                attempt_number: attemptNumber,
                try_number: index + 1,
                status_code: null,
                duration_ms: 0,
                response_body: null,
                error: INTERRUPTED_TRY,
              })),
            )
            .onConflict(['delivery_id', 'attempt_number', 'try_number'])
            .ignore();
        }
        await trx('delivery_attempts')
          .insert({ delivery_id: deliveryId, attempt_number: attemptNumber, try_number: tryNumber, status_code: statusCode, duration_ms: durationMs, response_body: responseBody, error })
          .onConflict(['delivery_id', 'attempt_number', 'try_number'])
          .merge();
        // A success completes the delivery in the same transaction: the common path is one activity.
        const completion = outcome === 'succeeded' ? { status: 'succeeded', completed_at: trx.fn.now() } : {};
        await trx('webhook_deliveries')
          .where({ id: deliveryId })
          .update({ attempt_count: attemptNumber, last_status_code: statusCode, next_attempt_at: null, ...completion });
        if (outcome === 'succeeded' && target.consecutive_failures > 0) {
          await trx('webhooks').where({ id: target.webhook_id }).update({ consecutive_failures: 0 });
        }
      });
      logger.debug({ deliveryId, attemptNumber, statusCode, outcome, durationMs }, 'webhook attempt');
      return { outcome, statusCode, retryAfterMs };
    },

    async scheduleNextAttempt(deliveryId: string, delayMs: number): Promise<void> {
      await db('webhook_deliveries').where({ id: deliveryId }).update({ next_attempt_at: new Date(Date.now() + delayMs) });
    },

    /**
     * Ends a delivery as failed. An exhausted one adds to the subscription's consecutive failures
     * (a success resets them, in attemptDelivery); at WEBHOOK_FAILURE_THRESHOLD it is disabled.
     */
    async failDelivery(deliveryId: string, exhausted: boolean): Promise<{ disabledWebhook: boolean }> {
      return db.transaction(async (trx) => {
        const [delivery]: DeliveryRow[] = await trx('webhook_deliveries')
          .where({ id: deliveryId, status: 'pending' })
          .update({ status: 'failed', completed_at: trx.fn.now(), next_attempt_at: null })
          .returning('*');
        if (!delivery || !exhausted) return { disabledWebhook: false };
        const [webhook]: WebhookRow[] = await trx('webhooks')
          .where({ id: delivery.webhook_id })
          .update({ consecutive_failures: trx.raw('consecutive_failures + 1') })
          .returning('*');
        if (webhook.active && webhook.consecutive_failures >= config.WEBHOOK_FAILURE_THRESHOLD) {
          await trx('webhooks')
            .where({ id: webhook.id })
            .update({ active: false, disabled_reason: `${webhook.consecutive_failures} consecutive deliveries failed after every retry`, updated_at: trx.fn.now() });
          return { disabledWebhook: true };
        }
        return { disabledWebhook: false };
      });
    },

    /** 410 Gone: the subscriber asked us to stop. */
    async disableWebhook(webhookId: string, reason: string): Promise<void> {
      await db('webhooks').where({ id: webhookId }).update({ active: false, disabled_reason: reason, updated_at: db.fn.now() });
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

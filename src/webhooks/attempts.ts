import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { type AttemptResult, isCircuitOpen } from '../domain/webhookDelivery';
import { classifyResponse, nextAttemptDelay, pacedRetrySlot, parseRetryAfter, parseRetrySchedule } from '../domain/webhookRetry';
import { createGuardedDispatcher, guardedFetch, resolverFromConfig } from '../http/ssrfGuard';
import { circuitState, createCircuit } from './circuit';
import type { DeliveryRow, WebhookRow } from './dto';
import { createSecretBox } from './secretCrypto';
import { signedHeaders } from './signing';

const RESPONSE_BODY_LIMIT = 2048;

/** The logged error of a try whose worker stopped before it recorded the endpoint's answer. */
export const INTERRUPTED_TRY = 'Interrupted: the worker stopped before this attempt recorded its answer; the endpoint may have received the request.';

/** What the circuit of a delivery's subscription needs to decide whether it may be parked. */
type CircuitTarget = Pick<DeliveryRow, 'webhook_id'> & Pick<WebhookRow, 'url' | 'active' | 'deleted_at' | 'failed_attempts_in_a_row' | 'failing_since' | 'probe_delivery_id'>;

const CIRCUIT_COLUMNS = ['d.webhook_id', 'w.url', 'w.active', 'w.deleted_at', 'w.failed_attempts_in_a_row', 'w.failing_since', 'w.probe_delivery_id'];

/** What one attempt needs of a delivery and its subscription, read in one join. */
type DeliveryTarget = CircuitTarget &
  Pick<DeliveryRow, 'envelope' | 'event_id' | 'event_name'> &
  Pick<WebhookRow, 'consecutive_failures' | 'secret_ciphertext' | 'previous_secret_ciphertext' | 'previous_secret_expires_at'>;

const TARGET_COLUMNS = [
  ...CIRCUIT_COLUMNS,
  'd.envelope',
  'd.event_id',
  'd.event_name',
  'w.consecutive_failures',
  'w.secret_ciphertext',
  'w.previous_secret_ciphertext',
  'w.previous_secret_expires_at',
];

/**
 * Postpones a retry due at `dueAtMs` to the time its worker can make it: one per process, shared
 * by the relay's first attempts and the workflows' retries.
 */
export type RetryPacer = (dueAtMs: number) => number;

/**
 * Wake-ups at most `perSecond` a second (WEBHOOK_RETRY_ATTEMPTS_PER_SECOND, the rate the
 * webhooks worker makes attempts at). Without it, a thousand deliveries to a dead subscriber
 * would all wake on their schedule only to wait in the rate-limited queue, each costing Temporal a
 * workflow task and a queued activity; paced, the excess waits durably in Temporal, and
 * next_attempt_at says when each retry really runs.
 */
export function createRetryPacer(perSecond: number): RetryPacer {
  let nextFreeMs = 0;
  return (dueAtMs) => {
    const paced = pacedRetrySlot({ dueAtMs, nextFreeMs, perSecond });
    nextFreeMs = paced.nextFreeMs;
    return paced.slotMs;
  };
}

/** What one try of a delivery's retrying activity did. */
export type RetryTry =
  /** An attempt was made and recorded; `attemptNumber` is its number. */
  | { made: true; attemptNumber: number; result: AttemptResult }
  /** The delivery's next attempt is not due for `remainingMs` yet (a start repeated without its delay). */
  | { made: false; remainingMs: number }
  /** The delivery was already complete (an earlier try's answer reached Postgres, not Temporal). */
  | { made: false; completed: { status: 'succeeded' | 'failed'; attemptNumber: number } }
  /** Its subscription's circuit is open and another delivery probes it: parked, until released. */
  | { made: false; parked: { attemptNumber: number } };

/** Lateness tolerated before a retry that Temporal runs early waits again. */
const DUE_SLACK_MS = 1000;

/** Writes the caller adds to the transaction that records an attempt, given its result. */
export type AlsoInTransaction = (trx: Db, result: AttemptResult) => Promise<void>;

export type DeliveryAttemptsDeps = { db: Db; config: Config; logger: Logger; retryPacer?: RetryPacer };

/**
 * One signed POST of a delivery and its record in the attempt log, for both callers: the
 * webhookDelivery workflow's activity (every retry) and the outbox relay (a delivery's first
 * attempt, src/webhooks/firstAttempts.ts). Every outbound call goes through the SSRF guard.
 */
export function createDeliveryAttempts({ db, config, logger, retryPacer }: DeliveryAttemptsDeps) {
  const secrets = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
  // One pooled, guarded dispatcher per worker: every connection is checked and pinned at connect.
  const policy = { allowTargets: config.WEBHOOK_ALLOW_TARGETS, resolve: resolverFromConfig(config) };
  const dispatcher = createGuardedDispatcher(policy);
  const circuit = createCircuit(config);

  /** Whether the circuit, as the delivery's read saw it, may park this delivery (checked again under lock). */
  function mayBeParked<T extends CircuitTarget>(deliveryId: string, target: T | undefined): target is T {
    if (!target?.url || !target.active || target.deleted_at) return false;
    return isCircuitOpen(circuitState(config, target), Date.now()) && target.probe_delivery_id !== deliveryId;
  }

  function signingSecrets(webhook: Pick<WebhookRow, 'secret_ciphertext' | 'previous_secret_ciphertext' | 'previous_secret_expires_at'>): string[] {
    const current = secrets.decrypt(webhook.secret_ciphertext);
    const previousValid = webhook.previous_secret_ciphertext && webhook.previous_secret_expires_at && webhook.previous_secret_expires_at.getTime() > Date.now();
    return previousValid ? [current, secrets.decrypt(webhook.previous_secret_ciphertext as string)] : [current];
  }

  /**
   * When a retry's successor is due by the schedule (null: none left), chosen here rather than in
   * the workflow so that recording it costs nothing of its own: it goes into the attempt's
   * transaction, paced, and its time becomes Temporal's next retry delay (activities/webhooks.ts
   * retryUntilSettled). Undefined for runs begun before that, which schedule their own.
   */
  function successorDueAt(result: AttemptResult, attemptNumber: number, retrySchedule: string | undefined): number | null | undefined {
    if (retrySchedule === undefined || result.outcome !== 'retry') return undefined;
    const delay = nextAttemptDelay({ schedule: parseRetrySchedule(retrySchedule), attemptNumber, retryAfterMs: result.retryAfterMs, random: Math.random() });
    return delay === null ? null : Date.now() + delay;
  }

  async function post(
    deliveryId: string,
    attemptNumber: number,
    tryNumber: number,
    target: DeliveryTarget | undefined,
    retrySchedule: string | undefined,
    alsoInTransaction?: AlsoInTransaction,
  ): Promise<AttemptResult> {
    if (!target || !target.active || target.deleted_at) {
      const disabled: AttemptResult = { outcome: 'disabled', statusCode: null, retryAfterMs: null };
      if (alsoInTransaction) await db.transaction((trx) => alsoInTransaction(trx, disabled));
      return disabled;
    }
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
    const answer: AttemptResult = { outcome: classifyResponse(statusCode), statusCode, retryAfterMs };
    const dueAtMs = successorDueAt(answer, attemptNumber, retrySchedule);
    const result = await db.transaction(async (trx): Promise<AttemptResult> => {
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
      // The read before the POST saw what there was to reset: a success in the common case adds
      // no write. (A count that grew meanwhile is reset by the probe's own next success.)
      if (answer.outcome === 'succeeded' && (target.consecutive_failures > 0 || target.failed_attempts_in_a_row > 0)) {
        await circuit.recordSuccess(trx, target.webhook_id);
      }
      // A failure behind an open circuit that another delivery probes parks this one now, rather
      // than schedule a retry that would only park; the pace's slot goes to a retry that runs.
      const verdict = answer.outcome === 'retry' || answer.outcome === 'gone' ? await circuit.recordFailure(trx, target.webhook_id, deliveryId, typeof dueAtMs === 'number') : 'attempt';
      const parked = verdict === 'park' && typeof dueAtMs === 'number';
      const pacedAtMs = typeof dueAtMs === 'number' && !parked ? (retryPacer ? retryPacer(dueAtMs) : dueAtMs) : null;
      // A success completes the delivery in the same transaction: the common path is one write.
      const completion = answer.outcome === 'succeeded' ? { status: 'succeeded', completed_at: trx.fn.now() } : {};
      await trx('webhook_deliveries')
        .where({ id: deliveryId })
        .update({
          attempt_count: attemptNumber,
          last_status_code: statusCode,
          next_attempt_at: pacedAtMs === null ? null : new Date(pacedAtMs),
          ...(parked ? { parked_at: trx.fn.now() } : {}),
          ...completion,
        });
      // Runs begun before (no schedule here, dueAtMs undefined) get no successor's time.
      const recorded: AttemptResult = parked ? { ...answer, outcome: 'parked' } : dueAtMs === undefined ? answer : { ...answer, nextAttemptAtMs: pacedAtMs };
      if (alsoInTransaction) await alsoInTransaction(trx, recorded);
      return recorded;
    });
    logger.debug({ deliveryId, attemptNumber, tryNumber, statusCode, outcome: result.outcome, durationMs }, 'webhook attempt');
    return result;
  }

  return {
    /**
     * An attempt of a run begun before retries became one activity's tries: `tryNumber` is the
     * activity's own attempt, and the workflow schedules the next attempt itself.
     */
    async attempt(deliveryId: string, attemptNumber: number, tryNumber: number): Promise<AttemptResult> {
      const target: DeliveryTarget | undefined = await db('webhook_deliveries as d').join('webhooks as w', 'w.id', 'd.webhook_id').where('d.id', deliveryId).first(TARGET_COLUMNS);
      return post(deliveryId, attemptNumber, tryNumber, target, undefined);
    },

    /**
     * One try of the activity that makes a delivery's retries, which Temporal retries at the time
     * each failed attempt chose (the caller throws with it). The attempt's number comes from the
     * delivery (the attempts recorded so far, plus one), and the try's number within it from
     * Temporal's counter less the counter at this activity's last recorded try, so that a try that
     * died after its POST is logged as interrupted by the next one.
     */
    async retry(deliveryId: string, retrySchedule: string, activity: { key: string; attempt: number }): Promise<RetryTry> {
      const row: (DeliveryTarget & Pick<DeliveryRow, 'status' | 'attempt_count' | 'next_attempt_at' | 'retry_activity' | 'retry_activity_tries'>) | undefined = await db('webhook_deliveries as d')
        .leftJoin('webhooks as w', 'w.id', 'd.webhook_id')
        .where('d.id', deliveryId)
        .first([...TARGET_COLUMNS, 'd.status', 'd.attempt_count', 'd.next_attempt_at', 'd.retry_activity', 'd.retry_activity_tries']);
      if (!row) throw new Error(`webhook delivery ${deliveryId} does not exist`);
      if (row.status !== 'pending') return { made: false, completed: { status: row.status, attemptNumber: row.attempt_count } };
      const triesBefore = row.retry_activity === activity.key ? row.retry_activity_tries : 0;
      const bookkeeping = { retry_activity: activity.key, retry_activity_tries: activity.attempt };
      const remainingMs = (row.next_attempt_at?.getTime() ?? 0) - Date.now();
      if (remainingMs > DUE_SLACK_MS) {
        await db('webhook_deliveries').where({ id: deliveryId }).update(bookkeeping);
        return { made: false, remainingMs };
      }
      const attemptNumber = row.attempt_count + 1;
      if (mayBeParked(deliveryId, row) && (await circuit.admit(db, deliveryId, row.webhook_id)) === 'parked') {
        return { made: false, parked: { attemptNumber: row.attempt_count } };
      }
      const result = await post(deliveryId, attemptNumber, activity.attempt - triesBefore, row.url ? row : undefined, retrySchedule, async (trx) => {
        await trx('webhook_deliveries').where({ id: deliveryId }).update(bookkeeping);
      });
      return { made: true, attemptNumber, result };
    },

    /**
     * Before the relay starts the run of a delivery whose first attempt was refused, now that
     * attempt 2 is due: parks it instead (with `whenParked` in the same transaction) when its
     * subscription's circuit opened meanwhile and another delivery probes it.
     */
    async parkIfCircuitOpen(deliveryId: string, whenParked: (trx: Db) => Promise<void>): Promise<'attempt' | 'parked'> {
      // Only what the circuit needs: not the envelope and secrets an attempt reads.
      const target: CircuitTarget | undefined = await db('webhook_deliveries as d').join('webhooks as w', 'w.id', 'd.webhook_id').where('d.id', deliveryId).first(CIRCUIT_COLUMNS);
      if (!mayBeParked(deliveryId, target)) return 'attempt';
      return circuit.admit(db, deliveryId, target.webhook_id, whenParked);
    },

    /**
     * A delivery's first attempt, made by the outbox relay for the outbox row `outboxId` that owes
     * its workflow. The statement that reads the delivery also counts the try on that row, durably
     * and before the POST, so a worker that dies mid-POST leaves a count the next try logs as
     * interrupted, as Temporal's attempt counter does for the activity.
     */
    async firstAttemptFromOutbox(deliveryId: string, outboxId: string, retrySchedule: string, alsoInTransaction: AlsoInTransaction): Promise<AttemptResult> {
      const { rows } = await db.raw<{ rows: (DeliveryTarget & { direct_tries: number })[] }>(
        `with counted as (update outbox set direct_tries = direct_tries + 1 where id = ? returning direct_tries)
         select ${TARGET_COLUMNS.join(', ')}, counted.direct_tries
         from counted
         left join webhook_deliveries d on d.id = ?
         left join webhooks w on w.id = d.webhook_id`,
        [outboxId, deliveryId],
      );
      const [row] = rows;
      if (!row) throw new Error(`outbox row ${outboxId} is gone`);
      if (mayBeParked(deliveryId, row)) {
        const parked: AttemptResult = { outcome: 'parked', statusCode: null, retryAfterMs: null };
        if ((await circuit.admit(db, deliveryId, row.webhook_id, (trx) => alsoInTransaction(trx, parked))) === 'parked') return parked;
      }
      return post(deliveryId, 1, row.direct_tries, row.url ? row : undefined, retrySchedule, alsoInTransaction);
    },
  };
}

export type DeliveryAttempts = ReturnType<typeof createDeliveryAttempts>;

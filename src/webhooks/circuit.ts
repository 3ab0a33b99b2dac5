import type { Config } from '../config';
import type { Db } from '../db/knex';
import { type CircuitState, type CircuitVerdict, circuitVerdict } from '../domain/webhookDelivery';
import { type DeliveryConfig, owedDeliveriesInsert } from './deliveries';
import type { WebhookRow } from './dto';

export type CircuitConfig = DeliveryConfig & Pick<Config, 'WEBHOOK_CIRCUIT_THRESHOLD' | 'WEBHOOK_CIRCUIT_OPEN_AFTER'>;

/** What the circuit of a webhook row is, for the pure decisions of src/domain/webhookDelivery.ts. */
export function circuitState(
  config: Pick<Config, 'WEBHOOK_CIRCUIT_THRESHOLD' | 'WEBHOOK_CIRCUIT_OPEN_AFTER'>,
  webhook: { failed_attempts_in_a_row: number; failing_since: Date | null; probe_delivery_id: string | null },
): CircuitState {
  return {
    threshold: config.WEBHOOK_CIRCUIT_THRESHOLD,
    minFailingMs: config.WEBHOOK_CIRCUIT_OPEN_AFTER,
    failedAttemptsInARow: webhook.failed_attempts_in_a_row,
    failingSinceMs: webhook.failing_since?.getTime() ?? null,
    probeDeliveryId: webhook.probe_delivery_id,
  };
}

/**
 * A subscription's circuit breaker (issue 16). After WEBHOOK_CIRCUIT_THRESHOLD failed attempts in
 * a row, across its deliveries, over at least WEBHOOK_CIRCUIT_OPEN_AFTER, the circuit opens: one
 * delivery, the probe, goes on attempting on its retry schedule, and every other delivery that
 * comes due is parked in Postgres instead of being attempted. A parked delivery costs nothing: no POST, no Temporal timer or task. A dead
 * endpoint with a thousand deliveries owed then costs one retry per schedule step, not a thousand,
 * and leaves the webhooks worker's retry budget to the other subscriptions.
 *
 * The probe's first success closes the circuit and releases every parked delivery (an outbox
 * signal each, in the success's transaction, so none is forgotten); they are attempted at once. A
 * probe that exhausts its schedule while the circuit is open disables the subscription, which
 * releases them to fail as disabled (activities/webhooks.ts failDelivery).
 *
 * Parking and releasing both hold the webhook's row, so a delivery is never parked after the
 * release that should have freed it. A release locks only deliveries already parked, which no
 * attempt holds, so it cannot deadlock with the attempts that lock the webhook's row after their
 * own delivery's (`admit`) or before it (an attempt's record).
 */
export function createCircuit(config: CircuitConfig) {
  const threshold = config.WEBHOOK_CIRCUIT_THRESHOLD;

  /**
   * Whether the delivery may make its due attempt, decided under the webhook's lock: when the
   * circuit is open and another delivery probes it, the delivery is parked (with `whenParked`, in
   * the same transaction) and nothing is attempted. Called only when the caller's read saw the
   * circuit open, so a closed circuit costs nothing.
   */
  async function admit(db: Db, deliveryId: string, webhookId: string, whenParked?: (trx: Db) => Promise<void>): Promise<'attempt' | 'parked'> {
    return db.transaction(async (trx) => {
      await trx('webhook_deliveries').where({ id: deliveryId }).forNoKeyUpdate().first('id');
      const webhook = await trx('webhooks').where({ id: webhookId }).forNoKeyUpdate().first('failed_attempts_in_a_row', 'failing_since', 'probe_delivery_id', 'active', 'deleted_at');
      // A subscription disabled meanwhile releases rather than parks: the attempt ends it as disabled.
      if (!webhook || !webhook.active || webhook.deleted_at) return 'attempt';
      const verdict = circuitVerdict(circuitState(config, webhook), deliveryId, Date.now());
      if (verdict === 'attempt') return 'attempt';
      if (verdict === 'probe') {
        await trx('webhooks').where({ id: webhookId }).update({ probe_delivery_id: deliveryId });
        return 'attempt';
      }
      await trx('webhook_deliveries').where({ id: deliveryId }).update({ parked_at: trx.fn.now(), next_attempt_at: null });
      if (whenParked) await whenParked(trx);
      return 'parked';
    });
  }

  /**
   * In the transaction that records a failed attempt: one more in a row, and the attempt that
   * opens the circuit makes its delivery the probe, if it has an attempt left to probe with. The
   * verdict for the delivery's next attempt: `park` when the circuit is open and another delivery
   * probes it, so that the caller parks it now rather than schedule a retry that would only park.
   */
  async function recordFailure(trx: Db, webhookId: string, deliveryId: string, hasNextAttempt: boolean): Promise<CircuitVerdict> {
    if (threshold === 0) return 'attempt';
    const [webhook]: Pick<WebhookRow, 'failed_attempts_in_a_row' | 'failing_since' | 'probe_delivery_id'>[] = await trx('webhooks')
      .where({ id: webhookId })
      .update({ failed_attempts_in_a_row: trx.raw('failed_attempts_in_a_row + 1'), failing_since: trx.raw('coalesce(failing_since, now())') })
      .returning(['failed_attempts_in_a_row', 'failing_since', 'probe_delivery_id']);
    if (!webhook) return 'attempt';
    const verdict = circuitVerdict(circuitState(config, webhook), deliveryId, Date.now());
    // The update holds the row: claiming the probe here cannot race another attempt's claim.
    if (verdict !== 'probe' || !hasNextAttempt) return verdict === 'probe' ? 'attempt' : verdict;
    await trx('webhooks').where({ id: webhookId }).update({ probe_delivery_id: deliveryId });
    return 'attempt';
  }

  /** In the transaction that records a success: the endpoint answers, so the circuit closes. */
  async function recordSuccess(trx: Db, webhookId: string): Promise<void> {
    await trx('webhooks').where({ id: webhookId }).update({ consecutive_failures: 0, failed_attempts_in_a_row: 0, failing_since: null, probe_delivery_id: null });
    await releaseParked(trx, webhookId);
  }

  return { admit, recordFailure, recordSuccess, releaseParked };

  /**
   * Owes every parked delivery of the webhook the signal that lets its run go on (or starts one).
   * Callers hold the webhook's row: they have just updated it.
   */
  async function releaseParked(trx: Db, webhookId: string): Promise<number> {
    const insert = owedDeliveriesInsert('released', config, { release: true });
    const result = await trx.raw(
      `with released as (
         update webhook_deliveries set parked_at = null, resumes = resumes + 1
         where webhook_id = ? and parked_at is not null
         returning id, org_id, webhook_id, event_name, resumes)
       ${insert.sql}`,
      [webhookId, ...insert.bindings],
    );
    return result.rowCount ?? 0;
  }
}

export type Circuit = ReturnType<typeof createCircuit>;

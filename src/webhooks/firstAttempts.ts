import type { Db } from '../db/knex';
import { type WebhookDeliveryInput, relayMayMakeFirstAttempt } from '../domain/webhookDelivery';
import type { ClaimedStart, DirectRunner } from '../outbox/service';
import { taskQueues } from '../temporal/taskQueues';
import { type DeliveryAttemptsDeps, createDeliveryAttempts } from './attempts';

/**
 * A webhook delivery's first attempt, made by the outbox relay that claimed the delivery's owed
 * workflow start (issue 16). Most first attempts succeed, and then no workflow runs at all: the
 * attempt, the delivery's success and the outbox row's `delivered` commit in one transaction.
 * Otherwise the attempt's result is written into the owed start's arguments in that transaction,
 * and the webhookDelivery workflow starts from it and owns every retry.
 *
 * Durability of the first attempt: the outbox row. The relay holds it under a lease longer than
 * the attempt can take; a relay that dies mid-attempt leaves the row pending, the next claimer
 * tries again (the same webhook-id, so a subscriber can deduplicate), and the attempt log shows
 * the interrupted try, because every try is counted on the row before its POST.
 */
export function createFirstAttemptRunner(deps: DeliveryAttemptsDeps): DirectRunner {
  const { config } = deps;
  const attempts = createDeliveryAttempts(deps);
  const ownTaskQueue = taskQueues(config).main;
  let inFlight = 0;
  const perSubscription = new Map<string, number>();

  async function run(outboxId: string, start: ClaimedStart['start'], delivery: WebhookDeliveryInput) {
    const result = await attempts.firstAttemptFromOutbox(delivery.deliveryId, outboxId, async (trx: Db, attempt) => {
      if (attempt.outcome === 'succeeded') {
        await trx('outbox').where({ id: outboxId }).update({ status: 'delivered', started_at: trx.fn.now(), last_error: null, claimed_until: null });
      } else {
        await trx('outbox').where({ id: outboxId }).update({ args: JSON.stringify([{ ...delivery, firstAttempt: attempt }]) });
      }
    });
    return result.outcome === 'succeeded' ? null : { ...start, args: [{ ...delivery, firstAttempt: result }] };
  }

  return {
    take({ outboxId, leaseMs, start }) {
      if (start.workflowType !== 'webhookDelivery') return undefined;
      const delivery = start.args[0] as WebhookDeliveryInput;
      if (!relayMayMakeFirstAttempt({ delivery, taskQueue: start.taskQueue, ownTaskQueue, timeoutMs: config.WEBHOOK_TIMEOUT, leaseMs })) return undefined;
      // Over either limit the workflow makes the attempt: a slow subscriber holds up its own slots only.
      const ofSubscription = perSubscription.get(delivery.webhookId) ?? 0;
      if (inFlight >= config.WEBHOOK_FIRST_ATTEMPT_CONCURRENCY || ofSubscription >= config.WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION) return undefined;
      inFlight += 1;
      perSubscription.set(delivery.webhookId, ofSubscription + 1);
      return run(outboxId, start, delivery).finally(() => {
        inFlight -= 1;
        const left = (perSubscription.get(delivery.webhookId) ?? 1) - 1;
        if (left > 0) perSubscription.set(delivery.webhookId, left);
        else perSubscription.delete(delivery.webhookId);
      });
    },
  };
}

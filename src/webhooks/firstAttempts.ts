import type { Db } from '../db/knex';
import { WEBHOOK_DELIVERY_WORKFLOW, type WebhookDeliveryInput, latestFirstAttemptStart, relayMayMakeFirstAttempt } from '../domain/webhookDelivery';
import type { ClaimedStart, DirectRunner } from '../outbox/service';
import { type DeliveryAttemptsDeps, createDeliveryAttempts } from './attempts';

type OwedStart = ClaimedStart['start'];

/** The owed start needs no run (now): settled by the relay's own attempt, or parked. */
async function markDelivered(trx: Db, outboxId: string): Promise<void> {
  await trx('outbox').where({ id: outboxId }).update({ status: 'delivered', started_at: trx.fn.now(), last_error: null, claimed_until: null });
}

/** A taken delivery waiting for a slot of its subscription. */
interface Waiting {
  begin(): void;
  /** Its claim can no longer cover the attempt: the workflow makes it. */
  overdue(): void;
  stop(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Lane {
  inFlight: number;
  waiting: Waiting[];
}

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
 *
 * Each subscription has a lane of at most WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION attempts in
 * flight (WEBHOOK_FIRST_ATTEMPT_CONCURRENCY in all); the rest of a burst waits in its lane. A
 * delivery that cannot begin while its claim still covers a whole attempt (a slow subscriber's
 * backlog) starts its workflow instead, so a slow subscriber delays only its own deliveries, and
 * by at most the lease less one attempt. Beyond WEBHOOK_FIRST_ATTEMPT_BACKLOG waiting deliveries
 * the relay starts workflows at once.
 *
 * A delivery whose subscription's circuit is open is parked instead (src/webhooks/circuit.ts): no
 * attempt and no workflow, until the circuit closes.
 *
 * A refused first attempt's outbox row holds attempt 2 until it is due, a time the process's retry
 * pacer (deps.retryPacer) spaces at WEBHOOK_RETRY_ATTEMPTS_PER_SECOND with every other retry: its
 * claim is deferred to then, and only then does the workflow start. A dead subscriber's refused
 * burst therefore costs Temporal nothing before attempt 2, and nothing at all for the deliveries
 * its circuit parks meanwhile.
 */
export function createFirstAttemptRunner(deps: DeliveryAttemptsDeps): DirectRunner {
  const { config } = deps;
  const attempts = createDeliveryAttempts(deps);
  const lanes = new Map<string, Lane>();
  let inFlight = 0;
  let waitingCount = 0;

  async function attempt(outboxId: string, start: OwedStart, delivery: WebhookDeliveryInput): Promise<OwedStart | null> {
    let deferred = false;
    const result = await attempts.firstAttemptFromOutbox(delivery.deliveryId, outboxId, delivery.retrySchedule, async (trx: Db, attempt) => {
      // A parked delivery owes no run until its circuit closes, whose release owes it one.
      if (attempt.outcome === 'succeeded' || attempt.outcome === 'parked') {
        await markDelivered(trx, outboxId);
        return;
      }
      const args = JSON.stringify([{ ...delivery, firstAttempt: attempt }]);
      // The row itself holds attempt 2 until it is due: its claim is deferred to then, and the
      // relay that claims it then starts the run (dueRetry), unless the circuit has opened.
      deferred = typeof attempt.nextAttemptAtMs === 'number' && attempt.nextAttemptAtMs > Date.now();
      const claimedUntil = deferred ? new Date(attempt.nextAttemptAtMs as number) : undefined;
      await trx('outbox').where({ id: outboxId }).update({ args, ...(claimedUntil ? { claimed_until: claimedUntil } : {}) });
    });
    if (result.outcome === 'succeeded' || result.outcome === 'parked' || deferred) return null;
    return { ...start, args: [{ ...delivery, firstAttempt: result }] };
  }

  /**
   * A refused first attempt's row, claimed again now that attempt 2 is due: the run starts and
   * makes it at once, or, behind an open circuit that another delivery probes, the delivery is
   * parked and no run starts at all.
   */
  async function dueRetry(outboxId: string, start: OwedStart, delivery: WebhookDeliveryInput): Promise<OwedStart | null> {
    const verdict = await attempts.parkIfCircuitOpen(delivery.deliveryId, (trx) => markDelivered(trx, outboxId));
    return verdict === 'parked' ? null : start;
  }

  function remove(lane: Lane, waiting: Waiting): boolean {
    const index = lane.waiting.indexOf(waiting);
    if (index < 0) return false;
    lane.waiting.splice(index, 1);
    waitingCount -= 1;
    clearTimeout(waiting.timer);
    return true;
  }

  /** Begins waiting attempts while their lanes and the worker have slots, lanes in turn. */
  function pump(): void {
    let begun = true;
    while (begun && inFlight < config.WEBHOOK_FIRST_ATTEMPT_CONCURRENCY) {
      begun = false;
      for (const lane of lanes.values()) {
        if (inFlight >= config.WEBHOOK_FIRST_ATTEMPT_CONCURRENCY) break;
        if (lane.inFlight >= config.WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION || lane.waiting.length === 0) continue;
        const next = lane.waiting[0];
        remove(lane, next);
        next.begin();
        begun = true;
      }
    }
  }

  function laneOf(webhookId: string): Lane {
    let lane = lanes.get(webhookId);
    if (!lane) lanes.set(webhookId, (lane = { inFlight: 0, waiting: [] }));
    return lane;
  }

  function forgetIfIdle(webhookId: string, lane: Lane): void {
    if (lane.inFlight === 0 && lane.waiting.length === 0) lanes.delete(webhookId);
  }

  function release(webhookId: string, lane: Lane): void {
    lane.inFlight -= 1;
    inFlight -= 1;
    forgetIfIdle(webhookId, lane);
    pump();
  }

  return {
    take({ outboxId, leaseMs, start }) {
      // A release from an open circuit (a signal) goes to the delivery's run, which attempts.
      if (start.workflowType !== WEBHOOK_DELIVERY_WORKFLOW || start.signal) return undefined;
      const delivery = start.args[0] as WebhookDeliveryInput;
      if (delivery.firstAttempt?.outcome === 'retry') return dueRetry(outboxId, start, delivery);
      if (!relayMayMakeFirstAttempt({ delivery, timeoutMs: config.WEBHOOK_TIMEOUT, leaseMs })) return undefined;
      if (config.WEBHOOK_FIRST_ATTEMPT_CONCURRENCY === 0 || waitingCount >= config.WEBHOOK_FIRST_ATTEMPT_BACKLOG) return undefined;
      const lane = laneOf(delivery.webhookId);
      const beginBy = latestFirstAttemptStart({ claimedAtMs: Date.now(), leaseMs, timeoutMs: config.WEBHOOK_TIMEOUT });
      return new Promise<OwedStart | null>((resolve, reject) => {
        const waiting: Waiting = {
          begin() {
            lane.inFlight += 1;
            inFlight += 1;
            attempt(outboxId, start, delivery)
              .then(resolve, reject)
              .finally(() => release(delivery.webhookId, lane));
          },
          overdue() {
            if (remove(lane, waiting)) resolve(start);
            forgetIfIdle(delivery.webhookId, lane);
          },
          stop(error) {
            if (remove(lane, waiting)) reject(error);
          },
          timer: setTimeout(() => waiting.overdue(), Math.max(0, beginBy - Date.now())),
        };
        lane.waiting.push(waiting);
        waitingCount += 1;
        pump();
      });
    },

    stop() {
      const error = new Error('the relay stopped before this first attempt began; the delivery stays owed');
      for (const lane of lanes.values()) for (const waiting of [...lane.waiting]) waiting.stop(error);
    },
  };
}

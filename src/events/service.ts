import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex';
import { matchesEventPattern } from '../domain/eventPatterns';
import type { EventName } from '../domain/events';
import { DeliveryConfig, OwedDelivery, oweDeliveries } from '../webhooks/deliveries';
import type { WebhookRow } from '../webhooks/dto';

export interface EventRow {
  seq: string;
  event_id: string;
  org_id: string;
  name: EventName;
  payload: Record<string, unknown>;
  occurred_at: Date;
}

/** An active subscription as the event log matches it. */
type Subscription = Pick<WebhookRow, 'id' | 'events'>;

/** What one transaction's events need to fan out: delivery settings and a subscription cache. */
export interface EventFanoutSink {
  config: DeliveryConfig;
  /** Each organisation's active subscriptions, read once per transaction, not once per event. */
  subscriptions: Map<string, Subscription[]>;
}

/** A fresh sink per transaction: the subscriptions it caches are that transaction's view. */
export function eventFanoutSink(config: DeliveryConfig): EventFanoutSink {
  return { config, subscriptions: new Map() };
}

async function activeSubscriptions(trx: Db, orgId: string, sink: EventFanoutSink): Promise<Subscription[]> {
  const cached = sink.subscriptions.get(orgId);
  if (cached) return cached;
  const subscriptions: Subscription[] = await trx('webhooks').where({ org_id: orgId, active: true }).whereNull('deleted_at').select('id', 'events');
  sink.subscriptions.set(orgId, subscriptions);
  return subscriptions;
}

/**
 * Appends to the event log inside the caller's transaction: the state change and its event commit
 * together. The event's webhook fan-out happens here too: one delivery row per matching active
 * subscription and one owed webhookDelivery start per delivery, in the same transaction, so the
 * deliveries exist the moment the event commits and none can be lost (no fan-out workflow).
 */
export async function appendEvent(trx: Db, orgId: string, name: EventName, payload: Record<string, unknown>, sink: EventFanoutSink): Promise<EventRow> {
  const [row]: EventRow[] = await trx('events').insert({ org_id: orgId, name, payload }).returning('*');
  const matching = (await activeSubscriptions(trx, orgId, sink)).filter((webhook) => webhook.events.some((pattern) => matchesEventPattern(pattern, name)));
  if (matching.length === 0) return row;
  const envelope = toEventDto(row);
  // Ids made here, so the outbox rows need not wait for a RETURNING.
  const deliveries: OwedDelivery[] = matching.map((webhook) => ({ id: randomUUID(), org_id: orgId, webhook_id: webhook.id, event_name: name }));
  await trx('webhook_deliveries').insert(deliveries.map((delivery) => ({ ...delivery, event_id: row.event_id, envelope })));
  await oweDeliveries(trx, sink.config, orgId, deliveries);
  return row;
}

export function toEventDto(row: EventRow) {
  return {
    eventId: row.event_id,
    eventName: row.name,
    eventPayload: row.payload,
    eventTime: row.occurred_at.toISOString(),
  };
}

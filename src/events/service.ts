import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex';
import type { SqlFragment } from '../db/sql';
import { patternsMatching } from '../domain/eventPatterns';
import type { EventName } from '../domain/events';
import { DeliveryConfig, owedDeliveriesInsert } from '../webhooks/deliveries';

export interface EventRow {
  seq: string;
  event_id: string;
  org_id: string;
  name: EventName;
  payload: Record<string, unknown>;
  occurred_at: Date;
}

export type NewEvent = Omit<EventRow, 'seq'>;

/** An event about to be appended: its id and time are fixed here, so its envelope is known. */
export function newEvent(orgId: string, name: EventName, payload: Record<string, unknown>, occurredAt = new Date()): NewEvent {
  return { event_id: randomUUID(), org_id: orgId, name, payload, occurred_at: occurredAt };
}

/**
 * The CTEs that append `event` to the log and fan it out: one delivery row per matching active
 * subscription (matched in the database by `events && patternsMatching(name)`) and one owed
 * webhookDelivery start per delivery. They run inside whatever statement embeds them, so the
 * event, its deliveries and their starts commit together with the write. `guard` is an SQL
 * condition: when false (e.g. the write it belongs to did nothing), nothing is appended.
 * Defines `appended_event`, `event_deliveries` and `delivery_starts`.
 */
export function eventAppendCtes(event: NewEvent, config: DeliveryConfig, guard = 'true'): SqlFragment {
  const owedStarts = owedDeliveriesInsert('event_deliveries', config);
  return {
    sql: `appended_event as (
        insert into events (event_id, org_id, name, payload, occurred_at)
        select ?::uuid, ?::uuid, ?, ?::jsonb, ? where ${guard}
        returning *
      ), event_deliveries as (
        insert into webhook_deliveries (org_id, webhook_id, event_id, event_name, envelope)
        select w.org_id, w.id, e.event_id, e.name, ?::jsonb
        from appended_event e join webhooks w on w.org_id = e.org_id
        where w.active and w.deleted_at is null
          and w.events && array(select jsonb_array_elements_text(?::jsonb))
        returning id, org_id, webhook_id, event_name
      ), delivery_starts as (${owedStarts.sql})`,
    bindings: [
      event.event_id,
      event.org_id,
      event.name,
      JSON.stringify(event.payload),
      event.occurred_at,
      JSON.stringify(toEventDto(event)),
      JSON.stringify(patternsMatching(event.name)),
      ...owedStarts.bindings,
    ],
  };
}

/**
 * Appends to the event log inside the caller's transaction, in one statement: the state change
 * and its event commit together, and so do the event's webhook deliveries and their owed starts
 * (no fan-out workflow, nothing to lose in between).
 */
export async function appendEvent(trx: Db, orgId: string, name: EventName, payload: Record<string, unknown>, deliveries: DeliveryConfig): Promise<EventRow> {
  const append = eventAppendCtes(newEvent(orgId, name, payload), deliveries);
  const { rows } = await trx.raw<{ rows: EventRow[] }>(`with ${append.sql} select * from appended_event`, append.bindings);
  return rows[0];
}

export function toEventDto(row: Pick<EventRow, 'event_id' | 'name' | 'payload' | 'occurred_at'>) {
  return {
    eventId: row.event_id,
    eventName: row.name,
    eventPayload: row.payload,
    eventTime: row.occurred_at.toISOString(),
  };
}

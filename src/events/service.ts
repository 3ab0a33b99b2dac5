import type { Db } from '../db/knex';
import type { EventName } from '../domain/events';

export interface EventRow {
  seq: string;
  event_id: string;
  org_id: string;
  name: EventName;
  payload: Record<string, unknown>;
  occurred_at: Date;
}

/** Appends to the event log inside the caller's transaction: the state change and its event commit together. */
export async function appendEvent(trx: Db, orgId: string, name: EventName, payload: Record<string, unknown>): Promise<EventRow> {
  const [row] = await trx('events').insert({ org_id: orgId, name, payload }).returning('*');
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

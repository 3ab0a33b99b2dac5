import type { Db } from '../db/knex';
import type { EventName } from '../domain/events';
import type { WorkflowStart } from '../domain/outbox';
import { workflowIds } from '../domain/workflowIds';
import { enqueueWorkflowStart } from '../outbox/service';

export interface EventRow {
  seq: string;
  event_id: string;
  org_id: string;
  name: EventName;
  payload: Record<string, unknown>;
  occurred_at: Date;
}

/**
 * Where the workflow starts owed by events go: the transaction's caller dispatches `owed` after
 * commit (the outbox rows make them durable either way).
 */
export interface EventFanoutSink {
  taskQueue: string;
  owed: WorkflowStart[];
  /** Whether an org has an active subscription, asked once per transaction, not once per event. */
  subscribed: Map<string, boolean>;
}

export function eventFanoutSink(taskQueue: string): EventFanoutSink {
  return { taskQueue, owed: [], subscribed: new Map() };
}

/**
 * Appends to the event log inside the caller's transaction: the state change and its event commit
 * together. When the organisation has an active webhook subscription, the event's fan-out
 * workflow is owed in the same transaction, so no event can miss its deliveries.
 */
export async function appendEvent(trx: Db, orgId: string, name: EventName, payload: Record<string, unknown>, sink: EventFanoutSink): Promise<EventRow> {
  const [row]: EventRow[] = await trx('events').insert({ org_id: orgId, name, payload }).returning('*');
  if (!sink.subscribed.has(orgId)) {
    const any = await trx('webhooks').where({ org_id: orgId, active: true }).whereNull('deleted_at').first(trx.raw('1'));
    sink.subscribed.set(orgId, Boolean(any));
  }
  if (sink.subscribed.get(orgId)) {
    sink.owed.push(
      await enqueueWorkflowStart(
        trx,
        {
          workflowType: 'eventFanout',
          workflowId: workflowIds.eventFanout(row.event_id),
          taskQueue: sink.taskQueue,
          args: [{ orgId, eventId: row.event_id }],
          searchAttributes: { OrgId: [orgId], EventName: [name] },
        },
        orgId,
      ),
    );
  }
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

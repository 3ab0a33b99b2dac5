import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { SqlFragment } from '../db/sql';
import type { WorkflowStart } from '../domain/outbox';
import { workflowIds } from '../domain/workflowIds';
import { enqueueWorkflowStarts } from '../outbox/service';
import { taskQueues } from '../temporal/taskQueues';
import type { DeliveryRow } from './dto';

/** What owing a delivery needs to know: where its workflow runs and on which retry schedule. */
export type DeliveryConfig = Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'WEBHOOK_RETRY_SCHEDULE'>;

/** The arguments of one webhookDelivery workflow (persisted in the outbox: plain JSON). */
export interface WebhookDeliveryInput {
  orgId: string;
  webhookId: string;
  deliveryId: string;
  retrySchedule: string;
}

export type OwedDelivery = Pick<DeliveryRow, 'id' | 'org_id' | 'webhook_id' | 'event_name'>;

/** The webhookDelivery start of a delivery row (`webhook-delivery:<deliveryId>`). */
export function deliveryStart(config: DeliveryConfig, delivery: OwedDelivery): WorkflowStart {
  const args: WebhookDeliveryInput = { orgId: delivery.org_id, webhookId: delivery.webhook_id, deliveryId: delivery.id, retrySchedule: config.WEBHOOK_RETRY_SCHEDULE };
  return {
    workflowType: 'webhookDelivery',
    workflowId: workflowIds.webhookDelivery(delivery.id),
    taskQueue: taskQueues(config).main,
    args: [args],
    searchAttributes: { OrgId: [delivery.org_id], WebhookId: [delivery.webhook_id], EventName: [delivery.event_name] },
  };
}

/**
 * Owes the delivery workflows of delivery rows of one organisation, in the caller's transaction
 * (one outbox insert for all of them); the outbox relay starts them after commit.
 */
export function oweDeliveries(trx: Db, config: DeliveryConfig, orgId: string, deliveries: OwedDelivery[]): Promise<void> {
  return enqueueWorkflowStarts(trx, deliveries.map((delivery) => deliveryStart(config, delivery)), orgId);
}

/**
 * `deliveryStart` in SQL, for deliveries created inside a statement (`eventAppendCtes`): an
 * outbox insert of the webhookDelivery start of every row of the CTE `source` (id, org_id,
 * webhook_id, event_name). It builds the same id, arguments and search attributes as
 * `deliveryStart`; test/integration/webhooks/eventDeliveries.test.ts holds both to that.
 */
export function owedDeliveriesInsert(source: string, config: DeliveryConfig): SqlFragment {
  return {
    sql: `insert into outbox (org_id, workflow_type, workflow_id, task_queue, args, search_attributes)
        select d.org_id, 'webhookDelivery', ? || d.id, ?,
               jsonb_build_array(jsonb_build_object('orgId', d.org_id, 'webhookId', d.webhook_id, 'deliveryId', d.id, 'retrySchedule', ?::text)),
               jsonb_build_object('OrgId', jsonb_build_array(d.org_id), 'WebhookId', jsonb_build_array(d.webhook_id), 'EventName', jsonb_build_array(d.event_name))
        from ${source} d
        on conflict (workflow_id) do nothing`,
    bindings: [workflowIds.webhookDelivery(''), taskQueues(config).main, config.WEBHOOK_RETRY_SCHEDULE],
  };
}

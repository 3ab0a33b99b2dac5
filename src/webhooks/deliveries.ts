import type { Config } from '../config';
import type { Db } from '../db/knex';
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
 * (one outbox insert for all of them). Returns the starts, to dispatch after commit.
 */
export function oweDeliveries(trx: Db, config: DeliveryConfig, orgId: string, deliveries: OwedDelivery[]): Promise<WorkflowStart[]> {
  return enqueueWorkflowStarts(trx, deliveries.map((delivery) => deliveryStart(config, delivery)), orgId);
}

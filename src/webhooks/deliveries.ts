import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { SqlFragment } from '../db/sql';
import { RELEASE_FROM_CIRCUIT_SIGNAL, WEBHOOK_DELIVERY_WORKFLOW } from '../domain/webhookDelivery';
import { workflowIds } from '../domain/workflowIds';
import { taskQueues } from '../temporal/taskQueues';

/** What owing a delivery needs to know: where its workflow runs and on which retry schedule. */
export type DeliveryConfig = Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'WEBHOOK_RETRY_SCHEDULE'>;

/**
 * Owes the delivery workflows of delivery rows just inserted in the caller's transaction (one
 * outbox insert for all of them); the outbox relay starts them after commit. The same SQL as the
 * deliveries an event creates inside its own statement (`owedDeliveriesInsert`), so a delivery's
 * workflow id, arguments and search attributes are built in one place.
 */
export async function oweDeliveries(trx: Db, config: DeliveryConfig, deliveryIds: string[]): Promise<void> {
  const insert = owedDeliveriesInsert('owed_deliveries', config);
  await trx.raw(`with owed_deliveries as (select id, org_id, webhook_id, event_name from webhook_deliveries where id = any(?::uuid[])) ${insert.sql}`, [
    deliveryIds,
    ...insert.bindings,
  ]);
}

/**
 * The outbox insert of the webhookDelivery start (`webhook-delivery:<deliveryId>`) of every row of
 * the CTE `source` (id, org_id, webhook_id, event_name), as SQL that a statement creating
 * deliveries can embed (`eventAppendCtes`). test/integration/webhooks/eventDeliveries.test.ts
 * checks the rows it writes.
 *
 * `release`: instead, the signal that lets a parked delivery's run go on, or starts it when it has
 * none (src/webhooks/circuit.ts); `source` then also has `resumes`, which keys each release.
 */
export function owedDeliveriesInsert(source: string, config: DeliveryConfig, { release = false } = {}): SqlFragment {
  return {
    sql: `insert into outbox (org_id, workflow_type, workflow_id, task_queue, args, search_attributes${release ? ', start_key, signal_name, signal_args' : ''})
        select d.org_id, ?, ? || d.id, ?,
               jsonb_build_array(jsonb_build_object('orgId', d.org_id, 'webhookId', d.webhook_id, 'deliveryId', d.id, 'retrySchedule', ?::text)),
               jsonb_build_object('OrgId', jsonb_build_array(d.org_id), 'WebhookId', jsonb_build_array(d.webhook_id), 'EventName', jsonb_build_array(d.event_name))
               ${release ? `, 'release:' || d.resumes, '${RELEASE_FROM_CIRCUIT_SIGNAL}', '[]'::jsonb` : ''}
        from ${source} d
        on conflict (workflow_id, start_key) do nothing`,
    bindings: [WEBHOOK_DELIVERY_WORKFLOW, workflowIds.webhookDelivery(''), taskQueues(config).main, config.WEBHOOK_RETRY_SCHEDULE],
  };
}

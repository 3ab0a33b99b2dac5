import type { Knex } from 'knex';

/**
 * Delivery workflows run on the main task queue now, their activities still on `<main>-webhooks`
 * (one workflow isolate per worker process instead of two). Starts still owed move to the main
 * queue, so the relay's delivery lane claims them and no poller of the old queue is needed for them.
 * Runs already started there finish on it: a worker polls it while any are open.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`update outbox set task_queue = left(task_queue, -length('-webhooks'))
    where status = 'pending' and workflow_type = 'webhookDelivery' and task_queue like '%-webhooks'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`update outbox set task_queue = task_queue || '-webhooks'
    where status = 'pending' and workflow_type = 'webhookDelivery' and task_queue not like '%-webhooks'`);
}

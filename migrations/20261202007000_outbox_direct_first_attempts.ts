import type { Knex } from 'knex';

/**
 * The outbox relay makes a webhook delivery's first attempt itself and starts the delivery's
 * workflow only when that attempt did not succeed (src/webhooks/firstAttempts.ts, issue 16): the
 * happy path then costs no workflow per delivery.
 * - `direct_tries` counts the relay's tries at the row's work, written before each POST, so a
 *   relay that died mid-POST is logged as an interrupted try by the next one.
 * - `delivered`: the row's work was done without its workflow (the first attempt succeeded).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.integer('direct_tries').notNullable().defaultTo(0);
  });
  await knex.raw('alter table outbox drop constraint outbox_status_check');
  await knex.raw("alter table outbox add constraint outbox_status_check check (status in ('pending', 'started', 'delivered'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex('outbox').where({ status: 'delivered' }).update({ status: 'started' });
  await knex.raw('alter table outbox drop constraint outbox_status_check');
  await knex.raw("alter table outbox add constraint outbox_status_check check (status in ('pending', 'started'))");
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('direct_tries');
  });
}

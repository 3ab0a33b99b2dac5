import type { Knex } from 'knex';

/**
 * A subscription's circuit (issue 16): after WEBHOOK_CIRCUIT_THRESHOLD failed attempts in a row
 * over at least WEBHOOK_CIRCUIT_OPEN_AFTER it opens, one delivery (the probe) goes on retrying on
 * its schedule, and the subscription's other deliveries are parked in Postgres, costing Temporal
 * nothing, until the probe's answer closes the circuit or its exhaustion disables the subscription. `resumes` numbers the outbox
 * signals that release a parked delivery, so each release is owed exactly once.
 *
 * A refused first attempt's outbox row now holds attempt 2 itself until it is due (its claim
 * deferred to then), so that a delivery whose circuit opened meanwhile is parked without ever
 * starting a run. The relay claims rows by the time they become claimable, on an index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.integer('failed_attempts_in_a_row').notNullable().defaultTo(0);
    t.timestamp('failing_since', { useTz: true });
    t.uuid('probe_delivery_id');
  });
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.timestamp('parked_at', { useTz: true });
    t.integer('resumes').notNullable().defaultTo(0);
  });
  await knex.raw('create index webhook_deliveries_parked_idx on webhook_deliveries (webhook_id, parked_at) where parked_at is not null');
  await knex.raw("create index outbox_claimable_idx on outbox ((coalesce(claimed_until, created_at))) where status = 'pending'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists outbox_claimable_idx');
  await knex.raw('drop index if exists webhook_deliveries_parked_idx');
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropColumn('parked_at');
    t.dropColumn('resumes');
  });
  await knex.schema.alterTable('webhooks', (t) => {
    t.dropColumn('failed_attempts_in_a_row');
    t.dropColumn('failing_since');
    t.dropColumn('probe_delivery_id');
  });
}

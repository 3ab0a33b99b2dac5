import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhooks', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('url').notNullable();
    t.specificType('events', 'text[]').notNullable();
    t.text('description').nullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.text('disabled_reason').nullable();
    // AES-256-GCM ciphertexts (src/webhooks/secretCrypto.ts); the plaintext is shown once.
    t.text('secret_ciphertext').notNullable();
    t.text('previous_secret_ciphertext').nullable();
    t.timestamp('previous_secret_expires_at', { useTz: true }).nullable();
    t.integer('consecutive_failures').notNullable().defaultTo(0);
    t.timestamps(true, true);
    t.timestamp('deleted_at', { useTz: true }).nullable();
  });
  await knex.raw('create index webhooks_org_active_idx on webhooks (org_id) where active and deleted_at is null');

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('webhook_id').notNullable().references('webhooks.id').onDelete('CASCADE');
    t.uuid('event_id').notNullable();
    t.text('event_name').notNullable();
    // The exact envelope sent: {eventId, eventName, eventPayload, eventTime}.
    t.jsonb('envelope').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempt_count').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).nullable();
    t.integer('last_status_code').nullable();
    t.uuid('redelivery_of').nullable().references('webhook_deliveries.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true }).nullable();
    t.check("status in ('pending','succeeded','failed')", [], 'webhook_deliveries_status_check');
  });
  // One original delivery per (event, subscription): a re-run fan-out cannot double-deliver.
  await knex.raw('create unique index webhook_deliveries_once_idx on webhook_deliveries (webhook_id, event_id) where redelivery_of is null');
  await knex.raw('create index webhook_deliveries_webhook_idx on webhook_deliveries (webhook_id, created_at desc)');

  await knex.schema.createTable('delivery_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('delivery_id').notNullable().references('webhook_deliveries.id').onDelete('CASCADE');
    t.integer('attempt_number').notNullable();
    t.integer('status_code').nullable();
    t.integer('duration_ms').notNullable();
    t.text('response_body').nullable();
    t.text('error').nullable();
    t.timestamp('attempted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['delivery_id', 'attempt_number']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('delivery_attempts');
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('webhooks');
}

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('org_id').nullable().references('organizations.id').onDelete('CASCADE');
    t.text('workflow_type').notNullable();
    // Deterministic id: enqueueing the same work twice is a no-op.
    t.text('workflow_id').notNullable().unique();
    t.text('task_queue').notNullable();
    t.jsonb('args').notNullable().defaultTo('[]');
    t.jsonb('search_attributes').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true }).nullable();
    t.check("status in ('pending','started')", [], 'outbox_status_check');
  });
  await knex.raw("create index outbox_pending_idx on outbox (created_at) where status = 'pending'");

  await knex.schema.createTable('rate_limit_counters', (t) => {
    t.text('bucket').notNullable();
    t.timestamp('window_start', { useTz: true }).notNullable();
    t.integer('count').notNullable().defaultTo(0);
    t.primary(['bucket', 'window_start']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limit_counters');
  await knex.schema.dropTable('outbox');
}

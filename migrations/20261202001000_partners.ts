import type { Knex } from 'knex';

/**
 * CRM partner onboarding (reference 001): partners and their tokens, signed connect links, the
 * agencies' consent and the connections it creates, the connect page's logins and sessions.
 * Secrets that only need to be recognised (client secrets, x-crm-tokens, session tokens, agency
 * keys) are stored as hashes; the one a worker must use to sign (the partner's webhook signing
 * secret) is encrypted like webhook secrets.
 */
export async function up(knex: Knex): Promise<void> {
  // An outbox row may now signal a workflow (signal-with-start) instead of only starting it, and
  // one workflow id may be owed several times: a new connect link or a consent for the same
  // onboarding. `start_key` tells those apart; plain starts keep the empty key and their old
  // one-row-per-workflow-id guarantee.
  await knex.schema.alterTable('outbox', (t) => {
    t.text('start_key').notNullable().defaultTo('');
    t.text('signal_name').nullable();
    t.jsonb('signal_args').nullable();
  });
  await knex.raw('alter table outbox drop constraint outbox_workflow_id_unique');
  await knex.raw('alter table outbox add constraint outbox_workflow_start_unique unique (workflow_id, start_key)');

  await knex.schema.alterTable('users', (t) => {
    // scrypt (src/partners/passwords.ts); null for users who never set a password (API-only).
    t.text('password_hash').nullable();
  });

  await knex.schema.createTable('partners', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('client_id').notNullable().unique();
    t.text('client_secret_hash').notNullable();
    t.text('webhook_url').notNullable();
    t.text('webhook_secret_ciphertext').notNullable();
    t.text('developer_email').notNullable();
    t.timestamp('disabled_at', { useTz: true }).nullable();
    t.timestamps(true, true);
  });

  await knex.schema.createTable('partner_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('partner_id').notNullable().references('partners.id').onDelete('CASCADE');
    t.text('token_hash').notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['partner_id']);
  });

  await knex.schema.createTable('connect_links', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('partner_id').notNullable().references('partners.id').onDelete('CASCADE');
    t.text('agency_id').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('superseded_at', { useTz: true }).nullable();
    t.timestamp('used_at', { useTz: true }).nullable();
    t.uuid('consented_org_id').nullable().references('organizations.id').onDelete('SET NULL');
    t.uuid('consented_user_id').nullable().references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['partner_id', 'agency_id']);
  });

  await knex.schema.createTable('partner_connections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('partner_id').notNullable().references('partners.id').onDelete('CASCADE');
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('agency_id').notNullable();
    t.uuid('connect_link_id').notNullable().unique().references('connect_links.id').onDelete('CASCADE');
    t.uuid('api_key_id').nullable().references('api_keys.id').onDelete('SET NULL');
    t.uuid('created_by').nullable().references('users.id').onDelete('SET NULL');
    t.text('status').notNullable().defaultTo('delivering');
    t.integer('delivery_attempts').notNullable().defaultTo(0);
    t.integer('last_status_code').nullable();
    t.text('last_error').nullable();
    t.timestamp('delivered_at', { useTz: true }).nullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.timestamps(true, true);
    t.check("status in ('delivering','delivered','delivery_failed','revoked')", [], 'partner_connections_status_check');
    t.index(['org_id']);
  });
  // One live connection per partner and agency: a reconnect revokes the previous one first.
  await knex.raw('create unique index partner_connections_live_unique on partner_connections (partner_id, agency_id) where revoked_at is null');

  await knex.schema.createTable('web_sessions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('token_hash').notNullable().unique();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('web_sessions');
  await knex.schema.dropTable('partner_connections');
  await knex.schema.dropTable('connect_links');
  await knex.schema.dropTable('partner_tokens');
  await knex.schema.dropTable('partners');
  await knex.schema.alterTable('users', (t) => t.dropColumn('password_hash'));
  await knex.raw('alter table outbox drop constraint outbox_workflow_start_unique');
  await knex.raw('alter table outbox add constraint outbox_workflow_id_unique unique (workflow_id)');
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('start_key');
    t.dropColumn('signal_name');
    t.dropColumn('signal_args');
  });
}

import type { Knex } from 'knex';

/**
 * Publication targets: portals Immoflow pushes listings to as their CRM partner (reference 001
 * with the roles swapped). Everything Immoflow must present again (the portal's client secret,
 * the cached x-crm-token, an agency's key) is encrypted like webhook secrets; the portal's
 * webhook signing secret too, since it verifies the key deliveries.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('targets', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('base_url').notNullable();
    t.text('client_id').notNullable();
    t.text('client_secret_ciphertext').notNullable();
    t.text('webhook_secret_ciphertext').notNullable();
    t.text('token_ciphertext').nullable();
    t.timestamp('token_expires_at', { useTz: true }).nullable();
    t.timestamp('token_refreshed_at', { useTz: true }).nullable();
    t.integer('token_refreshes').notNullable().defaultTo(0);
    // The portal's 429 on /crm/oauth: no token request before this time.
    t.timestamp('oauth_blocked_until', { useTz: true }).nullable();
    // The portal's 429 on its listings API: every publication to it waits until then.
    t.timestamp('push_paused_until', { useTz: true }).nullable();
    t.timestamp('disabled_at', { useTz: true }).nullable();
    t.timestamps(true, true);
  });

  await knex.schema.createTable('target_connections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('target_id').notNullable().references('targets.id').onDelete('CASCADE');
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('status').notNullable().defaultTo('pending');
    t.text('connect_url').nullable();
    t.timestamp('connect_url_expires_at', { useTz: true }).nullable();
    t.text('api_key_ciphertext').nullable();
    t.timestamp('connected_at', { useTz: true }).nullable();
    t.timestamp('disconnected_at', { useTz: true }).nullable();
    t.timestamp('last_swept_at', { useTz: true }).nullable();
    t.timestamps(true, true);
    t.unique(['target_id', 'org_id']);
    t.check("status in ('pending','connected','disconnected')", [], 'target_connections_status_check');
    t.index(['org_id']);
  });

  await knex.schema.createTable('publications', (t) => {
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE');
    t.uuid('target_id').notNullable().references('targets.id').onDelete('CASCADE');
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('state').notNullable().defaultTo('pending');
    t.text('remote_id').nullable();
    t.integer('pushed_revision').nullable();
    // Local image id → the target's image id, so an unchanged gallery is not uploaded again.
    t.jsonb('pushed_images').notNullable().defaultTo('{}');
    t.timestamp('published_at', { useTz: true }).nullable();
    t.text('failure_code').nullable();
    t.text('failure_message').nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamps(true, true);
    t.primary(['listing_id', 'target_id']);
    t.check("state in ('pending','published','failed','deleted')", [], 'publications_state_check');
    t.index(['target_id', 'org_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('publications');
  await knex.schema.dropTable('target_connections');
  await knex.schema.dropTable('targets');
}

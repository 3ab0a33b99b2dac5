import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One sequence orders every listing write, so `?cursor=` pagination and `updated_since`
  // sync see each change exactly once, even with equal timestamps.
  await knex.raw('create sequence listing_change_seq');

  await knex.schema.createTable('listings', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('external_ref').notNullable();
    t.text('status').notNullable().defaultTo('draft');
    t.integer('revision').notNullable().defaultTo(1);
    t.bigInteger('change_seq').notNullable().defaultTo(knex.raw("nextval('listing_change_seq')"));
    t.uuid('owner_user_id').nullable().references('users.id').onDelete('SET NULL');

    t.text('title').nullable();
    t.text('description').nullable();
    t.text('property_type').nullable();
    t.text('marketing_type').notNullable().defaultTo('rent');
    t.text('street').nullable();
    t.text('house_number').nullable();
    t.text('zip_code').nullable();
    t.text('city').nullable();
    t.text('country').notNullable().defaultTo('DE');
    t.text('normalized_address').notNullable();
    t.decimal('living_area', 10, 2).nullable();
    t.decimal('rooms', 4, 1).nullable();
    t.integer('floor').nullable();
    t.decimal('rent_cold', 12, 2).nullable();
    t.decimal('rent_warm', 12, 2).nullable();
    t.decimal('service_charges', 12, 2).nullable();
    t.decimal('deposit', 12, 2).nullable();
    t.decimal('purchase_price', 14, 2).nullable();
    t.date('available_from').nullable();
    t.jsonb('energy_certificate').nullable();

    t.double('geo_lat').nullable();
    t.double('geo_lng').nullable();
    t.text('geo_precision').nullable();
    t.text('geo_provider').nullable();
    t.integer('geo_revision').nullable();

    t.text('moderation_state').notNullable().defaultTo('pending');
    t.jsonb('moderation_reasons').notNullable().defaultTo('[]');
    t.integer('moderation_revision').nullable();
    t.timestamp('moderated_at', { useTz: true }).nullable();
    t.text('review_workflow_id').nullable();

    t.text('publication_state').notNullable().defaultTo('unpublished');
    t.timestamp('published_at', { useTz: true }).nullable();

    t.timestamps(true, true);
    t.timestamp('deleted_at', { useTz: true }).nullable();
    t.check("status in ('draft','active','rented','archived')", [], 'listings_status_check');
  });
  await knex.raw('create unique index listings_org_external_ref_unique on listings (org_id, external_ref) where deleted_at is null');
  await knex.raw('create index listings_org_change_seq_idx on listings (org_id, change_seq) where deleted_at is null');
  await knex.raw("create index listings_org_active_idx on listings (org_id) where status = 'active' and deleted_at is null");
  await knex.raw('create index listings_org_address_idx on listings (org_id, normalized_address) where deleted_at is null');

  await knex.schema.createTable('events', (t) => {
    // seq orders the log; event_id is the public id (webhook X-Webhook-ID).
    t.bigIncrements('seq').primary();
    t.uuid('event_id').notNullable().unique().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('create index events_org_seq_idx on events (org_id, seq)');
  await knex.raw('create index events_org_name_seq_idx on events (org_id, name, seq)');

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('key').notNullable();
    t.text('request_hash').notNullable();
    t.text('state').notNullable().defaultTo('in_flight');
    t.integer('response_status').nullable();
    t.jsonb('response_body').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['org_id', 'key']);
    t.check("state in ('in_flight','completed')", [], 'idempotency_keys_state_check');
  });
  await knex.raw('create index idempotency_keys_expires_idx on idempotency_keys (expires_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
  await knex.schema.dropTable('events');
  await knex.schema.dropTable('listings');
  await knex.raw('drop sequence listing_change_seq');
}

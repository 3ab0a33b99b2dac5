import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('listing_images', (t) => {
    // `img_` + 24 hex characters (src/domain/images.ts): the id is part of object keys and URLs.
    t.text('id').primary();
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE');
    t.text('filename').notNullable();
    t.text('content_type').notNullable();
    t.integer('declared_size').notNullable();
    t.integer('sort_order').notNullable();
    t.text('state').notNullable().defaultTo('awaiting_upload');
    t.text('failure_code').nullable();
    t.text('failure_message').nullable();
    t.text('object_key').notNullable();
    // What the ingest found: the stored size, the sniffed type, the decoded dimensions.
    t.bigInteger('size').nullable();
    t.text('detected_type').nullable();
    t.integer('width').nullable();
    t.integer('height').nullable();
    t.jsonb('variants').notNullable().defaultTo('[]');
    // SHA-256 of the single-use upload token; the token itself is shown once.
    t.text('upload_token_hash').notNullable();
    t.timestamp('upload_token_used_at', { useTz: true }).nullable();
    t.timestamp('upload_expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('ready_at', { useTz: true }).nullable();
    t.timestamp('deleted_at', { useTz: true }).nullable();
    t.check("state in ('awaiting_upload','processing','ready','failed')", [], 'listing_images_state_check');
  });
  await knex.raw('create index listing_images_listing_idx on listing_images (listing_id, sort_order) where deleted_at is null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('listing_images');
}

import type { Knex } from 'knex';

/** URL attachments of a listing (issue 12), fetched by the propertyProcessing workflow. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attachments', (t) => {
    // `att_` + 24 hex characters (src/domain/attachments.ts): part of object keys and variant URLs.
    t.text('id').primary();
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE');
    // The order of the request; the DTO lists attachments in this order.
    t.integer('position').notNullable();
    t.text('url').notNullable();
    t.text('kind').notNullable();
    t.text('title').nullable();
    t.integer('sort_order').notNullable();
    t.boolean('is_title').notNullable().defaultTo(false);
    t.text('state').notNullable().defaultTo('pending');
    t.text('failure_code').nullable();
    t.text('failure_message').nullable();
    // What the last successful fetch found; kept so an unchanged URL is not fetched again.
    t.text('object_key').nullable();
    t.text('content_type').nullable();
    t.bigInteger('size').nullable();
    t.text('sha256').nullable();
    t.text('etag').nullable();
    t.integer('width').nullable();
    t.integer('height').nullable();
    t.jsonb('variants').notNullable().defaultTo('[]');
    t.timestamp('fetched_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check("state in ('pending','fetching','ready','failed')", [], 'attachments_state_check');
    t.check("kind in ('image','floor_plan','document','energy_certificate')", [], 'attachments_kind_check');
  });
  await knex.raw('create index attachments_listing_idx on attachments (listing_id, position)');
  // The revision whose write last changed the attachments: a propertyProcessing run applies its
  // result only while this still names its revision (a later write of other fields does not
  // supersede it, a later change of attachments does).
  await knex.schema.alterTable('listings', (t) => {
    t.integer('attachments_revision').nullable();
    // The attachments_revision whose run committed its result and event: a retried completion
    // (a worker died after the commit) finds it here and emits nothing twice.
    t.integer('attachments_processed_revision').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('listings', (t) => {
    t.dropColumn('attachments_revision');
    t.dropColumn('attachments_processed_revision');
  });
  await knex.schema.dropTableIfExists('attachments');
}

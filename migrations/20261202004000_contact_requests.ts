import type { Knex } from 'knex';

/**
 * Contact requests from inbound e-mail. An organisation's inbox is an address on
 * INBOUND_MAIL_DOMAIN; rotating it retires the old one (kept, so a late mail to it is recognised
 * and refused, and old mails keep naming the inbox they came through). Every accepted mail is a
 * row keyed by its Message-ID per organisation, so one message is processed once however often
 * a portal or MTA redelivers it. A request erased under GDPR Art. 17 keeps its row as a
 * tombstone with every personal field cleared.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('inboxes', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('address').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('retired_at', { useTz: true }).nullable();
  });
  await knex.raw('create unique index inboxes_one_active_per_org on inboxes (org_id) where retired_at is null');

  await knex.schema.createTable('inbound_mails', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('inbox_id').notNullable().references('inboxes.id').onDelete('CASCADE');
    // The Message-ID, or the SHA-256 of the raw bytes for a message without one.
    t.text('message_key').notNullable();
    t.text('recipient').notNullable();
    t.text('sender').nullable();
    t.text('subject').nullable();
    t.text('via').notNullable();
    t.integer('size').notNullable();
    // Null once erased, and for a message refused as too large (its bytes were never kept).
    t.text('object_key').nullable();
    t.text('outcome').nullable();
    t.uuid('request_id').nullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('processed_at', { useTz: true }).nullable();
    t.unique(['org_id', 'message_key']);
    t.check("via in ('smtp','http')", [], 'inbound_mails_via_check');
    t.check("outcome in ('created','duplicate','failed')", [], 'inbound_mails_outcome_check');
  });

  await knex.schema.createTable('contact_requests', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // The cursor of GET /requests: creation order, unique, never reused.
    t.bigIncrements('seq', { primaryKey: false });
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('inbox_id').notNullable().references('inboxes.id').onDelete('CASCADE');
    t.uuid('mail_id').notNullable().references('inbound_mails.id').onDelete('CASCADE');
    t.uuid('listing_id').nullable().references('listings.id').onDelete('SET NULL');
    t.text('object_id').nullable();
    t.text('portal').nullable();
    t.text('portal_object_id').nullable();
    t.timestamp('requested_at', { useTz: true }).nullable();
    t.text('salutation').nullable();
    t.text('first_name').nullable();
    t.text('last_name').nullable();
    t.text('company').nullable();
    t.text('email').nullable();
    // Lower-cased address: the de-duplication key and the `email` filter.
    t.text('email_key').nullable();
    t.text('phone').nullable();
    t.text('street').nullable();
    t.text('postal_code').nullable();
    t.text('city').nullable();
    t.text('country').nullable();
    t.text('message').nullable();
    t.text('raw_object_key').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('erased_at', { useTz: true }).nullable();
    t.index(['org_id', 'seq']);
    t.index(['org_id', 'email_key', 'created_at']);
    t.index(['listing_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('contact_requests');
  await knex.schema.dropTable('inbound_mails');
  await knex.schema.dropTable('inboxes');
}

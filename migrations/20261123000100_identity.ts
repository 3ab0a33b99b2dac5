import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('organizations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('plan').notNullable().defaultTo('free');
    t.integer('active_listing_cap_override').nullable();
    t.jsonb('feature_flags').notNullable().defaultTo('{}');
    t.text('developer_contact_email').nullable();
    t.timestamps(true, true);
    t.check("plan in ('free','pro','enterprise')", [], 'organizations_plan_check');
  });

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('email').notNullable();
    t.text('name').nullable();
    t.timestamps(true, true);
  });
  // E-mail addresses are compared case-insensitively: Agent@x.de and agent@x.de are one person.
  await knex.raw('create unique index users_email_unique on users (lower(email))');

  await knex.schema.createTable('memberships', (t) => {
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('role').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['org_id', 'user_id']);
    t.check("role in ('owner','admin','member','viewer')", [], 'memberships_role_check');
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('org_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('mode').notNullable();
    t.text('name').nullable();
    // SHA-256 of the full key. Keys carry 190 bits of randomness, so a fast hash is safe here
    // and lets authentication be one indexed lookup.
    t.text('key_hash').notNullable().unique();
    t.text('key_hint').notNullable();
    t.specificType('scopes', 'text[]').notNullable().defaultTo('{}');
    t.uuid('created_by').nullable().references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true }).nullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.check("kind in ('secret','publishable')", [], 'api_keys_kind_check');
    t.check("mode in ('live','test')", [], 'api_keys_mode_check');
    t.index(['org_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_keys');
  await knex.schema.dropTable('memberships');
  await knex.schema.dropTable('users');
  await knex.schema.dropTable('organizations');
}

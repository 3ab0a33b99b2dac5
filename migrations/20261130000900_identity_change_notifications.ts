import type { Knex } from 'knex';

// The channel src/identity/authCache.ts listens on; restated, as a migration must not change with src.
const IDENTITY_CHANGED_CHANNEL = 'immoflow_identity_changed';

/**
 * API replicas cache resolved keys (src/identity/authCache.ts) and must forget them the moment
 * what they resolved to changes: a key revoked or re-scoped, an organisation's plan or flags, the
 * creator's e-mail (the default listing owner). Triggers, not application code, announce it, so
 * no write path (CLI, admin SQL, a future route) can forget to. Statement-level: a bulk change
 * notifies once. `last_used_at` is left out on purpose: it changes on use, not on meaning.
 */
const TRIGGERS = [
  { table: 'api_keys', events: 'update of key_hash, revoked_at, scopes, kind, mode, org_id, created_by or delete' },
  { table: 'organizations', events: 'update or delete' },
  { table: 'users', events: 'update of email or delete' },
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function immoflow_notify_identity_changed() returns trigger
    language plpgsql as $$
    begin
      perform pg_notify('${IDENTITY_CHANGED_CHANNEL}', tg_table_name);
      return null;
    end
    $$`);
  for (const { table, events } of TRIGGERS) {
    await knex.raw(`create trigger ${table}_identity_changed after ${events} on ${table} for each statement execute function immoflow_notify_identity_changed()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const { table } of TRIGGERS) await knex.raw(`drop trigger ${table}_identity_changed on ${table}`);
  await knex.raw('drop function immoflow_notify_identity_changed()');
}

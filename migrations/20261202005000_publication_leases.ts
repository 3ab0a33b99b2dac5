import type { Knex } from 'knex';

/**
 * Who is pushing one listing to one target right now (src/targets/publicationLease.ts). A
 * connection's backfill pushes its listings from one activity while each listing's own
 * `publication` workflow may be pushing a change, on any worker: the lease keeps the two from
 * pushing the same pair at once, so no stale push lands after a newer one. Expiry frees the pair
 * of a worker that died mid-push.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('publication_leases', (t) => {
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE');
    t.uuid('target_id').notNullable().references('targets.id').onDelete('CASCADE');
    t.text('holder').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['listing_id', 'target_id']);
    t.index(['target_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('publication_leases');
}

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per normalised address (normalizeAddress): a repeat costs no provider request.
  // A miss is cached too (found = false, no coordinates), so an unknown address is not asked again.
  await knex.schema.createTable('geocode_cache', (t) => {
    t.text('normalized_address').primary();
    t.boolean('found').notNullable();
    t.double('lat').nullable();
    t.double('lng').nullable();
    t.text('precision').nullable();
    t.text('provider').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('hit_count').notNullable().defaultTo(0);
    t.check(
      "(found and lat is not null and lng is not null and precision in ('rooftop','street','postcode','city')) or (not found and lat is null and lng is null and precision is null)",
      [],
      'geocode_cache_found_check',
    );
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('geocode_cache');
}

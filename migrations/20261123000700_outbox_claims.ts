import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    // A resync sweep's lease on a pending row (src/outbox/service.ts): the sweep claims rows in one
    // short statement, then starts their workflows outside any transaction. Until the lease runs
    // out no other sweep takes the row; a sweep that dies mid-batch leaves it to the next one after.
    t.timestamp('claimed_until', { useTz: true }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('claimed_until');
  });
}

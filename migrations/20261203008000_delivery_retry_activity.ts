import type { Knex } from 'knex';

/**
 * A delivery's retries are the tries of one activity, which Temporal retries at the time each
 * failed attempt chose (issue 16): no workflow task per retry. Temporal's attempt counter then
 * spans the delivery's attempts, so the delivery keeps which activity makes its retries and the
 * counter at the last try that recorded something: the next try's number within its attempt is
 * the difference, and a try that died after its POST is still logged as interrupted.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.text('retry_activity');
    t.integer('retry_activity_tries').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropColumn('retry_activity');
    t.dropColumn('retry_activity_tries');
  });
}

import type { Knex } from 'knex';

/**
 * A webhook attempt is one activity; when its worker dies between the POST and the write of the
 * answer, Temporal runs the activity again under the same attempt number. Before, that re-run
 * overwrote the row, so a request the subscriber had received vanished from the attempt log
 * (found by `npm run chaos` scenario 2). `try_number` is the activity's own attempt: each try gets
 * a row, and a try that never recorded its answer is logged as interrupted by the next one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('delivery_attempts', (t) => {
    t.integer('try_number').notNullable().defaultTo(1);
    t.dropUnique(['delivery_id', 'attempt_number']);
    t.unique(['delivery_id', 'attempt_number', 'try_number']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex('delivery_attempts').where('try_number', '>', 1).delete();
  await knex.schema.alterTable('delivery_attempts', (t) => {
    t.dropUnique(['delivery_id', 'attempt_number', 'try_number']);
    t.dropColumn('try_number');
    t.unique(['delivery_id', 'attempt_number']);
  });
}

import type { Knex } from 'knex';

/**
 * A write composed as one statement (data-modifying CTEs) cannot roll itself back half-way; it
 * calls this to abort, with `reason` as the message, when its checks fail at run time (e.g. the
 * listing was created but the Idempotency-Key belongs to another request). Raising undoes the
 * whole statement. src/db/sql.ts recognises the error.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function immoflow_abort_statement(reason text) returns boolean
    language plpgsql volatile as $$
    begin
      raise exception using errcode = 'P0001', message = 'immoflow_abort_statement: ' || reason;
    end
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function immoflow_abort_statement(text)');
}

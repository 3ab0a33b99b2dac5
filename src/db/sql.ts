import type { Knex } from 'knex';

/**
 * A piece of SQL with its `?` bindings, for the few writes that are composed into one statement
 * (a round trip per write instead of one per row; see docs/ARCHITECTURE.md).
 */
export interface SqlFragment {
  sql: string;
  bindings: Knex.RawBinding[];
}

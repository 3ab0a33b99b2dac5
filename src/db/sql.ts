import type { Knex } from 'knex';

/**
 * A piece of SQL with its `?` bindings, for the few writes that are composed into one statement
 * (a round trip per write instead of one per row; see docs/ARCHITECTURE.md).
 */
export interface SqlFragment {
  sql: string;
  bindings: Knex.RawBinding[];
}

const ABORT_PREFIX = 'immoflow_abort_statement: ';

/**
 * SQL that aborts the statement (rolls all of it back) with `reason` when `condition` holds at
 * run time; for the final SELECT of a composed write. See migration 20261124000800.
 */
export function abortStatementWhen(condition: string, reason: string): string {
  return `case when ${condition} then immoflow_abort_statement('${reason.replace(/'/g, "''")}') end`;
}

/** True for the error `abortStatementWhen(…, reason)` raises. */
export function isStatementAbort(error: unknown, reason: string): boolean {
  const candidate = error as { code?: string; message?: string };
  return candidate?.code === 'P0001' && typeof candidate.message === 'string' && candidate.message.endsWith(`${ABORT_PREFIX}${reason}`);
}

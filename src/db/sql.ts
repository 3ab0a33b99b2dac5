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

interface NamedStatement {
  name?: string;
  /** The SQL with knex's `?` placeholders numbered ($1, $2, …), as pg expects them. */
  text: string;
}

/**
 * Named statements by SQL text. A name is bound to one text for the life of the process, which
 * is what pg requires (it parses a name once per connection). Bounded, so a caller that builds
 * unbounded texts degrades to unnamed statements instead of growing every connection's cache.
 */
const namedStatements = new Map<string, NamedStatement>();
const MAX_NAMED_STATEMENTS = 64;

function namedStatement(executor: Knex, sql: string): NamedStatement {
  const known = namedStatements.get(sql);
  if (known) return known;
  const text = executor.client.positionBindings(sql) as string;
  if (namedStatements.size >= MAX_NAMED_STATEMENTS) return { text };
  const statement = { name: `immoflow_${namedStatements.size + 1}`, text };
  namedStatements.set(sql, statement);
  return statement;
}

/**
 * Runs `sql` (knex `?` placeholders) as a named prepared statement, for the statements every
 * request runs: Postgres parses and plans them once per connection instead of on every call,
 * which halved its CPU for the create's composed statement, and the query goes straight to the
 * connection, past knex's per-query runner (docs/BENCHMARKS.md). On a transaction it runs on the
 * transaction's connection.
 */
export async function preparedQuery<Row>(executor: Knex, sql: string, bindings: readonly unknown[]): Promise<{ rows: Row[] }> {
  const { name, text } = namedStatement(executor, sql);
  const connection = await executor.client.acquireConnection();
  try {
    return await connection.query({ name, text, values: bindings });
  } finally {
    await executor.client.releaseConnection(connection);
  }
}

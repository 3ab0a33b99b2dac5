import knexFactory, { Knex } from 'knex';
import fs from 'node:fs';
import path from 'node:path';
import { types } from 'pg';
import type { Config } from '../config';

export type Db = Knex;

// Calendar dates (available_from) stay 'YYYY-MM-DD' strings; a Date would shift them by time zone.
types.setTypeParser(types.builtins.DATE, (value) => value);

export function createDb(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>, options: { relaxedCommit?: boolean } = {}): Db {
  return knexFactory({
    client: 'pg',
    connection: config.DATABASE_URL,
    pool: {
      min: 0,
      max: config.DATABASE_POOL_MAX,
      ...(options.relaxedCommit
        ? {
            afterCreate: (connection: { query(sql: string, done: (error: Error | null) => void): void }, done: (error: Error | null, connection: unknown) => void) => {
              connection.query('set synchronous_commit = off', (error) => done(error, connection));
            },
          }
        : {}),
    },
    acquireConnectionTimeout: 10_000,
  });
}

/**
 * A pool whose commits do not wait for the WAL flush, for per-request bookkeeping: the key lookup
 * with its rate-limit count (every API request starts there, so it is as large as the main
 * pool), idempotency claims, `last_used_at`. Every request of one key increments the same
 * counter row; with a synchronous commit that row lock is held across an fsync and serialises the
 * whole API. Losing such a write in a Postgres crash is harmless: Postgres flushes WAL in order,
 * so the next synchronous commit (the request's own write) makes them durable too.
 */
export function createRelaxedDb(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>): Db {
  return createDb(config, { relaxedCommit: true });
}

const MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');

/**
 * Migrations are named without their extension, so a database migrated from source (`.ts`, dev
 * and tests) and from the compiled image (`.js`, production) records the same names.
 */
class MigrationDirectory implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
      .sort();
  }

  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }

  async getMigration(file: string): Promise<Knex.Migration> {
    return require(path.join(MIGRATIONS_DIR, file));
  }
}

export const migrationConfig: Knex.MigratorConfig = { migrationSource: new MigrationDirectory() };

export async function migrateToLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

import knexFactory, { Knex } from 'knex';
import path from 'node:path';
import { types } from 'pg';
import type { Config } from '../config';

export type Db = Knex;

// Calendar dates (available_from) stay 'YYYY-MM-DD' strings; a Date would shift them by time zone.
types.setTypeParser(types.builtins.DATE, (value) => value);

export function createDb(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>): Db {
  return knexFactory({
    client: 'pg',
    connection: config.DATABASE_URL,
    pool: { min: 0, max: config.DATABASE_POOL_MAX },
    acquireConnectionTimeout: 10_000,
  });
}

export const migrationConfig: Knex.MigratorConfig = {
  directory: path.resolve(__dirname, '../../migrations'),
  loadExtensions: ['.ts', '.js'],
  // Compiled (dist/) and source migrations share names; knex must treat them as the same file.
  extension: 'ts',
};

export async function migrateToLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

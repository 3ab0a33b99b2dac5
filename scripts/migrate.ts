import { loadConfig } from '../src/config';
import { createDb, migrateToLatest } from '../src/db/knex';

/** `npm run migrate`: brings DATABASE_URL's schema up to date (forward-only). */
async function main(): Promise<void> {
  const db = createDb(loadConfig());
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations: already up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

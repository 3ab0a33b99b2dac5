import { loadConfig } from './config';
import { runCli } from './cli/run';
import { createDb } from './db/knex';
import { createTemporalClientProvider } from './temporal/client';

async function main(): Promise<number> {
  const config = loadConfig();
  const db = createDb(config);
  const temporal = createTemporalClientProvider(config);
  try {
    return await runCli(process.argv.slice(2), { config, db, temporal }, {
      json: false,
      write: (text) => process.stdout.write(`${text}\n`),
      error: (text) => process.stderr.write(`${text}\n`),
    });
  } finally {
    await temporal.close();
    await db.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`immoflow: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);

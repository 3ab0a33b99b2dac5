import { loadConfig } from './config';
import { runCli } from './cli/run';
import { createDb } from './db/knex';

async function main(): Promise<number> {
  const db = createDb(loadConfig());
  try {
    return await runCli(process.argv.slice(2), { db }, {
      json: false,
      write: (text) => process.stdout.write(`${text}\n`),
      error: (text) => process.stderr.write(`${text}\n`),
    });
  } finally {
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

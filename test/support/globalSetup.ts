import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../../scripts/stack/stack';

/**
 * One stack for the whole run: a fresh database on the Postgres of DESIGN §3, one in-memory
 * Temporal dev server and one MinIO, on free ports. Workers inherit the env set here.
 * An engine that cannot start fails the run: integration tests are never skipped.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-test-'));
  const database = `immoflow_test_${Date.now()}_${process.pid}`;
  const stack = await startStack({ mode: 'test', dataDir, database });
  Object.assign(process.env, stack.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    IMMOFLOW_TEST_DATA_DIR: dataDir,
  });
  execFileSync(process.execPath, ['-r', '@swc-node/register', path.resolve(__dirname, '../../scripts/migrate.ts')], {
    env: process.env,
    stdio: 'inherit',
  });
  (globalThis as Record<string, unknown>).__IMMOFLOW_TEST_STACK__ = { stack, database, dataDir };
}

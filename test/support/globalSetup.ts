import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/stack/processes';
import { startStack } from '../../scripts/stack/stack';
import { loadConfig } from '../../src/config';
import { STORAGE_EVENTS_PATH } from '../../src/images/storageEvents';
import { startApi } from '../../src/server';

/**
 * One stack for the whole run: a fresh database on the Postgres of DESIGN §3, one in-memory
 * Temporal dev server and one MinIO, on free ports. Workers inherit the env set here.
 * An engine that cannot start fails the run: integration tests are never skipped.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-test-'));
  const database = `immoflow_test_${Date.now()}_${process.pid}`;
  // MinIO tells the API about finished image uploads: one API, started below, listens for the run.
  const storageEventsPort = await freePort();
  const stack = await startStack({
    mode: 'test',
    dataDir,
    database,
    storageEventsUrl: `http://127.0.0.1:${storageEventsPort}${STORAGE_EVENTS_PATH}`,
  });
  Object.assign(process.env, stack.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    IMMOFLOW_TEST_DATA_DIR: dataDir,
  });
  execFileSync(process.execPath, ['-r', '@swc-node/register', path.resolve(__dirname, '../../scripts/migrate.ts')], {
    env: process.env,
    stdio: 'inherit',
  });
  const api = await startApi(loadConfig(process.env), storageEventsPort);
  (globalThis as Record<string, unknown>).__IMMOFLOW_TEST_STACK__ = { stack, database, dataDir, api };
}

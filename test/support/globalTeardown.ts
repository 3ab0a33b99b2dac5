import fs from 'node:fs';
import type { Stack } from '../../scripts/stack/stack';
import type { RunningApi } from '../../src/server';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__IMMOFLOW_TEST_STACK__ as
    | { stack: Stack; database: string; dataDir: string; api: RunningApi }
    | undefined;
  if (!state) return;
  await state.api.close();
  await state.stack.postgres.dropDatabase(state.database).catch(() => undefined);
  await state.stack.stop();
  fs.rmSync(state.dataDir, { recursive: true, force: true });
}

import { Router } from 'express';
import type { Client as StorageClient } from 'minio';
import type { Db } from '../db/knex';
import type { TemporalClientProvider } from '../temporal/client';

interface Check {
  ok: boolean;
  latency_ms: number;
  error?: string;
}

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latency_ms: Date.now() - started };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { ok: false, latency_ms: Date.now() - started, error: `${(error as Error).message ?? String(error)}${cause}` };
  } finally {
    clearTimeout(timer);
  }
}

export interface ReadinessDeps {
  db: Db;
  temporal: TemporalClientProvider;
  storage: StorageClient;
  storageBucket: string;
  timeoutMs: number;
}

/** Liveness says the process runs; readiness says each engine it needs answers, separately. */
export function healthRouter(deps: ReadinessDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [postgres, temporal, minio] = await Promise.all([
      timed(() => deps.db.raw('select 1'), deps.timeoutMs),
      timed(async () => (await deps.temporal.get()).workflowService.getSystemInfo({}), deps.timeoutMs),
      timed(() => deps.storage.bucketExists(deps.storageBucket), deps.timeoutMs),
    ]);
    const checks = { postgres, temporal, minio };
    const ready = Object.values(checks).every((check) => check.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'degraded', checks });
  });
  return router;
}

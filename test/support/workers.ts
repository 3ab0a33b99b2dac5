import { NativeConnection } from '@temporalio/worker';
import { Registry } from 'prom-client';
import type { ActivityDeps } from '../../activities/deps';
import type { AppDeps } from '../../src/http/app';
import { createOutboxStarter } from '../../src/outbox/service';
import { createWorkerProcess } from '../../src/temporal/workerFactory';
import { TestApi, TestContext, createTestContext, startTestApi, workflowBundle } from './context';

export interface TestWorkers {
  stop(): Promise<void>;
}

/**
 * The real workers (main, webhooks and geocoding queues) in-process, on the test file's task queue, with the
 * outbox relay every worker process runs.
 */
export async function startTestWorkers(deps: AppDeps, extra: Pick<ActivityDeps, 'resolve'> = {}): Promise<TestWorkers> {
  const connection = await NativeConnection.connect({ address: deps.config.TEMPORAL_ADDRESS });
  const outbox = createOutboxStarter(deps.db, deps.temporal, deps.logger);
  const activityDeps: ActivityDeps = { config: deps.config, db: deps.db, logger: deps.logger, storage: deps.storage, outbox, ...extra };
  const { workers, startRelay } = await createWorkerProcess({ connection, deps: activityDeps, metrics: new Registry(), workflowBundle: await workflowBundle() });
  const running = workers.map((worker) => worker.run());
  const relay = startRelay();
  return {
    async stop() {
      await relay.stop();
      for (const worker of workers) worker.shutdown();
      await Promise.all(running);
      await connection.close();
    },
  };
}

export interface TestStack {
  ctx: TestContext;
  api: TestApi;
  workers: TestWorkers;
  close(): Promise<void>;
}

/** The whole product for one test file: engines' clients, the API on loopback, and the workers. */
export async function startTestStack(overrides: Record<string, string> = {}, options: { apiPort?: number; activityDeps?: Pick<ActivityDeps, 'resolve'> } = {}): Promise<TestStack> {
  const ctx = await createTestContext(overrides);
  const api = await startTestApi(ctx.deps, undefined, options.apiPort);
  const workers = await startTestWorkers(ctx.deps, options.activityDeps);
  return {
    ctx,
    api,
    workers,
    async close() {
      await workers.stop();
      await api.close();
      await ctx.close();
    },
  };
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChaosFaults, ChaosStack } from '../../bench/chaos/scenario';
import { TestContext, seedOrganization, testConfig, workflowBundle } from './context';
import { startTestStack } from './workers';
import { CrashTestStack, WorkerProcess, startCrashTestStack } from './workerProcess';

export interface ClosableChaosStack extends ChaosStack {
  ctx: TestContext;
  close(): Promise<void>;
}

/** The env every process of a jest chaos stack runs with: the suite's, the test's overrides, its task queue. */
export function stackEnv(ctx: TestContext, overrides: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  return { ...env, ...overrides, TEMPORAL_TASK_QUEUE: ctx.deps.config.TEMPORAL_TASK_QUEUE };
}

/** `seedOrganization` as the ChaosStack contract has it. */
export const seeder = (ctx: TestContext) => async () => {
  const org = await seedOrganization(ctx.deps);
  return { orgId: org.organization.id, secretKey: org.secretKey, secretKeyId: org.secretKeyId };
};

/** The suite's engines, the API and in-process workers: a ChaosStack with no faults (scenarios 6, 8, 10). */
export async function startInProcessChaosStack(overrides: Record<string, string> = {}): Promise<ClosableChaosStack> {
  const test = await startTestStack(overrides);
  return {
    ctx: test.ctx,
    apiUrl: test.api.baseUrl,
    db: test.ctx.deps.db,
    env: stackEnv(test.ctx, overrides),
    seedOrganization: seeder(test.ctx),
    faults: {},
    close: () => test.close(),
  };
}

/**
 * The API in-process and `workers` worker processes (startCrashTestStack), so killWorker and
 * startWorker are real SIGKILLs and restarts. The suite's engines are shared by every test file,
 * so no engine fault is offered here.
 */
export async function startWorkerProcessChaosStack(overrides: Record<string, string> = {}, workers = 1): Promise<ClosableChaosStack & { crash: CrashTestStack }> {
  testConfig(overrides); // a bad override fails here, before anything starts
  // One bundle for every worker start: a restart that re-ran webpack would take a minute on two busy cores.
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-outage-bundle-'));
  const bundlePath = path.join(bundleDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, (await workflowBundle()).code);
  const crash = await startCrashTestStack({ TEMPORAL_WORKFLOW_BUNDLE: bundlePath, ...overrides });
  const running: (WorkerProcess | undefined)[] = [];
  for (let index = 0; index < workers; index += 1) running.push(await crash.startWorker());
  const faults: Partial<ChaosFaults> = {
    workerCount: () => running.length,
    async killWorker(index) {
      const worker = running[index];
      if (!worker) throw new Error(`worker ${index} is not running`);
      await worker.kill('SIGKILL');
      running[index] = undefined;
    },
    async startWorker(index) {
      if (running[index]) throw new Error(`worker ${index} is already running`);
      running[index] = await crash.startWorker();
    },
  };
  return {
    crash,
    ctx: crash.ctx,
    apiUrl: crash.api.baseUrl,
    db: crash.ctx.deps.db,
    env: stackEnv(crash.ctx, overrides),
    seedOrganization: seeder(crash.ctx),
    faults,
    async close() {
      await crash.close();
      fs.rmSync(bundleDir, { recursive: true, force: true });
    },
  };
}

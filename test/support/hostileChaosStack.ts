import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { ChaosFaults, ChaosStack } from '../../bench/chaos/scenario';
import { stackEnv, seeder } from './chaosStack';
import { TestApi, TestContext, createTestContext, startTestApi } from './context';
import { WorkerProcess, startWorkerProcess } from './workerProcess';
import { freePort } from '../../scripts/stack/processes';

export interface HostileChaosStack {
  stack: ChaosStack;
  ctx: TestContext;
  api: TestApi;
  close(): Promise<void>;
}

/**
 * A ChaosStack for the scenarios jest runs (7 and 9): the API in this process (so a test can
 * inspect its prototypes), logging at info to a file as production does, and optionally worker
 * processes whose output goes to log files too. Faults it cannot offer are absent.
 */
export async function startHostileChaosStack(options: { overrides?: Record<string, string>; workers?: number } = {}): Promise<HostileChaosStack> {
  const overrides = options.overrides ?? {};
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-chaos-logs-'));
  const logFiles: string[] = [];
  const apiLog = path.join(logDir, 'api.log');
  logFiles.push(apiLog);
  const ctx = await createTestContext(overrides);
  const destination = pino.destination({ dest: apiLog, sync: true });
  ctx.deps.logger = pino({ level: 'info' }, destination);
  const api = await startTestApi(ctx.deps);
  const env = stackEnv(ctx, overrides);
  const workers: WorkerProcess[] = [];
  for (let index = 0; index < (options.workers ?? 0); index += 1) {
    const file = path.join(logDir, `worker-${index}.log`);
    logFiles.push(file);
    const out = fs.createWriteStream(file);
    const worker = await startWorkerProcess({ ...env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: String(await freePort()) });
    // What the worker printed while starting, then everything after it.
    out.write(worker.output());
    worker.child.stdout?.on('data', (chunk) => out.write(chunk));
    worker.child.stderr?.on('data', (chunk) => out.write(chunk));
    worker.child.once('exit', () => out.end());
    workers.push(worker);
  }
  const faults: Partial<ChaosFaults> = {
    logFiles: () => [...logFiles],
    workerCount: () => workers.length,
    killWorker: (index) => workers[index].kill('SIGKILL'),
  };
  const stack: ChaosStack = {
    apiUrl: api.baseUrl,
    db: ctx.deps.db,
    env,
    seedOrganization: seeder(ctx),
    faults,
  };
  return {
    stack,
    ctx,
    api,
    async close() {
      for (const worker of workers) await worker.kill('SIGKILL');
      await api.close();
      destination.flushSync();
      await ctx.close();
    },
  };
}

import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../scripts/stack/processes';
import { TestApi, TestContext, createTestContext, startTestApi } from './context';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** `src/worker.ts` as its own OS process, exactly as production runs it, so it can be SIGKILLed. */
export function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  return startServiceProcess('src/worker.ts', 'worker started', env);
}

/** An Immoflow process (`entry`) on its own, resolved once it logs `readyMessage`. */
export async function startServiceProcess(entry: string, readyMessage: string, env: Record<string, string>): Promise<WorkerProcess> {
  const root = path.resolve(__dirname, '../..');
  const name = path.basename(entry, '.ts');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${output}`)), 60_000);
    const check = () => {
      if (output.includes(`"msg":"${readyMessage}"`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before starting:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface CrashTestStack {
  ctx: TestContext;
  api: TestApi;
  /** A new worker process on the stack's task queue (its own metrics port); killed at close. */
  startWorker(): Promise<WorkerProcess>;
  close(): Promise<void>;
}

/**
 * The API in this process and workers as OS processes, for tests that SIGKILL a worker: `overrides`
 * configure both, so the workers see what the API sees.
 */
export async function startCrashTestStack(overrides: Record<string, string> = {}): Promise<CrashTestStack> {
  const ctx = await createTestContext(overrides);
  const api = await startTestApi(ctx.deps);
  const env = { ...overrides, TEMPORAL_TASK_QUEUE: ctx.deps.config.TEMPORAL_TASK_QUEUE };
  const workers: WorkerProcess[] = [];
  return {
    ctx,
    api,
    async startWorker() {
      const worker = await startWorkerProcess({ ...env, WORKER_METRICS_PORT: String(await freePort()) });
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const worker of workers) await worker.kill('SIGKILL');
      await api.close();
      await ctx.close();
    },
  };
}

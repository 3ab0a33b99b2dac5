import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';

/** What every benchmark needs: child processes, percentiles, and its section in docs/BENCHMARKS.md. */
export const root = path.resolve(__dirname, '..');

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

let productionBuilt = false;

/**
 * `npm run build`, once per benchmark process: Immoflow's own processes are measured as the
 * Dockerfile runs them, compiled JavaScript with the prebuilt workflow bundle. Run from source
 * (swc at load, webpack bundling the workflows at start-up) the idle worker measured 394 MB of
 * RSS against 213 MB built (2026-12-02), which is start-up cost, not the pipeline's.
 */
function ensureProductionBuild(): void {
  if (productionBuilt) return;
  console.log('[bench] building (npm run build) so that the API and the worker run as in production');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  productionBuilt = true;
}

/**
 * The worker's node flags in production, as docker-compose.yml's worker command has them (a unit
 * test keeps the two in step). Heap limits make V8 collect before it grows: with the defaults of a
 * 24 GiB machine (about 4 GiB old space, 16 MB semi-spaces) the worker's peak RSS under
 * bench:attachments was 397–425 MB; with these 321–359 MB at the same throughput (the measured
 * steps are in docs/BENCHMARKS.md).
 */
export const PRODUCTION_WORKER_NODE_FLAGS = ['--max-old-space-size=384', '--max-semi-space-size=8'];

/**
 * The API's, as docker-compose.yml's api command has them. A heap snapshot of the API at the end
 * of bench:listings' 64-connection level held 40 MB; its peak RSS with the defaults was 264–267 MB,
 * V8 growing the heap lazily toward its default limit rather than collecting.
 */
export const PRODUCTION_API_NODE_FLAGS = ['--max-old-space-size=160', '--max-semi-space-size=8'];

/** Node flags in this run: BENCH_WORKER_NODE_FLAGS / BENCH_API_NODE_FLAGS (space-separated) measure others. */
function nodeFlags(variable: string, production: string[]): string[] {
  const chosen = process.env[variable];
  return chosen !== undefined ? chosen.split(' ').filter(Boolean) : production;
}

export function workerNodeFlags(): string[] {
  return nodeFlags('BENCH_WORKER_NODE_FLAGS', PRODUCTION_WORKER_NODE_FLAGS);
}

export function apiNodeFlags(): string[] {
  return nodeFlags('BENCH_API_NODE_FLAGS', PRODUCTION_API_NODE_FLAGS);
}

/**
 * The node arguments for `args`: an entry point of ours (`src/<name>.ts`) runs from the production
 * build (`dist/src/<name>.js`), the worker and the API with their production flags; a benchmark's own helper
 * (`bench/…`) runs from source through swc.
 */
function nodeArguments(args: string[]): string[] {
  const ours = args.findIndex((arg) => /^src\/[\w-]+\.ts$/.test(arg));
  if (ours < 0) return ['-r', '@swc-node/register', ...args];
  ensureProductionBuild();
  const flags = args[ours] === 'src/worker.ts' ? workerNodeFlags() : args[ours] === 'src/server.ts' ? apiNodeFlags() : [];
  return [...flags, ...args.map((arg, index) => (index === ours ? `dist/${arg.replace(/\.ts$/, '.js')}` : arg))];
}

/**
 * Starts a node process (see nodeArguments) with its output going to a log file, and resolves
 * once that output contains `ready`. The file, not a pipe to us: the benchmark process is also the
 * load generator, and reading a server's log lines would spend its CPU on the server's behalf.
 */
export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, ready: string, timeoutMs = 120_000): Promise<ChildProcess> {
  const logFile = path.join(os.tmpdir(), `immoflow-bench-${name}-${process.pid}-${Date.now()}.log`);
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, nodeArguments(args), { cwd: root, env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  console.log(`[bench] ${name} logs to ${logFile}`);
  const output = () => fs.readFileSync(logFile, 'utf8');
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => {
      if (output().includes(ready)) {
        clearInterval(poll);
        resolve(child);
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`${name} did not start:\n${output().slice(-2000)}`));
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`${name} exited with ${code}:\n${output().slice(-2000)}`));
    });
  });
}

/** Replaces (or appends under `heading`) the section between `<!-- bench:<name>:start/end -->`. */
export function writeBenchmarkSection(name: string, heading: string, body: string): void {
  const file = path.join(root, 'docs/BENCHMARKS.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const next = current.includes(start)
    ? current.replace(new RegExp(`${start}[\\s\\S]*${end}`), section)
    : `${current.trimEnd()}\n\n## ${heading}\n\n${section}\n`;
  fs.writeFileSync(file, next);
}

/** Runs `count` async jobs with at most `concurrency` in flight (closed loop). */
export async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

/**
 * The environment of a production-mode process on the bench stack (with fresh keys), the
 * database migrated, and the operator CLI bound to it.
 */
export function prepareBenchEnv(stackEnv: Record<string, string>, extra: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stackEnv,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PARTNER_LINK_SIGNING_KEY: randomBytes(32).toString('base64'),
    ...extra,
  };
  execFileSync(process.execPath, ['-r', '@swc-node/register', 'scripts/migrate.ts'], { cwd: root, env, stdio: 'inherit' });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const cli = (...args: string[]): any => JSON.parse(execFileSync(path.join(root, 'bin/immoflow'), [...args, '--json'], { cwd: root, env }).toString());
  return { env, cli };
}

/** Stops a benchmark's child processes (SIGTERM, then SIGKILL), drops its database, stops its engines. */
export async function stopBenchRun(run: {
  children: ChildProcess[];
  stack: { postgres: { dropDatabase(name: string): Promise<unknown> }; stop(): Promise<unknown> };
  database: string;
  dataDir: string;
}): Promise<void> {
  for (const child of run.children) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (const child of run.children) if (child.exitCode === null) child.kill('SIGKILL');
  await run.stack.postgres.dropDatabase(run.database).catch(() => undefined);
  await run.stack.stop();
  fs.rmSync(run.dataDir, { recursive: true, force: true });
}

/**
 * Progress through a benchmark's phases, one line each with the time since the first, so a run
 * of several minutes shows where it is: `[bench] listings 2/7 +12 s: starting the API`.
 */
export function benchPhases(bench: string, total: number): (what: string) => void {
  const started = Date.now();
  let current = 0;
  return (what) => {
    current += 1;
    console.log(`[bench] ${bench} ${current}/${total} +${Math.round((Date.now() - started) / 1000)} s: ${what}`);
  };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) of a process so far, in ms; null when it cannot be read. */
export function processCpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Busy and total CPU time of the whole machine so far, in ms. */
export function machineCpuMs(): { busy: number; total: number } {
  const [, ...values] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const ticks = values.map(Number);
  const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = ticks[3] + ticks[4];
  return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
}

/** CPU counters of the named processes, this database's Postgres backends and the machine, at one instant. */
export interface CpuSnapshot {
  at: number;
  processes: Record<string, number | null>;
  postgres: Map<number, number>;
  machine: { busy: number; total: number };
}

/** What a window between two snapshots cost. */
export interface CpuWindow {
  window_s: number;
  /** ms of CPU per process; `postgres` is this database's backends, `bench` this process. */
  cpu_ms: Record<string, number | null>;
  machine_busy_cores: number;
}

/**
 * Measures the CPU that named processes spend over a window, and this database's Postgres
 * backends, listed at each snapshot since pools open connections along the way. `query` runs SQL
 * on the benchmark's own connection (a pg Client's `query`, a knex `raw`).
 */
export function cpuMeter(processes: Record<string, number | undefined>, query: (sql: string) => Promise<{ rows: unknown[] }>) {
  const backendPids = async () => ((await query('select pid from pg_stat_activity where datname = current_database()')).rows as { pid: number }[]).map((row) => row.pid);
  const snapshot = async (): Promise<CpuSnapshot> => {
    const postgres = new Map<number, number>();
    for (const pid of await backendPids()) {
      const ms = processCpuMs(pid);
      if (ms !== null) postgres.set(pid, ms);
    }
    const own = process.cpuUsage();
    const counters: Record<string, number | null> = { bench: (own.user + own.system) / 1000 };
    for (const [name, pid] of Object.entries(processes)) counters[name] = processCpuMs(pid);
    return { at: Date.now(), processes: counters, postgres, machine: machineCpuMs() };
  };
  const since = async (start: CpuSnapshot): Promise<CpuWindow> => {
    const end = await snapshot();
    const cpu: Record<string, number | null> = {};
    for (const [name, value] of Object.entries(end.processes)) {
      const before = start.processes[name];
      cpu[name] = value === null || before === null ? null : value - before;
    }
    let postgres = 0;
    for (const [pid, value] of end.postgres) postgres += value - (start.postgres.get(pid) ?? 0);
    cpu.postgres = postgres;
    return { window_s: round((end.at - start.at) / 1000, 2), cpu_ms: cpu, machine_busy_cores: round((end.machine.busy - start.machine.busy) / (end.at - start.at), 2) };
  };
  return { snapshot, since };
}

/** CPU ms per unit of work (a delivery, a publish) for the named processes of a window. */
export function cpuMsPer(window: CpuWindow, units: number, names: string[] = Object.keys(window.cpu_ms)): Record<string, number | null> {
  return Object.fromEntries(names.map((name) => {
    const ms = window.cpu_ms[name];
    return [name, ms === null || ms === undefined ? null : round(ms / units, 1)];
  }));
}

/** Runs `count` jobs, job i due `i * intervalMs` after the start (open loop: a slow job delays none). */
export async function paced(count: number, intervalMs: number, job: (index: number) => Promise<void>): Promise<void> {
  const started = Date.now();
  const running: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const wait = started + index * intervalMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(job(index));
  }
  await Promise.all(running);
}

/**
 * The engine's throughput: `count` noopWorkflow runs (one no-op activity each, bench/noopWorker.ts
 * with the SDK's default settings), `concurrency` starts in flight, from the first start to the
 * last completion. Not one round trip: the server's and a worker's capacity for the smallest
 * workflow with an activity.
 */
export async function engineNoopWorkflowsPerSecond(client: Client, taskQueue: string, count: number, concurrency = 50): Promise<number> {
  const started = Date.now();
  const results: Promise<unknown>[] = [];
  await pool(count, concurrency, async () => {
    const handle = await client.workflow.start('noopWorkflow', { taskQueue, workflowId: `noop-${randomUUID()}` });
    results.push(handle.result());
  });
  await Promise.all(results);
  return round(count / ((Date.now() - started) / 1000));
}

/** Creates one subscription to `events` per URL, through the API with `apiKey` (scope webhooks:write). */
export async function subscribeWebhooks(apiBase: string, apiKey: string, urls: string[], events: string[]): Promise<void> {
  for (const url of urls) {
    const response = await fetch(`${apiBase}/api/v1/webhooks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': apiKey },
      body: JSON.stringify({ url, events }),
    });
    if (response.status !== 201) throw new Error(`webhook create: ${response.status} ${await response.text()}`);
  }
}

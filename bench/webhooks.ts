import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client as TemporalClient } from '@temporalio/client';
import pino from 'pino';
import { Agent, request } from 'undici';
import { freePort } from '../scripts/stack/processes';
import { startStack, type Stack } from '../scripts/stack/stack';
import { loadConfig } from '../src/config';
import { createDb, createRelaxedDb, type Db } from '../src/db/knex';
import { workflowIds } from '../src/domain/workflowIds';
import { appendEvent, eventFanoutSink } from '../src/events/service';
import { createOutboxDispatcher, type OutboxDispatcher } from '../src/outbox/service';
import { createTemporalClientProvider } from '../src/temporal/client';
import { signedHeaders } from '../src/webhooks/signing';

/**
 * `npm run bench:webhooks` (issue 4): deliveries/s and event-committed → subscriber-received
 * latency with 1 and 10 subscriptions to a subscriber on loopback, side by side in one run with
 *  - the engine's limit: as many no-op workflows (one no-op activity each) on the same Temporal
 *    server, from a worker child process with the same (default) settings — `ratio` is
 *    deliveries/s ÷ its workflows/s;
 *  - the network's ceiling: as many signed POSTs from a plain undici loop.
 * It also records where the time goes: CPU per delivery of every process involved, and a latency
 * breakdown of sampled deliveries from their Temporal histories.
 *
 * Writes bench/results/webhooks.json and the section between the bench:webhooks markers in
 * docs/BENCHMARKS.md. Every wait is bounded; BENCH_TIMEOUT_MS bounds the whole run.
 */
const root = path.resolve(__dirname, '..');
/** Deliveries per scenario (events = this ÷ subscriptions). */
const TOTAL_DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 400);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? '1,10').split(',').map(Number);
/** Events committed and dispatched in flight, as concurrent writes would; also the engine's starts in flight. */
const EVENTS_IN_FLIGHT = 10;
/** The network loop runs subscriptions × this requests in flight. */
const FANOUT_CONCURRENCY = 10;
const WARMUP_EVENTS = 20;
const WARMUP_SUBSCRIPTIONS = 2;
const SAMPLES = 25;
const RUN_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 25 * 60_000);
const PHASE_TIMEOUT_MS = Number(process.env.BENCH_PHASE_TIMEOUT_MS ?? 5 * 60_000);
const OP_TIMEOUT_MS = 30_000;

const round = (value: number, digits = 1) => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : null);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : NaN;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `count` async jobs with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Child processes

interface Child {
  name: string;
  process: ChildProcess;
  output(): string;
  /** Stopped on purpose: its exit is not a failure. */
  stopped: boolean;
}

const children: Child[] = [];

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<Child> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const handle: Child = { name, process: child, output: () => output, stopped: false };
  children.push(handle);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 120 s:\n${output.slice(-3000)}`)), 120_000);
    const onData = (chunk: Buffer) => {
      // Keep only the tail: the children run for the whole benchmark.
      output = (output + chunk.toString()).slice(-20_000);
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve(handle);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}):\n${output.slice(-3000)}`));
    });
  });
}

/** Throws when a child died: a wait on its work would otherwise run into its timeout. */
function assertChildrenAlive(): void {
  for (const child of children) {
    if (!child.stopped && (child.process.exitCode !== null || child.process.signalCode !== null)) {
      throw new Error(`${child.name} exited (${child.process.exitCode ?? child.process.signalCode}):\n${child.output().slice(-3000)}`);
    }
  }
}

async function waitUntil(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertChildrenAlive();
    if (await withTimeout(Promise.resolve(probe()), OP_TIMEOUT_MS, `probe for ${what}`)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}

async function stopChildren(): Promise<void> {
  const running = children.filter((child) => child.process.exitCode === null && child.process.signalCode === null);
  const exited = running.map((child) => new Promise((resolve) => child.process.once('exit', resolve)));
  for (const child of running) child.process.kill('SIGTERM');
  await Promise.race([Promise.all(exited), sleep(8000)]);
  for (const child of running) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc: where the machine's two cores go during each phase

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

function readProcStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) start at field 3.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // utime stime cutime cstime
      stats.set(Number(entry), { pid: Number(entry), ppid: Number(fields[1]), ticks });
    } catch {
      // Gone meanwhile.
    }
  }
  return stats;
}

/** CPU ms of a process and its live descendants (reaped ones are in their parents' cutime). */
function treeCpuMs(stats: Map<number, ProcStat>, rootPid: number | undefined): number | null {
  if (!rootPid || !stats.has(rootPid)) return null;
  let ticks = 0;
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.pop() as number;
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const stat of stats.values()) if (stat.ppid === pid) queue.push(stat.pid);
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

function machineCpuMs(): { busy: number; total: number } {
  const [, ...values] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: (busy * 1000) / CLOCK_TICKS, total: ((busy + idle + iowait) * 1000) / CLOCK_TICKS };
}

type CpuSnapshot = Record<string, number | null> & { machine_busy: number; machine_total: number };

function makeCpuSampler(pids: () => Record<string, number | undefined>) {
  return (): CpuSnapshot => {
    const stats = readProcStats();
    const usage = process.cpuUsage();
    const machine = machineCpuMs();
    const snapshot: CpuSnapshot = { machine_busy: machine.busy, machine_total: machine.total, bench: (usage.user + usage.system) / 1000 };
    for (const [name, pid] of Object.entries(pids())) snapshot[name] = treeCpuMs(stats, pid);
    return snapshot;
  };
}

/** CPU ms per work item of each process during a phase, the rest of the machine, and its utilisation. */
function cpuPerItem(before: CpuSnapshot, after: CpuSnapshot, items: number) {
  const perItem: Record<string, number | null> = {};
  let known = 0;
  for (const name of Object.keys(after)) {
    if (name === 'machine_busy' || name === 'machine_total') continue;
    const start = before[name];
    const end = after[name];
    if (start === null || end === null || start === undefined) {
      perItem[name] = null;
      continue;
    }
    known += end - start;
    perItem[name] = round((end - start) / items, 2);
  }
  const busy = after.machine_busy - before.machine_busy;
  perItem.other_processes = round(Math.max(0, busy - known) / items, 2);
  return { cpu_ms_per_item: perItem, machine_busy_pct: round((100 * busy) / Math.max(1, after.machine_total - before.machine_total)) };
}

// ---------------------------------------------------------------------------------------------
// Latency breakdown from Temporal histories

interface Timeline {
  started?: number;
  wft1Scheduled?: number;
  wft1Started?: number;
  wft1Completed?: number;
  actScheduled?: number;
  actStarted?: number;
  actCompleted?: number;
  wft2Scheduled?: number;
  wft2Started?: number;
  closed?: number;
}

function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!ts) return NaN;
  const seconds = ts.seconds as number | { toNumber(): number } | null | undefined;
  const whole = typeof seconds === 'object' && seconds !== null ? seconds.toNumber() : Number(seconds ?? 0);
  return whole * 1000 + (ts.nanos ?? 0) / 1e6;
}

/** The first workflow task, the first activity, the workflow task after it, and the close. */
async function timelineOf(client: TemporalClient, workflowId: string): Promise<Timeline> {
  const history = await withTimeout(client.workflow.getHandle(workflowId).fetchHistory(), OP_TIMEOUT_MS, `history of ${workflowId}`);
  const t: Timeline = {};
  for (const event of history.events ?? []) {
    const at = timestampMs(event.eventTime as { seconds?: unknown; nanos?: number });
    if (event.workflowExecutionStartedEventAttributes) t.started = at;
    else if (event.workflowTaskScheduledEventAttributes) {
      if (t.wft1Scheduled === undefined) t.wft1Scheduled = at;
      else if (t.actCompleted !== undefined && t.wft2Scheduled === undefined) t.wft2Scheduled = at;
    } else if (event.workflowTaskStartedEventAttributes) {
      if (t.wft1Started === undefined) t.wft1Started = at;
      else if (t.wft2Scheduled !== undefined && t.wft2Started === undefined) t.wft2Started = at;
    } else if (event.workflowTaskCompletedEventAttributes) {
      if (t.wft1Completed === undefined) t.wft1Completed = at;
    } else if (event.activityTaskScheduledEventAttributes) {
      if (t.actScheduled === undefined) t.actScheduled = at;
    } else if (event.activityTaskStartedEventAttributes) {
      if (t.actStarted === undefined) t.actStarted = at;
    } else if (event.activityTaskCompletedEventAttributes) {
      if (t.actCompleted === undefined) t.actCompleted = at;
    } else if (event.workflowExecutionCompletedEventAttributes) t.closed = at;
  }
  return t;
}

/** Mean of each named segment over the samples, in ms (means add up; medians would not). */
function meanSegments(samples: Record<string, number>[]): Record<string, number | null> {
  const names = samples.length ? Object.keys(samples[0]) : [];
  return Object.fromEntries(names.map((name) => [name, round(mean(samples.map((sample) => sample[name]).filter(Number.isFinite)), 1)]));
}

function engineSegments(t: Timeline): Record<string, number> {
  return {
    wft1_queue_wait: (t.wft1Started as number) - (t.wft1Scheduled as number),
    wft1_run: (t.actScheduled as number) - (t.wft1Started as number),
    activity_queue_wait: (t.actStarted as number) - (t.actScheduled as number),
    activity_run: (t.actCompleted as number) - (t.actStarted as number),
    wft2_queue_wait: (t.wft2Started as number) - (t.wft2Scheduled as number),
    wft2_run: (t.closed as number) - (t.wft2Started as number),
    total_start_to_close: (t.closed as number) - (t.started as number),
  };
}

// ---------------------------------------------------------------------------------------------
// The benchmark

interface Context {
  env: NodeJS.ProcessEnv;
  config: ReturnType<typeof loadConfig>;
  db: Db;
  outbox: OutboxDispatcher;
  client: TemporalClient;
  noopQueue: string;
  subscriberPort: number;
  /** scenario tag → `${path}|${eventId}` → first arrival (ms). */
  arrivals: Map<string, Map<string, number>>;
  sampleCpu: () => CpuSnapshot;
  noopStarted: number;
}

interface Subscription {
  id: string;
  path: string;
}

async function createSubscriptions(ctx: Context, apiPort: number, tag: string, count: number): Promise<{ orgId: string; subscriptions: Subscription[] }> {
  const cli = (...args: string[]) => JSON.parse(execFileSync(path.join(root, 'bin/immoflow'), [...args, '--json'], { cwd: root, env: ctx.env, timeout: 60_000 }).toString());
  const org = cli('org', 'create', '--name', `Bench ${tag}`, '--plan', 'enterprise', '--flag', 'WEBHOOKS_PUBLIC_API_ENABLED', '--flag', 'LISTINGS_WRITE_API_ENABLED', '--owner-email', `bench-${tag}@example.com`);
  const key = cli('key', 'create', '--org', org.id, '--kind', 'secret', '--mode', 'test', '--scope', 'webhooks:write', '--scope', 'listings:write');
  const subscriptions: Subscription[] = [];
  for (let i = 0; i < count; i += 1) {
    const hookPath = `/hook/${tag}/${i}`;
    const response = await fetch(`http://127.0.0.1:${apiPort}/api/v1/webhooks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': key.key },
      body: JSON.stringify({ url: `http://127.0.0.1:${ctx.subscriberPort}${hookPath}`, events: ['listing.created'], description: `bench ${tag} #${i}` }),
      signal: AbortSignal.timeout(OP_TIMEOUT_MS),
    });
    const body = (await response.json()) as { id?: string; data?: { id: string } };
    if (response.status !== 201) throw new Error(`webhook create: ${response.status} ${JSON.stringify(body)}`);
    subscriptions.push({ id: (body.data?.id ?? body.id) as string, path: hookPath });
  }
  ctx.arrivals.set(tag, new Map());
  return { orgId: org.id, subscriptions };
}

interface DeliveryPhase {
  events: number;
  deliveries: number;
  deliveries_per_s: number | null;
  deliveries_completed_per_s: number | null;
  latency_p50_ms: number;
  latency_p99_ms: number;
  latency_max_ms: number;
  cpu: ReturnType<typeof cpuPerItem>;
  breakdown_ms: Record<string, number | null>;
  breakdown_samples: number;
}

/** Events committed with appendEvent (owing their eventFanout) and dispatched as a write does. */
async function runDeliveries(ctx: Context, tag: string, orgId: string, subscriptions: Subscription[], events: number, sample: boolean): Promise<DeliveryPhase> {
  const expected = events * subscriptions.length;
  const arrivals = ctx.arrivals.get(tag) as Map<string, number>;
  const committedAt = new Map<string, number>();
  const eventOrder: string[] = [];
  const cpuBefore = ctx.sampleCpu();
  let firstCommit = Infinity;
  await withTimeout(
    pool(events, EVENTS_IN_FLIGHT, async (index) => {
      const sink = eventFanoutSink(ctx.config.TEMPORAL_TASK_QUEUE);
      const event = await withTimeout(
        ctx.db.transaction((trx) => appendEvent(trx, orgId, 'listing.created', { listingId: randomUUID(), externalRef: `BENCH-${tag}-${index}` }, sink)),
        OP_TIMEOUT_MS,
        'event commit',
      );
      const at = Date.now();
      firstCommit = Math.min(firstCommit, at);
      committedAt.set(event.event_id, at);
      eventOrder.push(event.event_id);
      if (sink.owed.length !== 1) throw new Error(`event ${event.event_id} owed ${sink.owed.length} fan-outs (no active webhook?)`);
      const { deferred } = await withTimeout(ctx.outbox.dispatch(sink.owed), OP_TIMEOUT_MS, 'fan-out start');
      if (deferred) throw new Error(`the fan-out of ${event.event_id} could not be started`);
    }),
    PHASE_TIMEOUT_MS,
    `committing ${events} events`,
  );
  await waitUntil(`${expected} deliveries at the subscriber (${tag})`, () => arrivals.size >= expected, PHASE_TIMEOUT_MS);
  const arrivalTimes = [...arrivals.values()];
  const lastArrival = Math.max(...arrivalTimes);
  const latencies = [...arrivals.entries()].map(([key, at]) => at - (committedAt.get(key.split('|')[1]) as number)).sort((a, b) => a - b);

  // Drained: every delivery recorded as succeeded and no fan-out/delivery workflow still open, so
  // the next phase has the machine to itself and the CPU of this one is complete.
  let lastCompletion = NaN;
  await waitUntil(
    `${expected} deliveries recorded as succeeded (${tag})`,
    async () => {
      const [row] = await ctx.db('webhook_deliveries').where({ org_id: orgId, status: 'succeeded' }).count<{ n: string }[]>('* as n').max('completed_at as last');
      lastCompletion = row.last ? new Date(row.last as unknown as string).getTime() : NaN;
      return Number(row.n) >= expected;
    },
    PHASE_TIMEOUT_MS,
    250,
  );
  await waitUntil(
    'fan-out and delivery workflows closed',
    async () => (await ctx.client.workflow.count('(WorkflowType = "eventFanout" OR WorkflowType = "webhookDelivery") AND ExecutionStatus = "Running"')).count === 0,
    PHASE_TIMEOUT_MS,
    250,
  );
  const cpu = cpuPerItem(cpuBefore, ctx.sampleCpu(), expected);

  // Where the latency goes, for deliveries spread evenly over the run.
  const samples: Record<string, number>[] = [];
  if (sample) {
    const count = Math.min(SAMPLES, expected);
    for (let k = 0; k < count; k += 1) {
      const eventId = eventOrder[Math.floor((k * eventOrder.length) / count)];
      const subscription = subscriptions[k % subscriptions.length];
      const delivery = await ctx.db('webhook_deliveries').where({ event_id: eventId, webhook_id: subscription.id }).whereNull('redelivery_of').first('id');
      if (!delivery) continue;
      const fanout = await timelineOf(ctx.client, workflowIds.eventFanout(eventId));
      const attempt = await timelineOf(ctx.client, workflowIds.webhookDelivery(delivery.id));
      const arrival = arrivals.get(`${subscription.path}|${eventId}`) as number;
      const commit = committedAt.get(eventId) as number;
      samples.push({
        commit_to_fanout_started: (fanout.started as number) - commit,
        fanout_wft_queue_wait: (fanout.wft1Started as number) - (fanout.wft1Scheduled as number),
        fanout_wft_run: (fanout.actScheduled as number) - (fanout.wft1Started as number),
        fanout_activity_queue_wait: (fanout.actStarted as number) - (fanout.actScheduled as number),
        fanout_activity_until_delivery_started: (attempt.started as number) - (fanout.actStarted as number),
        delivery_wft_queue_wait: (attempt.wft1Started as number) - (attempt.wft1Scheduled as number),
        delivery_wft_run: (attempt.actScheduled as number) - (attempt.wft1Started as number),
        attempt_queue_wait: (attempt.actStarted as number) - (attempt.actScheduled as number),
        attempt_until_received: arrival - (attempt.actStarted as number),
        commit_to_received: arrival - commit,
        // After the subscriber has it: recording the attempt, then closing the workflow.
        attempt_after_received: (attempt.actCompleted as number) - arrival,
        delivery_close: (attempt.closed as number) - (attempt.actCompleted as number),
      });
    }
  }

  return {
    events,
    deliveries: expected,
    deliveries_per_s: round(expected / ((lastArrival - firstCommit) / 1000)),
    deliveries_completed_per_s: round(expected / ((lastCompletion - firstCommit) / 1000)),
    latency_p50_ms: percentile(latencies, 50),
    latency_p99_ms: percentile(latencies, 99),
    latency_max_ms: latencies[latencies.length - 1],
    cpu,
    breakdown_ms: meanSegments(samples),
    breakdown_samples: samples.length,
  };
}

interface EnginePhase {
  workflows: number;
  workflows_per_s: number | null;
  cpu: ReturnType<typeof cpuPerItem>;
  breakdown_ms: Record<string, number | null>;
  breakdown_samples: number;
}

/** `count` noopWorkflows started as fast as the client allows (same starts in flight as the events). */
async function runEngine(ctx: Context, tag: string, count: number, sample: boolean): Promise<EnginePhase> {
  const ids = Array.from({ length: count }, (_, i) => `noop-${tag}-${i}-${randomUUID()}`);
  const cpuBefore = ctx.sampleCpu();
  const started = Date.now();
  await withTimeout(
    pool(count, EVENTS_IN_FLIGHT, async (index) => {
      await withTimeout(ctx.client.workflow.start('noopWorkflow', { taskQueue: ctx.noopQueue, workflowId: ids[index] }), OP_TIMEOUT_MS, 'noop workflow start');
    }),
    PHASE_TIMEOUT_MS,
    `starting ${count} noop workflows`,
  );
  ctx.noopStarted += count;
  const queue = `TaskQueue = "${ctx.noopQueue}"`;
  await waitUntil(
    `${count} noop workflows completed (${tag})`,
    async () => (await ctx.client.workflow.count(`${queue} AND ExecutionStatus = "Completed"`)).count >= ctx.noopStarted,
    PHASE_TIMEOUT_MS,
    100,
  );
  const cpu = cpuPerItem(cpuBefore, ctx.sampleCpu(), count);
  const { count: unfinished } = await ctx.client.workflow.count(`${queue} AND ExecutionStatus != "Completed"`);
  if (unfinished > 0) throw new Error(`${unfinished} noop workflows did not complete`);
  // The server's own close times: the moment the visibility poll noticed does not count.
  const mine = new Set(ids);
  let lastClose = 0;
  for await (const info of ctx.client.workflow.list({ query: `${queue} AND ExecutionStatus = "Completed"` })) {
    if (mine.has(info.workflowId) && info.closeTime) lastClose = Math.max(lastClose, info.closeTime.getTime());
  }
  const samples: Record<string, number>[] = [];
  if (sample) {
    const n = Math.min(SAMPLES, count);
    for (let k = 0; k < n; k += 1) samples.push(engineSegments(await timelineOf(ctx.client, ids[Math.floor((k * count) / n)])));
  }
  return { workflows: count, workflows_per_s: round(count / ((lastClose - started) / 1000)), cpu, breakdown_ms: meanSegments(samples), breakdown_samples: samples.length };
}

/** The same number of signed POSTs from a plain undici loop: no Temporal, no Postgres. */
async function runNetwork(ctx: Context, tag: string, count: number, concurrency: number): Promise<{ posts: number; concurrency: number; posts_per_s: number | null; errors: number }> {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let errors = 0;
  const started = Date.now();
  try {
    await withTimeout(
      pool(count, concurrency, async (index) => {
        const eventId = randomUUID();
        const rawBody = JSON.stringify({ eventId, eventName: 'listing.created', eventPayload: { listingId: randomUUID(), externalRef: `NET-${index}` }, eventTime: new Date().toISOString() });
        const headers = signedHeaders({ rawBody, secrets: [secret], deliveryEventId: eventId, eventName: 'listing.created', webhookMessageId: eventId, timestampSeconds: Math.floor(Date.now() / 1000) });
        const response = await request(`http://127.0.0.1:${ctx.subscriberPort}/net/${tag}/${index % 10}`, {
          method: 'POST',
          headers,
          body: rawBody,
          dispatcher: agent,
          headersTimeout: OP_TIMEOUT_MS,
          bodyTimeout: OP_TIMEOUT_MS,
        });
        await response.body.text();
        if (response.statusCode !== 200) errors += 1;
      }),
      PHASE_TIMEOUT_MS,
      `${count} plain POSTs`,
    );
  } finally {
    await agent.close().catch(() => undefined);
  }
  return { posts: count, concurrency, posts_per_s: round(count / ((Date.now() - started) / 1000)), errors };
}

async function run(stack: Stack, dataDir: string, subscriber: http.Server, arrivals: Context['arrivals'], cleanups: (() => Promise<void>)[]): Promise<void> {
  const subscriberPort = (subscriber.address() as AddressInfo).port;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stack.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Lets http://127.0.0.1:<subscriber> through the SSRF guard (allow-listed targets only).
    WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${subscriberPort}`,
    RATE_LIMIT_PER_HOUR: '100000000',
  };
  execFileSync(process.execPath, ['-r', '@swc-node/register', 'scripts/migrate.ts'], { cwd: root, env, stdio: 'inherit', timeout: 120_000 });

  const noopQueue = `bench-noop-${randomUUID()}`;
  const apiPort = await freePort();
  const api = await startChild('api', ['src/server.ts'], { ...env, PORT: String(apiPort), LOG_LEVEL: 'info' }, 'api listening');
  const worker = await startChild('worker', ['src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, 'worker started');
  const noopWorker = await startChild('noop worker', ['bench/noopWorker.ts'], { ...env, NOOP_TASK_QUEUE: noopQueue }, 'noop worker started');
  const workerOptions = /noop worker options (\{.*\})/.exec(noopWorker.output())?.[1];

  const config = loadConfig(env);
  const logger = pino({ level: 'warn' });
  const db = createDb(config);
  const relaxedDb = createRelaxedDb(config);
  const temporal = createTemporalClientProvider(config);
  cleanups.push(async () => {
    await temporal.close();
    await Promise.all([db.destroy(), relaxedDb.destroy()]);
  });
  const client = await withTimeout(temporal.get(), OP_TIMEOUT_MS, 'Temporal client');
  const postmasterPid = (() => {
    try {
      return Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
    } catch {
      return undefined; // A Postgres we did not start: not attributed.
    }
  })();
  const sampleCpu = makeCpuSampler(() => ({
    worker: worker.process.pid,
    noop_worker: noopWorker.process.pid,
    api: api.process.exitCode === null ? api.process.pid : undefined,
    temporal: stack.temporal.process?.child.pid,
    postgres: postmasterPid,
  }));
  const ctx: Context = { env, config, db, outbox: createOutboxDispatcher(db, temporal, logger, relaxedDb), client, noopQueue, subscriberPort, arrivals, sampleCpu, noopStarted: 0 };

  // Every subscription up front through the API; the API then leaves the machine to the rest.
  const warmup = await createSubscriptions(ctx, apiPort, 'warmup', WARMUP_SUBSCRIPTIONS);
  const orgs = new Map<number, Awaited<ReturnType<typeof createSubscriptions>>>();
  for (const subscriptions of SCENARIOS) orgs.set(subscriptions, await createSubscriptions(ctx, apiPort, `s${subscriptions}`, subscriptions));
  api.stopped = true;
  api.process.kill('SIGTERM');

  // Warm-up (JIT, workflow caches, pools) of both paths, not measured.
  console.log('warming up');
  await runDeliveries(ctx, 'warmup', warmup.orgId, warmup.subscriptions, WARMUP_EVENTS, false);
  await runEngine(ctx, 'warmup', WARMUP_EVENTS * WARMUP_SUBSCRIPTIONS, false);

  const scenarios: Record<string, unknown> = {};
  for (const [index, subscriptions] of SCENARIOS.entries()) {
    const tag = `s${subscriptions}`;
    const { orgId, subscriptions: subs } = orgs.get(subscriptions) as Awaited<ReturnType<typeof createSubscriptions>>;
    const events = Math.ceil(TOTAL_DELIVERIES / subscriptions);
    const deliveries = events * subscriptions;
    // Alternate which side goes first, so neither always runs on a warmer (or quieter) machine.
    const engineFirst = index % 2 === 1;
    console.log(`${tag}: ${events} events × ${subscriptions} subscriptions = ${deliveries} deliveries (${engineFirst ? 'engine' : 'delivery'} first)`);
    let engine = engineFirst ? await runEngine(ctx, tag, deliveries, true) : undefined;
    const delivery = await runDeliveries(ctx, tag, orgId, subs, events, true);
    engine ??= await runEngine(ctx, tag, deliveries, true);
    const network = await runNetwork(ctx, tag, deliveries, subscriptions * FANOUT_CONCURRENCY);
    const scenario = {
      subscriptions,
      events,
      deliveries,
      deliveries_per_s: delivery.deliveries_per_s,
      deliveries_completed_per_s: delivery.deliveries_completed_per_s,
      latency_p50_ms: delivery.latency_p50_ms,
      latency_p99_ms: delivery.latency_p99_ms,
      latency_max_ms: delivery.latency_max_ms,
      engine_workflows: engine.workflows,
      engine_workflows_per_s: engine.workflows_per_s,
      ratio: round((delivery.deliveries_per_s ?? NaN) / (engine.workflows_per_s ?? NaN), 3),
      network_posts_per_s: network.posts_per_s,
      network_concurrency: network.concurrency,
      network_errors: network.errors,
      order: engineFirst ? ['engine', 'delivery', 'network'] : ['delivery', 'engine', 'network'],
      cpu_ms_per_delivery: delivery.cpu.cpu_ms_per_item,
      machine_busy_pct_delivery: delivery.cpu.machine_busy_pct,
      cpu_ms_per_engine_workflow: engine.cpu.cpu_ms_per_item,
      machine_busy_pct_engine: engine.cpu.machine_busy_pct,
      latency_breakdown_ms: { samples: delivery.breakdown_samples, ...delivery.breakdown_ms },
      engine_breakdown_ms: { samples: engine.breakdown_samples, ...engine.breakdown_ms },
    };
    scenarios[tag] = scenario;
    console.log(
      `${tag}: ${scenario.deliveries_per_s} deliveries/s (p50 ${scenario.latency_p50_ms} ms, p99 ${scenario.latency_p99_ms} ms) vs engine ${scenario.engine_workflows_per_s} workflows/s → ratio ${scenario.ratio}; plain POSTs ${scenario.network_posts_per_s}/s`,
    );
  }

  const result = {
    measured_at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version, load_average_1m: round(os.loadavg()[0], 2) },
    settings: {
      deliveries_per_scenario: TOTAL_DELIVERIES,
      events_in_flight: EVENTS_IN_FLIGHT,
      engine_starts_in_flight: EVENTS_IN_FLIGHT,
      network_concurrency: `subscriptions × ${FANOUT_CONCURRENCY}`,
      retry_schedule: config.WEBHOOK_RETRY_SCHEDULE,
      temporal: stack.temporal.source,
      postgres: stack.postgres.source,
    },
    scenarios,
    ratio: Object.fromEntries(Object.entries(scenarios).map(([name, value]) => [name, (value as { ratio: number }).ratio])),
    knobs: knobs(workerOptions, config),
    notes: notes(scenarios as Record<string, ScenarioResult>),
  };
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/webhooks.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeMarkdown(result);
  console.log(JSON.stringify(result, null, 2));
}

function knobs(workerOptions: string | undefined, config: ReturnType<typeof loadConfig>) {
  return {
    tuned: 'none: both workers run with the Temporal SDK defaults (src/worker.ts sets no concurrency options, and the baseline must match it); the numbers below are what both run with',
    worker_effective_options: workerOptions ? JSON.parse(workerOptions) : 'SDK defaults (not reported)',
    worker_concurrency: '40 workflow-task slots, 100 activity slots, at most 10 workflow-task and 10 activity-task pollers per worker; sticky workflow cache sized from the heap',
    activity_slots: 'not the limit here: fewer than 100 activities are ever in flight; the two cores are',
    database_pool: `DATABASE_POOL_MAX=${config.DATABASE_POOL_MAX} per process: every fan-out and attempt activity of the worker shares these connections`,
    connection_pooling: 'one SSRF-guarded undici Agent per worker process, reused by every attempt (keep-alive, one socket per in-flight request to the origin); the plain loop uses its own undici Agent the same way',
    bench_concurrency: `${EVENTS_IN_FLIGHT} events committed + dispatched in flight; ${EVENTS_IN_FLIGHT} no-op starts in flight; subscriptions × ${FANOUT_CONCURRENCY} plain POSTs in flight`,
  };
}

interface ScenarioResult {
  subscriptions: number;
  deliveries_per_s: number;
  engine_workflows_per_s: number;
  ratio: number;
  network_posts_per_s: number;
  latency_p50_ms: number;
  cpu_ms_per_delivery: Record<string, number | null>;
  cpu_ms_per_engine_workflow: Record<string, number | null>;
  machine_busy_pct_delivery: number;
  latency_breakdown_ms: Record<string, number | null>;
}

/** Where the time goes, from this run's numbers. */
function notes(scenarios: Record<string, ScenarioResult>): string {
  const parts: string[] = [];
  for (const [name, s] of Object.entries(scenarios)) {
    const cpu = Object.entries(s.cpu_ms_per_delivery).filter((entry): entry is [string, number] => entry[1] !== null);
    const cpuTotal = cpu.reduce((sum, [, value]) => sum + value, 0);
    const top = [...cpu].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([proc, value]) => `${proc} ${value} ms`).join(', ');
    const engineCpu = Object.entries(s.cpu_ms_per_engine_workflow).reduce((sum, [, value]) => sum + (value ?? 0), 0);
    const segments = Object.entries(s.latency_breakdown_ms)
      .filter(([key, value]) => !['samples', 'commit_to_received', 'attempt_after_received', 'delivery_close'].includes(key) && typeof value === 'number')
      .sort((a, b) => (b[1] as number) - (a[1] as number))
      .slice(0, 3)
      .map(([key, value]) => `${key} ${value} ms`)
      .join(', ');
    parts.push(
      `${name}: ${s.deliveries_per_s} deliveries/s = ${s.ratio} × the engine's ${s.engine_workflows_per_s} no-op workflows/s (plain POSTs: ${s.network_posts_per_s}/s). ` +
        `Machine ${s.machine_busy_pct_delivery}% busy during delivery; CPU per delivery ${round(cpuTotal, 1)} ms (top: ${top}) vs ${round(engineCpu, 1)} ms per no-op workflow. ` +
        `Latency (mean of ${s.latency_breakdown_ms.samples} sampled deliveries, commit → received ${s.latency_breakdown_ms.commit_to_received} ms) is mostly ${segments}.`,
    );
  }
  parts.push(
    'Each delivery is one webhookDelivery workflow with one attemptDelivery activity (2 selects, decrypt, sign, POST, one transaction), plus a share of its event\'s eventFanout workflow ' +
      '(one createDeliveriesForEvent activity that inserts the rows and then starts the delivery workflows one after another): with 1 subscription that is 2 workflows and 2 activities per delivery ' +
      'against 1 and 1 for the baseline, with 10 subscriptions 1.1 and 1.1. Both run on the same two cores as the Temporal dev server and Postgres, so time goes where the CPU goes; the network is never the limit.',
  );
  return parts.join('\n');
}

function writeMarkdown(result: { measured_at: string; machine: { cpus: number; memory_gib: number | null; node: string; load_average_1m: number | null }; scenarios: Record<string, unknown>; knobs: ReturnType<typeof knobs>; notes: string }): void {
  const file = path.join(root, 'docs/BENCHMARKS.md');
  const scenarios = Object.values(result.scenarios) as (ScenarioResult & Record<string, any>)[];
  const rows = scenarios
    .map((s) => `| ${s.subscriptions} | ${s.deliveries} | ${s.deliveries_per_s} | ${s.latency_p50_ms} | ${s.latency_p99_ms} | ${s.engine_workflows_per_s} | **${s.ratio}** | ${s.network_posts_per_s} (${s.network_concurrency} in flight) |`)
    .join('\n');
  const processes = [...new Set(scenarios.flatMap((s) => Object.keys(s.cpu_ms_per_delivery)))];
  const cpuRows = scenarios
    .flatMap((s) => [
      `| ${s.subscriptions} | delivery | ${processes.map((p) => s.cpu_ms_per_delivery[p] ?? '–').join(' | ')} | ${s.machine_busy_pct_delivery}% |`,
      `| ${s.subscriptions} | no-op workflow | ${processes.map((p) => s.cpu_ms_per_engine_workflow[p] ?? '–').join(' | ')} | ${s.machine_busy_pct_engine}% |`,
    ])
    .join('\n');
  const segmentNames = [...new Set(scenarios.flatMap((s) => Object.keys(s.latency_breakdown_ms).filter((key) => key !== 'samples')))];
  const segmentRows = segmentNames.map((name) => `| ${name} | ${scenarios.map((s) => s.latency_breakdown_ms[name] ?? '–').join(' | ')} |`).join('\n');
  const engineNames = [...new Set(scenarios.flatMap((s) => Object.keys(s.engine_breakdown_ms).filter((key) => key !== 'samples')))];
  const engineRows = engineNames.map((name) => `| ${name} | ${scenarios.map((s) => s.engine_breakdown_ms[name] ?? '–').join(' | ')} |`).join('\n');
  const knobLines = Object.entries(result.knobs)
    .filter(([name]) => name !== 'worker_effective_options')
    .map(([name, value]) => `- **${name}**: ${value}`)
    .join('\n');
  const section = `<!-- bench:webhooks:start -->
Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node} (load ${result.machine.load_average_1m}); delivery path, engine baseline and network loop side by side in one run.

| subscriptions | deliveries | deliveries/s | commit → received p50 ms | p99 ms | engine no-op workflows/s | ratio | plain signed POSTs/s |
|---|---|---|---|---|---|---|---|
${rows}

CPU ms per delivery (per no-op workflow for the baseline), by process, from /proc:

| subscriptions | phase | ${processes.join(' | ')} | machine busy |
|---|---|${processes.map(() => '---|').join('')}---|
${cpuRows}

Latency of sampled deliveries, mean ms per segment (from their Temporal histories; the first ten add up to commit → received):

| segment | ${scenarios.map((s) => `${s.subscriptions} sub.`).join(' | ')} |
|---|${scenarios.map(() => '---|').join('')}
${segmentRows}

Engine baseline, mean ms per segment of sampled no-op workflows:

| segment | ${scenarios.map((s) => `${s.subscriptions} sub.`).join(' | ')} |
|---|${scenarios.map(() => '---|').join('')}
${engineRows}

**What is measured.** Each scenario has its own organisation with 1 (then 10) \`listing.created\` subscriptions created through \`POST /api/v1/webhooks\`, each to its own path of a \`node:http\` subscriber on 127.0.0.1 in the bench process that answers 200 and records the first arrival per (path, event id). Events are committed with \`appendEvent\` (which owes the \`eventFanout\` workflow in the same transaction) and dispatched with the outbox dispatcher, as a write does, ${EVENTS_IN_FLIGHT} in flight; \`src/worker.ts\` runs as a child process. Latency is arrival minus the event's commit; deliveries/s is deliveries ÷ (last arrival − first commit). The **engine baseline** starts as many \`noopWorkflow\`s (one no-op activity each, \`bench/noopWorkflows.ts\`) on the same Temporal dev server, ${EVENTS_IN_FLIGHT} starts in flight, run by \`bench/noopWorker.ts\` as a child process with the same default worker settings; its rate runs from the first start to the last close time on the server; **ratio** = deliveries/s ÷ that. The **network ceiling** is as many signed POSTs (\`signedHeaders\`) from a plain undici loop to the same subscriber. A warm-up of both paths runs first; the order of delivery and engine phases alternates per scenario.

**Knobs.**
${knobLines}

**Where the time goes.**
${result.notes
  .split('\n')
  .map((line) => `- ${line}`)
  .join('\n')}
<!-- bench:webhooks:end -->`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const next = current.includes('<!-- bench:webhooks:start -->')
    ? current.replace(/<!-- bench:webhooks:start -->[\s\S]*<!-- bench:webhooks:end -->/, () => section)
    : `${current.trimEnd()}\n\n## Webhooks (\`npm run bench:webhooks\`)\n\n${section}\n`;
  fs.writeFileSync(file, next);
}

async function main(): Promise<number> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-bench-webhooks-'));
  const database = `immoflow_bench_webhooks_${Date.now()}`;
  const arrivals: Context['arrivals'] = new Map();
  const subscriber = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (url.startsWith('/hook/')) {
        const tag = url.split('/')[2];
        const key = `${url}|${req.headers['x-webhook-id']}`;
        const seen = arrivals.get(tag);
        if (seen && !seen.has(key)) seen.set(key, Date.now());
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  subscriber.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => subscriber.once('error', reject).listen(0, '127.0.0.1', () => resolve()));

  const cleanups: (() => Promise<void>)[] = [];
  let stack: Stack | undefined;
  let code = 0;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    stack = await withTimeout(startStack({ mode: 'test', dataDir, database }), 180_000, 'starting the stack');
    const started = stack;
    await Promise.race([
      run(started, dataDir, subscriber, arrivals, cleanups),
      new Promise<never>((_, reject) => {
        watchdog = setTimeout(() => reject(new Error(`the benchmark did not finish within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    console.error(error);
    code = 1;
  } finally {
    clearTimeout(watchdog);
    const bounded = (what: string, work: () => Promise<unknown>, ms: number) => withTimeout(work(), ms, what).catch((error) => console.error(`cleanup: ${(error as Error).message}`));
    for (const cleanup of cleanups) await bounded('closing clients', cleanup, 10_000);
    await bounded('stopping children', stopChildren, 15_000);
    subscriber.closeAllConnections();
    subscriber.close();
    if (stack) {
      const handle = stack;
      await bounded('dropping the bench database', () => handle.postgres.dropDatabase(database), 30_000);
      await bounded('stopping the stack', () => handle.stop(), 60_000);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

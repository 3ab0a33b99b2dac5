import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/knex';
import { appendEvent } from '../src/events/service';
import { createTemporalClientProvider } from '../src/temporal/client';
import { signedHeaders } from '../src/webhooks/signing';
import { freePort } from '../scripts/stack/processes';
import { startStack } from '../scripts/stack/stack';
import { CpuSnapshot, benchPhases, cpuMeter, cpuMsPer, engineNoopWorkflowsPerSecond, paced, percentile, pool, prepareBenchEnv, root, round, startChild, stopBenchRun, subscribeWebhooks, writeBenchmarkSection } from './harness';

/**
 * `npm run bench:webhooks` (issues 4 and 16): for 1 and 10 subscriptions, side by side in one run,
 * - capacity: deliveries/s while every event is committed at once (the outbox relay drains it);
 * - latency: event committed → subscriber received, p50 and p99, with events committed at an even
 *   pace of half that capacity;
 * - the engine's throughput: as many no-op workflows (one no-op activity each), all started at
 *   once on the same Temporal server with a default worker, from the first start to the last
 *   completion; `ratio` is capacity over this;
 * - the network's ceiling: the same signed POSTs from a plain fetch loop.
 * A third scenario points 10 subscriptions at a subscriber that fails every delivery's first
 * attempt: the retries (1 s later) must still all arrive, and their deliveries/s is reported.
 * CPU ms per delivery is read from /proc for the worker, Temporal and this database's Postgres
 * backends over each capacity window.
 */
const TOTAL_DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
/** Events committed at once while measuring capacity: enough to keep the relay's batches full. */
const COMMIT_CONCURRENCY = 10;
/** No-op workflows started at once for the engine baseline. */
const ENGINE_START_CONCURRENCY = 50;
const SCENARIOS = [1, 10];
const FAILING_SUBSCRIPTIONS = 10;

async function waitUntil(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-bench-webhooks-'));
  const database = `immoflow_bench_webhooks_${Date.now()}`;
  const phase = benchPhases('webhooks', 4 + SCENARIOS.length);
  phase('starting Postgres, Temporal and MinIO');
  const stack = await startStack({ mode: 'test', dataDir, database });
  const children: ChildProcess[] = [];
  // The subscriber records when each (path, webhook-id) was answered 200. Under /fail/ it answers
  // 503 to the first request of each and 200 to the next.
  const arrivals = new Map<string, number>();
  const refusedOnce = new Set<string>();
  const subscriber = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = `${req.url}|${req.headers['x-webhook-id'] as string}`;
      if (req.url?.startsWith('/fail/') && !refusedOnce.has(key)) {
        refusedOnce.add(key);
        res.writeHead(503).end('down');
        return;
      }
      arrivals.set(key, Date.now());
      res.writeHead(200).end('ok');
    });
  });
  subscriber.listen(0, '127.0.0.1');
  await new Promise((resolve) => subscriber.once('listening', resolve));
  const subscriberPort = (subscriber.address() as AddressInfo).port;

  try {
    const { env, cli } = prepareBenchEnv(stack.env, { WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${subscriberPort}`, RATE_LIMIT_PER_HOUR: '100000000' });

    phase('starting the API, the worker and the no-op worker');
    const apiPort = await freePort();
    const noopQueue = `bench-noop-${randomUUID()}`;
    children.push(await startChild('api', ['src/server.ts'], { ...env, PORT: String(apiPort), LOG_LEVEL: 'info' }, 'api listening'));
    const worker = await startChild('worker', ['src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, 'worker started');
    children.push(worker);
    const noopWorker = await startChild('noop worker', ['bench/noopWorker.ts'], { ...env, NOOP_TASK_QUEUE: noopQueue }, 'noop worker started');
    children.push(noopWorker);

    const config = loadConfig(env);
    const failingConfig = loadConfig({ ...env, WEBHOOK_RETRY_SCHEDULE: '0s,1s,5s' });
    const db = createDb(config);
    const temporal = createTemporalClientProvider(config);
    const client = await temporal.get();

    const meter = cpuMeter({ worker: worker.pid, noopWorker: noopWorker.pid, temporal: stack.temporal.process?.child.pid }, (sql) => db.raw(sql));
    /** CPU ms per unit of work since `start`, for the named processes and this database's Postgres. */
    const cpuPer = async (start: CpuSnapshot, units: number, processes: ('worker' | 'noopWorker' | 'temporal')[]) => cpuMsPer(await meter.since(start), units, [...processes, 'postgres']);

    /** An organisation with `count` subscriptions to listing.created under `/<prefix>/<i>`. */
    const subscribe = async (prefix: string, count: number) => {
      const org = cli('org', 'create', '--name', `Bench ${prefix}`, '--plan', 'enterprise', '--flag', 'WEBHOOKS_PUBLIC_API_ENABLED', '--owner-email', `${prefix}@example.com`);
      const key = cli('key', 'create', '--org', org.id, '--kind', 'secret', '--mode', 'test', '--scope', 'webhooks:write');
      const urls = Array.from({ length: count }, (_, i) => `http://127.0.0.1:${subscriberPort}/${prefix}/${i}`);
      await subscribeWebhooks(`http://127.0.0.1:${apiPort}`, key.key, urls, ['listing.created']);
      return org.id as string;
    };

    /** Commits `events` events as a write does (event, deliveries and owed starts in one transaction), waits for every delivery. */
    const deliver = async (prefix: string, subscriptions: number, events: number, schedule: (job: (index: number) => Promise<void>) => Promise<void>, deliveryConfig = config) => {
      const orgId = await subscribe(prefix, subscriptions);
      const committedAt = new Map<string, number>();
      const cpuStart = await meter.snapshot();
      const started = Date.now();
      await schedule(async (index) => {
        const event = await db.transaction((trx) => appendEvent(trx, orgId, 'listing.created', { listingId: randomUUID(), externalRef: `BENCH-${prefix}-${index}` }, deliveryConfig));
        committedAt.set(event.event_id, Date.now());
      });
      const expected = events * subscriptions;
      const arrived = () => [...arrivals.entries()].filter(([entry]) => entry.startsWith(`/${prefix}/`));
      await waitUntil(`${expected} deliveries to /${prefix}/`, () => arrived().length >= expected, 600_000);
      const seconds = (Math.max(...arrived().map(([, at]) => at)) - started) / 1000;
      const cpu = await cpuPer(cpuStart, expected, ['worker', 'temporal']);
      const latencies = arrived()
        .map(([entry, at]) => at - (committedAt.get(entry.split('|')[1]) as number))
        .sort((a, b) => a - b);
      return { deliveries: expected, deliveries_per_s: round(expected / seconds), latency_p50_ms: percentile(latencies, 50), latency_p99_ms: percentile(latencies, 99), cpu_ms_per_delivery: cpu };
    };

    // Warm-up, not measured: JIT, pools and the subscriber's keep-alive connections.
    await deliver('warmup', 1, 50, (job) => pool(50, COMMIT_CONCURRENCY, job));

    const scenarios: Record<string, unknown> = {};
    for (const subscriptions of SCENARIOS) {
      const events = Math.ceil(TOTAL_DELIVERIES / subscriptions);
      phase(`${subscriptions} subscription(s): capacity (${events} events at once), the engine and network baselines, then latency at half capacity`);
      const capacity = await deliver(`cap${subscriptions}`, subscriptions, events, (job) => pool(events, COMMIT_CONCURRENCY, job));
      const expected = capacity.deliveries;

      // Engine baseline: the same number of no-op workflows, all started at once.
      const engineCpuStart = await meter.snapshot();
      const engineWorkflowsPerSecond = await engineNoopWorkflowsPerSecond(client, noopQueue, expected, ENGINE_START_CONCURRENCY);
      const engineCpu = await cpuPer(engineCpuStart, expected, ['noopWorker', 'temporal']);

      // Network ceiling: the same signed POSTs from a plain loop, no Temporal, no Postgres.
      const body = JSON.stringify({ eventId: randomUUID(), eventName: 'listing.created', eventPayload: { listingId: randomUUID() }, eventTime: new Date().toISOString() });
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const networkStarted = Date.now();
      await pool(expected, COMMIT_CONCURRENCY, async (index) => {
        const headers = signedHeaders({ rawBody: body, secrets: [secret], deliveryEventId: `net-${index}`, eventName: 'listing.created', webhookMessageId: `net-${index}`, timestampSeconds: Math.floor(Date.now() / 1000) });
        const response = await fetch(`http://127.0.0.1:${subscriberPort}/network/${subscriptions}`, { method: 'POST', headers, body });
        await response.arrayBuffer();
      });
      const networkPostsPerSecond = expected / ((Date.now() - networkStarted) / 1000);

      // Latency at half the measured capacity: events committed at an even pace.
      const eventsPerSecond = capacity.deliveries_per_s / 2 / subscriptions;
      const halfCapacity = await deliver(`lat${subscriptions}`, subscriptions, events, (job) => paced(events, 1000 / eventsPerSecond, job));

      const scenario = {
        subscriptions,
        events,
        deliveries: expected,
        deliveries_per_s: capacity.deliveries_per_s,
        engine_workflows_per_s: round(engineWorkflowsPerSecond),
        ratio: round(capacity.deliveries_per_s / engineWorkflowsPerSecond, 3),
        network_posts_per_s: round(networkPostsPerSecond),
        latency_at_capacity_p99_ms: capacity.latency_p99_ms,
        half_capacity: { deliveries_per_s_offered: round(eventsPerSecond * subscriptions), latency_p50_ms: halfCapacity.latency_p50_ms, latency_p99_ms: halfCapacity.latency_p99_ms },
        cpu_ms_per_delivery: capacity.cpu_ms_per_delivery,
        cpu_ms_per_engine_workflow: engineCpu,
      };
      scenarios[`s${subscriptions}`] = scenario;
      console.log(JSON.stringify(scenario));
    }

    phase(`${FAILING_SUBSCRIPTIONS} subscriptions whose subscriber fails every first attempt (retry after 1 s)`);
    const failingEvents = Math.ceil(TOTAL_DELIVERIES / FAILING_SUBSCRIPTIONS);
    const failing = await deliver('fail', FAILING_SUBSCRIPTIONS, failingEvents, (job) => pool(failingEvents, COMMIT_CONCURRENCY, job), failingConfig);
    const firstAttemptFails = { subscriptions: FAILING_SUBSCRIPTIONS, deliveries: failing.deliveries, refused_first_attempts: [...refusedOnce].length, deliveries_per_s: failing.deliveries_per_s, latency_p50_ms: failing.latency_p50_ms, latency_p99_ms: failing.latency_p99_ms, cpu_ms_per_delivery: failing.cpu_ms_per_delivery };
    console.log(JSON.stringify(firstAttemptFails));

    phase('writing bench/results/webhooks.json and docs/BENCHMARKS.md');
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version },
      concurrency: COMMIT_CONCURRENCY,
      scenarios,
      first_attempt_fails: firstAttemptFails,
      ratio: Object.fromEntries(Object.entries(scenarios).map(([name, value]) => [name, (value as { ratio: number }).ratio])),
      knobs: `default Temporal worker settings for both the real and the no-op worker; WEBHOOK_FIRST_ATTEMPT_CONCURRENCY ${config.WEBHOOK_FIRST_ATTEMPT_CONCURRENCY}, per subscription ${config.WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION}; one pooled guarded undici dispatcher per worker; pg pool 10`,
    };
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/webhooks.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeMarkdown(result);
    await temporal.close();
    await db.destroy();
  } finally {
    subscriber.closeAllConnections();
    subscriber.close();
    await stopBenchRun({ children, stack, database, dataDir });
  }
}

function writeMarkdown(result: { measured_at: string; machine: { cpus: number; memory_gib: number; node: string }; scenarios: Record<string, any>; first_attempt_fails: any; concurrency: number }): void {
  const cpu = (spent: Record<string, number | null>) => Object.entries(spent).map(([name, ms]) => `${name} ${ms}`).join(', ');
  const rows = Object.values(result.scenarios)
    .map((s) => `| ${s.subscriptions} | ${s.deliveries} | ${s.deliveries_per_s} | ${s.engine_workflows_per_s} | **${s.ratio}** | ${s.half_capacity.deliveries_per_s_offered} | ${s.half_capacity.latency_p50_ms} | ${s.half_capacity.latency_p99_ms} | ${s.network_posts_per_s} |`)
    .join('\n');
  const cpuRows = Object.values(result.scenarios)
    .map((s) => `| ${s.subscriptions} | ${cpu(s.cpu_ms_per_delivery)} | ${cpu(s.cpu_ms_per_engine_workflow)} |`)
    .join('\n');
  const f = result.first_attempt_fails;
  const section = `Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node}; capacity, engine and network side by side in one run. Capacity: every event committed at once (${result.concurrency} commits in flight), from the first commit to the last delivery received. Engine: as many no-op workflows (one no-op activity each), ${ENGINE_START_CONCURRENCY} starts in flight, from the first start to the last completion. Latency: events committed at an even pace of half the capacity.

| subscriptions | deliveries | deliveries/s | engine no-op workflows/s | ratio | offered at half capacity /s | commit → received p50 ms | p99 ms | plain signed POSTs/s |
|---|---|---|---|---|---|---|---|---|
${rows}

CPU ms per delivery (capacity window) and per engine no-op workflow:

| subscriptions | per delivery | per no-op workflow |
|---|---|---|
${cpuRows}

A subscriber that fails every first attempt (${f.subscriptions} subscriptions, retry after 1 s): ${f.deliveries} deliveries all arrived on their retry (${f.refused_first_attempts} first attempts refused), ${f.deliveries_per_s} deliveries/s, commit → received p50 ${f.latency_p50_ms} ms, p99 ${f.latency_p99_ms} ms; CPU ms per delivery ${cpu(f.cpu_ms_per_delivery)}.`;
  writeBenchmarkSection('webhooks', 'Webhooks (`npm run bench:webhooks`)', section);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

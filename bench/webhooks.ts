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
import { benchPhases, percentile, pool, prepareBenchEnv, root, round, startChild, writeBenchmarkSection } from './harness';

/**
 * `npm run bench:webhooks` (issue 4): deliveries/s and event-committed → subscriber-received
 * latency with 1 and 10 subscriptions, side by side with (a) the engine's limit — as many no-op
 * workflows each running one no-op activity, same Temporal server, default worker settings — and
 * (b) the network's ceiling — the same signed POSTs from a plain fetch loop.
 */
const TOTAL_DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 300);
const CONCURRENCY = 10;
const SCENARIOS = [1, 10];

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
  const phase = benchPhases('webhooks', 3 + SCENARIOS.length);
  phase('starting Postgres, Temporal and MinIO');
  const stack = await startStack({ mode: 'test', dataDir, database });
  const children: ChildProcess[] = [];
  // The subscriber: records when each (path, eventId) arrived.
  const arrivals = new Map<string, number>();
  const subscriber = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const eventId = req.headers['x-webhook-id'] as string;
      arrivals.set(`${req.url}|${eventId}`, Date.now());
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
    children.push(await startChild('worker', ['src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, 'worker started'));
    children.push(await startChild('noop worker', ['bench/noopWorker.ts'], { ...env, NOOP_TASK_QUEUE: noopQueue }, 'noop worker started'));

    const config = loadConfig(env);
    const db = createDb(config);
    const temporal = createTemporalClientProvider(config);
    const client = await temporal.get();

    const scenarios: Record<string, unknown> = {};
    for (const subscriptions of SCENARIOS) {
      const org = cli('org', 'create', '--name', `Bench ${subscriptions}`, '--plan', 'enterprise', '--flag', 'WEBHOOKS_PUBLIC_API_ENABLED', '--owner-email', `bench${subscriptions}@example.com`);
      const key = cli('key', 'create', '--org', org.id, '--kind', 'secret', '--mode', 'test', '--scope', 'webhooks:write');
      const paths: string[] = [];
      for (let i = 0; i < subscriptions; i += 1) {
        const hookPath = `/s${subscriptions}/${i}`;
        const response = await fetch(`http://127.0.0.1:${apiPort}/api/v1/webhooks`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-API-Key': key.key },
          body: JSON.stringify({ url: `http://127.0.0.1:${subscriberPort}${hookPath}`, events: ['listing.created'] }),
        });
        if (response.status !== 201) throw new Error(`webhook create: ${response.status} ${await response.text()}`);
        paths.push(hookPath);
      }

      // Delivery path: events committed with their deliveries and owed starts, as a write does; the worker's outbox relay starts them.
      const events = Math.ceil(TOTAL_DELIVERIES / subscriptions);
      phase(`${subscriptions} subscription(s): ${events} events fanned out, then the engine and network baselines`);
      const committedAt = new Map<string, number>();
      const started = Date.now();
      await pool(events, CONCURRENCY, async (index) => {
        const event = await db.transaction((trx) =>
          appendEvent(trx, org.id, 'listing.created', { listingId: randomUUID(), externalRef: `BENCH-${index}` }, config),
        );
        committedAt.set(event.event_id, Date.now());
      });
      const expected = events * subscriptions;
      const arrivedFor = () => [...arrivals.keys()].filter((entry) => entry.startsWith(`/s${subscriptions}/`));
      await waitUntil(`${expected} deliveries`, () => arrivedFor().length >= expected, 600_000);
      const latencies = arrivedFor()
        .map((entry) => (arrivals.get(entry) as number) - (committedAt.get(entry.split('|')[1]) as number))
        .sort((a, b) => a - b);
      const lastArrival = Math.max(...arrivedFor().map((entry) => arrivals.get(entry) as number));
      const deliveriesPerSecond = expected / ((lastArrival - started) / 1000);

      // Engine baseline: the same number of no-op workflows, started with the same concurrency.
      const engineStarted = Date.now();
      await pool(expected, CONCURRENCY, async () => {
        await client.workflow.execute('noopWorkflow', { taskQueue: noopQueue, workflowId: `noop-${randomUUID()}` });
      });
      const engineWorkflowsPerSecond = expected / ((Date.now() - engineStarted) / 1000);

      // Network ceiling: the same signed POSTs from a plain loop, no Temporal, no Postgres.
      const body = JSON.stringify({ eventId: randomUUID(), eventName: 'listing.created', eventPayload: { listingId: randomUUID() }, eventTime: new Date().toISOString() });
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const networkStarted = Date.now();
      await pool(expected, CONCURRENCY, async (index) => {
        const headers = signedHeaders({ rawBody: body, secrets: [secret], deliveryEventId: `net-${index}`, eventName: 'listing.created', webhookMessageId: `net-${index}`, timestampSeconds: Math.floor(Date.now() / 1000) });
        const response = await fetch(`http://127.0.0.1:${subscriberPort}/network/${subscriptions}`, { method: 'POST', headers, body });
        await response.arrayBuffer();
      });
      const networkPostsPerSecond = expected / ((Date.now() - networkStarted) / 1000);

      const scenario = {
        subscriptions,
        events,
        deliveries: expected,
        deliveries_per_s: round(deliveriesPerSecond),
        latency_p50_ms: percentile(latencies, 50),
        latency_p99_ms: percentile(latencies, 99),
        engine_workflows_per_s: round(engineWorkflowsPerSecond),
        ratio: round(deliveriesPerSecond / engineWorkflowsPerSecond, 3),
        network_posts_per_s: round(networkPostsPerSecond),
      };
      scenarios[`s${subscriptions}`] = scenario;
      console.log(JSON.stringify(scenario));
    }

    phase('writing bench/results/webhooks.json and docs/BENCHMARKS.md');
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version },
      concurrency: CONCURRENCY,
      scenarios,
      ratio: Object.fromEntries(Object.entries(scenarios).map(([name, value]) => [name, (value as { ratio: number }).ratio])),
      knobs: 'none tuned: default Temporal worker settings for both the real and the no-op worker; one pooled guarded undici dispatcher per worker; pg pool 10',
    };
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/webhooks.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeMarkdown(result);
    await temporal.close();
    await db.destroy();
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    subscriber.closeAllConnections();
    subscriber.close();
    await stack.postgres.dropDatabase(database).catch(() => undefined);
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function writeMarkdown(result: { measured_at: string; machine: { cpus: number; memory_gib: number; node: string }; scenarios: Record<string, any>; concurrency: number }): void {
  const rows = Object.values(result.scenarios)
    .map((s) => `| ${s.subscriptions} | ${s.deliveries} | ${s.deliveries_per_s} | ${s.latency_p50_ms} | ${s.latency_p99_ms} | ${s.engine_workflows_per_s} | **${s.ratio}** | ${s.network_posts_per_s} |`)
    .join('\n');
  const section = `Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node}; ${result.concurrency} events in flight; all three columns side by side in one run.

| subscriptions | deliveries | deliveries/s | commit → received p50 ms | p99 ms | engine no-op workflows/s | ratio | plain signed POSTs/s |
|---|---|---|---|---|---|---|---|
${rows}`;
  writeBenchmarkSection('webhooks', 'Webhooks (`npm run bench:webhooks`)', section);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

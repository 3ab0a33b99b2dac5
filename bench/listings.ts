import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../scripts/stack/processes';
import { startStack } from '../scripts/stack/stack';
import { loadConfig } from '../src/config';
import { summarizeHeapSnapshot } from './heapSummary';
import { createTemporalClientProvider } from '../src/temporal/client';
import { benchPhases, cpuMeter, cpuMsPer, engineNoopWorkflowsPerSecond, paced, percentile, prepareBenchEnv, root, round, startChild, stopBenchRun, subscribeWebhooks, writeBenchmarkSection } from './harness';

/**
 * `npm run bench:listings` (issues 3 and 16), side by side in one run:
 * - upsert throughput and latency of the API against a bare pg baseline;
 * - the pipeline's capacity (a backlog of publishes drained by the worker) against the engine's
 *   throughput for as many no-op workflows with one no-op activity each: `ratio.drain`;
 * - POST → listing.published latency at half that capacity and at 20 writes/s;
 * - CPU ms per publish and per no-op workflow, and peak RSS of the API and the worker.
 * Everything runs on loopback against the real engines.
 */
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONCURRENCY = [16, 64];
const PIPELINE_RATE = 20;
const PIPELINE_SECONDS = Number(process.env.BENCH_PIPELINE_SECONDS ?? 15);
/** Subscriptions of another organisation pointing at a port nobody listens on, for the isolation scenario. */
const DEAD_SUBSCRIPTIONS = 20;
/** Writes of that organisation: each owes every dead subscription a delivery of its listing.created. */
const DEAD_WRITES = Number(process.env.BENCH_DEAD_WRITES ?? 50);
/** Dead deliveries retry every 5 s for about a minute, so they are all retrying while publication is measured. */
const DEAD_RETRY_SCHEDULE = process.env.BENCH_DEAD_RETRY_SCHEDULE ?? ['0s', ...Array.from({ length: 12 }, () => '5s')].join(',');

/** Owed publishes of the throughput phase kept to measure the pipeline's capacity (see main). */
const DRAIN_SAMPLE = Number(process.env.BENCH_DRAIN_SAMPLE ?? 1500);
/**
 * Publishes (and no-op workflows) run before each side's clock starts: a fresh worker's first
 * seconds (bundle loading, JIT, pools) are not its capacity. Measured without it, the drain's
 * ratio ranged 1.01–1.34 in four runs.
 */
const WARMUP = 200;

/**
 * BENCH_ONLY=isolation: only the pipeline at 20 writes/s and the isolation scenario, for profiling
 * the latter (the result is printed, not written). Everything else needs the whole run.
 */
const ISOLATION_ONLY = process.env.BENCH_ONLY === 'isolation';

/**
 * BENCH_HEAP_SNAPSHOTS=DIR: a heap snapshot of the API at the end of its busiest level and of the
 * worker at the end of the drain, summarised into the result (`heap`). Off by default: writing a
 * snapshot stops the process for seconds.
 */
const HEAP_SNAPSHOT_DIR = process.env.BENCH_HEAP_SNAPSHOTS;
const heapSnapshotFlags = (name: string) => (HEAP_SNAPSHOT_DIR ? ['--heapsnapshot-signal=SIGWINCH', `--diagnostic-dir=${path.join(HEAP_SNAPSHOT_DIR, name)}`] : []);

async function takeHeapSnapshot(child: ChildProcess, name: string): Promise<void> {
  if (!HEAP_SNAPSHOT_DIR) return;
  const dir = path.join(HEAP_SNAPSHOT_DIR, name);
  fs.mkdirSync(dir, { recursive: true });
  const before = fs.readdirSync(dir).length;
  // Not SIGUSR2: the Temporal worker shuts down on it (the SDK's default shutdownSignals).
  child.kill('SIGWINCH');
  // Written once complete: the file appears, then stops growing.
  for (let last = -1; ; ) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const files = fs.readdirSync(dir).filter((file) => file.endsWith('.heapsnapshot'));
    if (files.length <= before) continue;
    const size = fs.statSync(path.join(dir, files.sort().at(-1) as string)).size;
    if (size === last) return;
    last = size;
  }
}

function heapSummaries() {
  return Object.fromEntries(
    ['api', 'worker'].map((name) => {
      const dir = path.join(HEAP_SNAPSHOT_DIR as string, name);
      const file = fs.readdirSync(dir).filter((entry) => entry.endsWith('.heapsnapshot')).sort().at(-1) as string;
      return [name, summarizeHeapSnapshot(path.join(dir, file), 12)];
    }),
  );
}

interface LoadResult {
  requests: number;
  errors: number;
  throughput: number;
  p50_ms: number;
  p99_ms: number;
}



function listingBody(i: number) {
  return {
    external_ref: `BENCH-${randomUUID()}`,
    title: `Bench apartment ${i}`,
    description: 'Quiet courtyard flat with balcony.',
    street: 'Benchstraße',
    house_number: String(i),
    zip_code: '10115',
    city: 'Berlin',
    property_type: 'apartment',
    living_area: 58,
    rooms: 2,
    rent_cold: 980,
    energy_certificate: { type: 'consumption', energy_value: 110, main_energy_source: 'gas', year_of_construction: 1998, efficiency_class: 'D' },
    status: 'draft',
  };
}

/** Closed-loop load: `concurrency` clients each send the next request when the last one answered. */
async function load(url: string, headers: Record<string, string>, concurrency: number, durationMs: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = Date.now() + durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const body = JSON.stringify(listingBody(counter++));
        const t0 = performance.now();
        try {
          const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID(), ...headers }, body });
          await response.arrayBuffer();
          if (response.status >= 300) errors += 1;
          else latencies.push(performance.now() - t0);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, throughput: round(latencies.length / elapsed), p50_ms: round(percentile(latencies, 50), 2), p99_ms: round(percentile(latencies, 99), 2) };
}


/** Peak resident set size (VmHWM) of a process, in MiB. */
function peakRssMiB(pid: number | undefined): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-bench-'));
  const phase = benchPhases('listings', 11);
  phase('starting Postgres, Temporal and MinIO');
  const stack = await startStack({ mode: 'test', dataDir, database: `immoflow_bench_${Date.now()}` });
  const children: ChildProcess[] = [];
  try {
    const deadPort = await freePort();
    const { env, cli } = prepareBenchEnv(stack.env, { WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${deadPort}`, WEBHOOK_RETRY_SCHEDULE: DEAD_RETRY_SCHEDULE });
    const org = cli('org', 'create', '--name', 'Bench', '--plan', 'enterprise', '--flag', 'LISTINGS_WRITE_API_ENABLED', '--owner-email', 'bench@example.com');
    const key = cli('key', 'create', '--org', org.id, '--kind', 'secret', '--mode', 'test', '--scope', 'listings:write', '--scope', 'events:read');
    const baselineOrg = cli('org', 'create', '--name', 'Baseline', '--plan', 'enterprise', '--owner-email', 'baseline@example.com');

    phase('starting the API and the baseline server');
    const apiPort = await freePort();
    const baselinePort = await freePort();
    // The limit of 1000/h per key would throttle the benchmark itself.
    const api = await startChild('api', [...(process.env.BENCH_API_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_API_CPU_PROFILE}`] : []), ...heapSnapshotFlags('api'), 'src/server.ts'], { ...env, PORT: String(apiPort), RATE_LIMIT_PER_HOUR: '100000000', LOG_LEVEL: 'info' }, 'api listening');
    const baseline = await startChild('baseline', ['bench/baselineServer.ts'], { ...env, PORT: String(baselinePort), BASELINE_ORG_ID: baselineOrg.id }, 'baseline listening');
    children.push(api, baseline);

    const apiUrl = `http://127.0.0.1:${apiPort}/api/v1/listings`;
    const baselineUrl = `http://127.0.0.1:${baselinePort}/`;
    // Warm up both (JIT, pool connections and their prepared statements) at the first level's
    // concurrency, so the first level is not penalised: 2 s at 8 connections left the API's first
    // level 10-20 % below its second run in side-by-side probes.
    phase('warming up both servers');
    if (!ISOLATION_ONLY) await load(apiUrl, { 'X-API-Key': key.key }, CONCURRENCY[0], 5000);
    if (!ISOLATION_ONLY) await load(baselineUrl, {}, CONCURRENCY[0], 5000);

    phase(`measuring upsert throughput at concurrency ${CONCURRENCY.join(', ')}, ${DURATION_MS / 1000} s per level and side`);
    const throughput: Record<string, { api: LoadResult; baseline: LoadResult; ratio: number }> = {};
    for (const concurrency of ISOLATION_ONLY ? [] : CONCURRENCY) {
      // Alternate the order per level so neither side always runs on a warmer machine.
      const apiResult = await load(apiUrl, { 'X-API-Key': key.key }, concurrency, DURATION_MS);
      const baselineResult = await load(baselineUrl, {}, concurrency, DURATION_MS);
      throughput[`c${concurrency}`] = { api: apiResult, baseline: baselineResult, ratio: round(apiResult.throughput / baselineResult.throughput, 3) };
      if (concurrency === CONCURRENCY.at(-1)) await takeHeapSnapshot(api, 'api');
      console.log(`c=${concurrency}: api ${apiResult.throughput}/s (p50 ${apiResult.p50_ms} ms, p99 ${apiResult.p99_ms} ms) vs baseline ${baselineResult.throughput}/s → ratio ${throughput[`c${concurrency}`].ratio}`);
    }

    // The worker joins only now: the throughput phase measures the API process, as deployed on
    // its own replicas. Each of its writes owes a listingPublish (an outbox row nothing has started
    // yet). Draining them all would take the pipeline many minutes (the API is far faster than the
    // pipeline here) and only measure its capacity again, so the oldest DRAIN_SAMPLE stay, to
    // measure that capacity, and the rest of this benchmark data is dropped before any start. The
    // pipeline phase then starts from an empty backlog.
    const db = new Client({ connectionString: stack.env.DATABASE_URL });
    await db.connect();
    const { rows: sampled } = await db.query(
      "select args->0->>'listingId' as id from outbox where org_id = $1 and workflow_type = 'listingPublish' and status = 'pending' order by outbox.id limit $2",
      [org.id, WARMUP + DRAIN_SAMPLE],
    );
    const keptIds = sampled.map((row: { id: string }) => row.id);
    await db.query("delete from outbox where org_id = $1 and status = 'pending' and not (args->0->>'listingId' = any($2))", [org.id, keptIds]);
    // The relay claims the oldest rows first, so the warm-up drains ahead of the sample.
    const warmupIds = keptIds.slice(0, WARMUP);
    const sampledIds = keptIds.slice(WARMUP);
    const pendingOf = async (ids: string[]) => (await db.query("select count(*)::int as n from listings where id = any($1) and moderation_state = 'pending'", [ids])).rows[0].n as number;
    phase(`draining a backlog of ${sampledIds.length} publishes with the worker`);
    const worker = await startChild('worker', [...(process.env.BENCH_WORKER_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROFILE}`] : []), ...heapSnapshotFlags('worker'), 'src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, 'worker started');
    const noopQueue = `bench-noop-${randomUUID()}`;
    const noopWorker = await startChild('noop worker', ['bench/noopWorker.ts'], { ...env, NOOP_TASK_QUEUE: noopQueue }, 'noop worker started');
    children.push(worker, noopWorker);
    const meter = cpuMeter({ api: api.pid, worker: worker.pid, noopWorker: noopWorker.pid, temporal: stack.temporal.process?.child.pid }, (sql) => db.query(sql));
    while ((await pendingOf(warmupIds)) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const drainCpuStart = await meter.snapshot();
    const drainStart = Date.now();
    const backlog = sampledIds.length;
    let drainSeconds = NaN;
    for (;;) {
      const pending = await pendingOf(sampledIds);
      if (pending === 0 || Date.now() - drainStart > 600_000) {
        drainSeconds = (Date.now() - drainStart) / 1000;
        console.log(`[bench] backlog of ${backlog} publishes (after ${WARMUP} to warm up): ${pending} still pending after ${round(drainSeconds)} s`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const drainCpu = cpuMsPer(await meter.since(drainCpuStart), backlog, ['worker', 'temporal', 'postgres']);
    await takeHeapSnapshot(worker, 'worker');
    const drainPerSecond = round(backlog / drainSeconds);

    phase(`the engine's throughput: ${backlog} no-op workflows with one no-op activity each`);
    const temporal = createTemporalClientProvider(loadConfig(env));
    if (!ISOLATION_ONLY) await engineNoopWorkflowsPerSecond(await temporal.get(), noopQueue, WARMUP);
    const engineCpuStart = await meter.snapshot();
    const enginePerSecond = ISOLATION_ONLY ? NaN : await engineNoopWorkflowsPerSecond(await temporal.get(), noopQueue, backlog);
    const engineCpu = cpuMsPer(await meter.since(engineCpuStart), backlog, ['noopWorker', 'temporal', 'postgres']);
    await temporal.close();
    console.log(`[bench] drain ${drainPerSecond}/s vs engine ${enginePerSecond} no-op workflows/s → ratio ${round(drainPerSecond / enginePerSecond, 3)}`);

    /** POSTs `rate` active listings per second for PIPELINE_SECONDS; POST sent → listing.published committed, per listing. */
    let offset = 100_000;
    const pipelineAt = async (rate: number) => {
      const sent = new Map<string, number>();
      const total = Math.round(rate * PIPELINE_SECONDS);
      const first = offset;
      offset += total;
      const cpuStart = await meter.snapshot();
      await paced(total, 1000 / rate, async (i) => {
        const body = { ...listingBody(first + i), status: 'active' };
        const t0 = Date.now();
        const response = await fetch(apiUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-Key': key.key }, body: JSON.stringify(body) });
        const json = (await response.json()) as { data?: { id: string } };
        if (json.data) sent.set(json.data.id, t0);
      });
      const deadline = Date.now() + 300_000;
      let published: { id: string; at: Date }[] = [];
      while (Date.now() < deadline) {
        const { rows } = await db.query(
          "select payload->>'listingId' as id, occurred_at as at from events where org_id = $1 and name = 'listing.published' and payload->>'listingId' = any($2)",
          [org.id, [...sent.keys()]],
        );
        published = rows;
        if (published.length >= sent.size) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const latencies = published.map((row) => new Date(row.at).getTime() - (sent.get(row.id) ?? 0)).sort((a, b) => a - b);
      // What the whole machine spent while these were published, per publish: with a backlog
      // retrying elsewhere, it shows which process took the cores.
      const cpu = await meter.since(cpuStart);
      return {
        rate_per_second: round(rate),
        writes: sent.size,
        published: published.length,
        post_to_published_p50_ms: percentile(latencies, 50),
        post_to_published_p99_ms: percentile(latencies, 99),
        machine_busy_cores: cpu.machine_busy_cores,
        cpu_ms_per_publish: cpuMsPer(cpu, Math.max(1, sent.size), ['api', 'worker', 'temporal', 'postgres']),
      };
    };
    phase(`pipeline at half its capacity: ${round(drainPerSecond / 2)} writes/s for ${PIPELINE_SECONDS} s, then each listing.published`);
    // Without the drain before it, the first pipeline phase would measure a cold worker.
    const halfCapacity = ISOLATION_ONLY ? await pipelineAt(PIPELINE_RATE).then(() => null) : await pipelineAt(drainPerSecond / 2);
    phase(`pipeline: ${PIPELINE_RATE} writes/s for ${PIPELINE_SECONDS} s, then each listing.published`);
    const pipeline = await pipelineAt(PIPELINE_RATE);

    // Isolation: another organisation's 20 subscriptions point at a dead port. Its writes owe
    // them DEAD_SUBSCRIPTIONS × DEAD_WRITES deliveries; every first attempt is refused, so each
    // becomes a webhookDelivery retrying every 5 s. Publication is measured again while they retry.
    phase(`isolation: ${DEAD_SUBSCRIPTIONS} dead subscriptions of another organisation, ${DEAD_SUBSCRIPTIONS * DEAD_WRITES} deliveries retrying`);
    const deadOrg = cli('org', 'create', '--name', 'Dead subscriber', '--plan', 'enterprise', '--flag', 'LISTINGS_WRITE_API_ENABLED', '--flag', 'WEBHOOKS_PUBLIC_API_ENABLED', '--owner-email', 'dead@example.com');
    const deadKey = cli('key', 'create', '--org', deadOrg.id, '--kind', 'secret', '--mode', 'test', '--scope', 'listings:write', '--scope', 'webhooks:write');
    const deadUrls = Array.from({ length: DEAD_SUBSCRIPTIONS }, (_, i) => `http://127.0.0.1:${deadPort}/dead/${i}`);
    await subscribeWebhooks(`http://127.0.0.1:${apiPort}`, deadKey.key, deadUrls, ['listing.created']);
    for (let i = 0; i < DEAD_WRITES; i += 1) {
      await fetch(apiUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-Key': deadKey.key }, body: JSON.stringify(listingBody(900_000 + i)) });
    }
    const deadDeliveries = DEAD_SUBSCRIPTIONS * DEAD_WRITES;
    const retryingSince = Date.now();
    // Retrying or parked: every first attempt was refused (its row then holds attempt 2 until it
    // is due), or the subscription's circuit had opened and the delivery waits behind its probe.
    // The relay's burst of first attempts is over, so what is measured is publication beside the
    // retries.
    for (;;) {
      const { rows } = await db.query("select count(*)::int as n from webhook_deliveries where org_id = $1 and status = 'pending' and (parked_at is not null or attempt_count >= 1)", [deadOrg.id]);
      if (rows[0].n >= deadDeliveries || Date.now() - retryingSince > 120_000) {
        console.log(`[bench] ${rows[0].n} of ${deadDeliveries} dead deliveries retrying after ${round((Date.now() - retryingSince) / 1000)} s`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const deadAttemptsSoFar = async () => (await db.query('select coalesce(sum(attempt_count), 0)::int as n from webhook_deliveries where org_id = $1', [deadOrg.id])).rows[0].n as number;
    const deadAttemptsBefore = await deadAttemptsSoFar();
    const deadParked = (await db.query('select count(*)::int as n from webhook_deliveries where org_id = $1 and parked_at is not null', [deadOrg.id])).rows[0].n as number;
    const withDeadSubscribers = await pipelineAt(PIPELINE_RATE);
    const deadAttemptsAfter = await deadAttemptsSoFar();
    const isolation = {
      dead_subscriptions: DEAD_SUBSCRIPTIONS,
      dead_deliveries: deadDeliveries,
      dead_attempts_by_the_end: deadAttemptsAfter,
      dead_attempts_while_measured: deadAttemptsAfter - deadAttemptsBefore,
      // Waiting behind their subscription's open circuit (src/webhooks/circuit.ts) when measuring began.
      dead_parked: deadParked,
      without: pipeline,
      with_dead_subscribers: withDeadSubscribers,
      // Publication's p99 without the dead subscribers over its p99 with them: 1 is no effect.
      ratio: round(pipeline.post_to_published_p99_ms / withDeadSubscribers.post_to_published_p99_ms, 3),
      p50_ratio: round(pipeline.post_to_published_p50_ms / withDeadSubscribers.post_to_published_p50_ms, 3),
    };
    console.log(`[bench] isolation: p99 ${pipeline.post_to_published_p99_ms} ms without, ${withDeadSubscribers.post_to_published_p99_ms} ms with → ratio ${isolation.ratio}`);
    await db.end();
    if (ISOLATION_ONLY) {
      console.log(JSON.stringify({ isolation, peak_rss_mib: { api: peakRssMiB(api.pid), worker: peakRssMiB(worker.pid) } }, null, 2));
      return;
    }

    phase('writing bench/results/listings.json and docs/BENCHMARKS.md');
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version },
      duration_ms_per_level: DURATION_MS,
      upsert: throughput,
      // Upserts against the bare pg server per level, and the pipeline's capacity against the engine's throughput.
      ratio: { ...Object.fromEntries(Object.entries(throughput).map(([level, value]) => [level, value.ratio])), drain: round(drainPerSecond / enginePerSecond, 3) },
      pipeline,
      pipeline_at_half_capacity: halfCapacity,
      isolation,
      // How fast the worker publishes with nothing else running: the pipeline's capacity here.
      backlog_drain: { publishes: backlog, seconds: round(drainSeconds), per_s: drainPerSecond, cpu_ms_per_publish: drainCpu },
      engine: { noop_workflows: backlog, per_s: enginePerSecond, cpu_ms_per_workflow: engineCpu },
      peak_rss_mib: { api: peakRssMiB(api.pid), worker: peakRssMiB(worker.pid) },
      ...(HEAP_SNAPSHOT_DIR ? { heap: heapSummaries() } : {}),
    };
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/listings.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeMarkdown(result);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await stopBenchRun({ children, stack, database: new URL(stack.env.DATABASE_URL).pathname.slice(1), dataDir });
  }
}

const cpuLine = (cpu: Record<string, number | null>) => Object.entries(cpu).map(([name, ms]) => `${name} ${ms ?? '?'}`).join(', ');

function writeMarkdown(result: any): void {
  const rows = Object.entries(result.upsert as Record<string, { api: LoadResult; baseline: LoadResult; ratio: number }>)
    .map(([level, v]) => `| ${level.slice(1)} | ${v.api.throughput} | ${v.api.p50_ms} | ${v.api.p99_ms} | ${v.baseline.throughput} | ${v.baseline.p50_ms} | ${v.baseline.p99_ms} | **${v.ratio}** |`)
    .join('\n');
  const section = `Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node}; ${result.duration_ms_per_level / 1000} s per level, API and baseline side by side in one run.

| connections | API req/s | API p50 ms | API p99 ms | baseline req/s | baseline p50 ms | baseline p99 ms | ratio |
|---|---|---|---|---|---|---|---|
${rows}

The worker drained a backlog of ${result.backlog_drain.publishes} of the throughput phase's publishes at **${result.backlog_drain.per_s}/s**, the pipeline's capacity; the engine ran as many no-op workflows (one no-op activity each) at ${result.engine.per_s}/s: ratio **${result.ratio.drain}** (target ≥ 1.5).

| POSTs (status active) | writes/s | published | POST → \`listing.published\` p50 ms | p99 ms |
|---|---|---|---|---|
| at half the capacity | ${result.pipeline_at_half_capacity.rate_per_second} | ${result.pipeline_at_half_capacity.published}/${result.pipeline_at_half_capacity.writes} | ${result.pipeline_at_half_capacity.post_to_published_p50_ms} | **${result.pipeline_at_half_capacity.post_to_published_p99_ms}** |
| at 20 writes/s | ${result.pipeline.rate_per_second} | ${result.pipeline.published}/${result.pipeline.writes} | ${result.pipeline.post_to_published_p50_ms} | **${result.pipeline.post_to_published_p99_ms}** |

Isolation: with another organisation's ${result.isolation.dead_subscriptions} subscriptions on a dead port and their ${result.isolation.dead_deliveries} deliveries retrying every 5 s (${result.isolation.dead_attempts_by_the_end} attempts by the end), the same 20 writes/s published at p50 ${result.isolation.with_dead_subscribers.post_to_published_p50_ms} ms, p99 ${result.isolation.with_dead_subscribers.post_to_published_p99_ms} ms (${result.isolation.with_dead_subscribers.published}/${result.isolation.with_dead_subscribers.writes}): \`isolation.ratio\` (p99 without ÷ p99 with) **${result.isolation.ratio}** (target ≥ 0.8), p50 ratio ${result.isolation.p50_ratio}.

CPU ms per publish (drain): ${cpuLine(result.backlog_drain.cpu_ms_per_publish)}; per no-op workflow: ${cpuLine(result.engine.cpu_ms_per_workflow)}.

Peak RSS: API ${result.peak_rss_mib.api} MiB, worker ${result.peak_rss_mib.worker} MiB.`;
  writeBenchmarkSection('listings', 'Listings (`npm run bench:listings`)', section);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

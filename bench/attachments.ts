import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/knex';
import { createStorageClient, ensureBuckets } from '../src/storage/minio';
import { freePort } from '../scripts/stack/processes';
import { startStack } from '../scripts/stack/stack';
import { makePdf } from '../test/support/images';
import { pool, prepareBenchEnv, root, round, startChild, stopBenchRun, workerNodeFlags, writeBenchmarkSection } from './harness';

/**
 * `npm run bench:attachments` (issue 12): 50 listings × 10 URL attachments of 1–4 MB (PDFs, so
 * the fetch and the store are measured, not sharp) served by a loopback HTTP server in this
 * process, fetched by the propertyProcessing pipeline (API → outbox → worker → MinIO), against
 * the baseline in the same run: a plain undici download loop into MinIO with the same number in
 * flight and no Temporal. Also the worker's peak RSS (VmRSS, sampled) during the run.
 */
const LISTINGS = Number(process.env.BENCH_LISTINGS ?? 50);
const PER_LISTING = 10;
const MB = 1024 * 1024;
const PER_LISTING_CONCURRENCY = 2;
/**
 * Every attachment comes from the one loopback host, and the per-host limit is per worker: it is
 * set to what the listings ask for at once, so the pipeline has as many in flight as the baseline.
 */
const IN_FLIGHT = LISTINGS * PER_LISTING_CONCURRENCY;
const PER_HOST_CONCURRENCY = IN_FLIGHT;

/** The process's resident set now (VmRSS). VmHWM would include the workflow bundling at start-up. */
function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return round(kb / 1024, 0);
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-bench-attachments-'));
  const database = `immoflow_bench_attachments_${Date.now()}`;
  const stack = await startStack({ mode: 'test', dataDir, database });
  const children: ChildProcess[] = [];
  // Files of 1, 2, 3 and 4 MB (a PDF header, then random bytes), served from memory.
  const files = Array.from({ length: PER_LISTING }, (_, index) => {
    const size = (1 + (index % 4)) * MB;
    const body = randomBytes(size);
    makePdf().copy(body);
    return body;
  });
  const server = http.createServer((req, res) => {
    const index = Number(/\/f\/\d+\/(\d+)\.pdf/.exec(req.url ?? '')?.[1] ?? -1);
    const body = files[index];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': body.length }).end(body);
  });
  // Longer than any pause in the run, so that neither side reuses a connection the server is closing.
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const filePort = (server.address() as AddressInfo).port;
  const totalBytes = LISTINGS * files.reduce((sum, file) => sum + file.length, 0);
  try {
    const apiPort = await freePort();
    const { env, cli } = prepareBenchEnv(stack.env, {
      RATE_LIMIT_PER_HOUR: '100000000',
      PARTNER_LINK_SIGNING_KEY: randomBytes(32).toString('base64'),
      ATTACHMENT_ALLOW_TARGETS: `127.0.0.1:${filePort}`,
      ATTACHMENT_CONCURRENCY_PER_LISTING: String(PER_LISTING_CONCURRENCY),
      ATTACHMENT_CONCURRENCY_PER_HOST: String(PER_HOST_CONCURRENCY),
    });
    children.push(await startChild('api', ['src/server.ts'], { ...env, PORT: String(apiPort), LOG_LEVEL: 'info' }, 'api listening'));
    const workerMetricsPort = await freePort();
    const worker = await startChild('worker', ['src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(workerMetricsPort), LOG_LEVEL: 'info' }, 'worker started');
    children.push(worker);
    const config = loadConfig(env);
    const db = createDb(config);
    const storage = createStorageClient(config);
    await ensureBuckets(storage, config);

    const org = cli('org', 'create', '--name', 'Bench attachments', '--plan', 'enterprise', '--flag', 'LISTINGS_WRITE_API_ENABLED', '--owner-email', 'attachments@example.com');
    const key = cli('key', 'create', '--org', org.id, '--kind', 'secret', '--mode', 'test', '--scope', 'listings:write').key as string;
    const rssBefore = rssMb(worker.pid as number);
    // The worker's peak resident set during the run, sampled every 100 ms.
    let rssPeak = rssBefore;
    // Where it goes, from the worker's /metrics (the JS heap and Buffers outside it), each at its peak.
    const memoryPeak = { heap_total_mb: 0, heap_used_mb: 0, external_mb: 0 };
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMb(worker.pid as number));
    }, 100);
    const memorySampler = setInterval(() => {
      fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)
        .then((response) => response.text())
        .then((text) => {
          const gauge = (name: string) => Number(new RegExp(`^${name}(?:{[^}]*})? (\\S+)`, 'm').exec(text)?.[1] ?? 0) / MB;
          memoryPeak.heap_total_mb = Math.max(memoryPeak.heap_total_mb, round(gauge('nodejs_heap_size_total_bytes'), 0));
          memoryPeak.heap_used_mb = Math.max(memoryPeak.heap_used_mb, round(gauge('nodejs_heap_size_used_bytes'), 0));
          memoryPeak.external_mb = Math.max(memoryPeak.external_mb, round(gauge('nodejs_external_memory_bytes'), 0));
        })
        .catch(() => undefined);
    }, 500);

    // The pipeline: 50 POSTs with 10 URLs each, then until every attachment is ready.
    const started = Date.now();
    await pool(LISTINGS, 8, async (listing) => {
      const response = await fetch(`http://127.0.0.1:${apiPort}/api/v1/listings`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-API-Key': key },
        body: JSON.stringify({
          external_ref: `BENCH-ATT-${listing}`,
          title: 'Bench',
          attachments: files.map((_, index) => ({ url: `http://127.0.0.1:${filePort}/f/${listing}/${index}.pdf`, kind: 'document' })),
        }),
      });
      if (response.status !== 201) throw new Error(`POST: ${response.status} ${await response.text()}`);
    });
    const total = LISTINGS * PER_LISTING;
    console.log('[bench] pipeline: listings posted, waiting for every attachment');
    for (;;) {
      const [{ ready, failed }] = await db('attachments').select(db.raw("count(*) filter (where state = 'ready')::int as ready"), db.raw("count(*) filter (where state = 'failed')::int as failed"));
      if (failed > 0) throw new Error(`${failed} attachment(s) failed`);
      if (ready === total) break;
      if (Date.now() - started > 600_000) throw new Error(`only ${ready}/${total} ready after 10 min`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [{ last }] = await db('attachments').max('fetched_at as last');
    const pipelineSeconds = (new Date(last).getTime() - started) / 1000;
    clearInterval(sampler);
    clearInterval(memorySampler);

    console.log(`[bench] pipeline done in ${pipelineSeconds} s; baseline`);
    // The baseline: undici GET → MinIO putObject, the same number in flight, no Temporal.
    const agent = new Agent({ connections: IN_FLIGHT });
    const baselineStarted = Date.now();
    await pool(total, IN_FLIGHT, async (job) => {
      const listing = Math.floor(job / PER_LISTING);
      const index = job % PER_LISTING;
      const response = await request(`http://127.0.0.1:${filePort}/f/${listing}/${index}.pdf`, { dispatcher: agent });
      if (response.statusCode !== 200) throw new Error(`baseline GET: ${response.statusCode}`);
      await storage.putObject(config.S3_BUCKET_ATTACHMENTS, `baseline/${listing}/${index}`, response.body, Number(response.headers['content-length']), { 'Content-Type': 'application/pdf' });
    });
    const baselineSeconds = (Date.now() - baselineStarted) / 1000;
    await agent.close();

    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version },
      listings: LISTINGS,
      attachments: total,
      bytes: totalBytes,
      in_flight: IN_FLIGHT,
      pipeline: {
        attachments_per_s: round(total / pipelineSeconds, 2),
        mb_per_s: round(totalBytes / MB / pipelineSeconds, 1),
        seconds: round(pipelineSeconds, 2),
        worker_peak_rss_mb: rssPeak,
        worker_rss_before_mb: rssBefore,
        worker_peak_memory: memoryPeak,
      },
      baseline: { attachments_per_s: round(total / baselineSeconds, 2), mb_per_s: round(totalBytes / MB / baselineSeconds, 1), seconds: round(baselineSeconds, 2) },
      ratio: round(baselineSeconds / pipelineSeconds, 3),
      knobs: `ATTACHMENT_CONCURRENCY_PER_LISTING=${PER_LISTING_CONCURRENCY}, ATTACHMENT_CONCURRENCY_PER_HOST=${PER_HOST_CONCURRENCY} (one host, per worker: ${IN_FLIGHT} in flight); API and worker built (dist/), worker flags \`${workerNodeFlags().join(" ")}\`, default Temporal worker settings`,
    };
    console.log(JSON.stringify(result, null, 2));
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/attachments.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeBenchmarkSection(
      'attachments',
      'Attachments by URL (`npm run bench:attachments`)',
      `Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node}; ${LISTINGS} listings × ${PER_LISTING} PDF attachments of 1–4 MB (${round(totalBytes / MB, 0)} MB in all) from a loopback HTTP server, ${IN_FLIGHT} in flight (${result.knobs}). Pipeline: from the first POST to the last attachment ready (API → outbox → propertyProcessing → guarded fetch → MinIO). Baseline, same run: undici GET piped into MinIO \`putObject\`, ${IN_FLIGHT} at a time, no Temporal. Target: ratio ≥ 0.5, worker peak RSS < 350 MB.

| pipeline attachments/s | pipeline MB/s | baseline attachments/s | baseline MB/s | ratio | worker peak RSS (VmRSS sampled every 100 ms) | worker heap total / used / external at peak |
|---|---|---|---|---|---|---|
| ${result.pipeline.attachments_per_s} | ${result.pipeline.mb_per_s} | ${result.baseline.attachments_per_s} | ${result.baseline.mb_per_s} | **${result.ratio}** | ${rssPeak} MB (${rssBefore} MB before the run) | ${memoryPeak.heap_total_mb} / ${memoryPeak.heap_used_mb} / ${memoryPeak.external_mb} MB |`,
    );
    await db.destroy();
  } finally {
    server.close();
    await stopBenchRun({ children, stack, database, dataDir });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

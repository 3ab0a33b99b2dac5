import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/knex';
import { STORAGE_EVENTS_PATH } from '../src/images/storageEvents';
import { deriveVariants } from '../src/images/derive';
import { freePort } from '../scripts/stack/processes';
import { startStack } from '../scripts/stack/stack';
import { makeJpeg } from '../test/support/images';
import { benchPhases, percentile, pool, prepareBenchEnv, root, round, startChild, stopBenchRun, writeBenchmarkSection } from './harness';

/**
 * `npm run bench:images` (issue 5): images ingested per second (1 MB JPEGs, 8 in flight) and the
 * ingest latency after the PUT, side by side with the baseline: the same sharp work (the
 * `deriveVariants` the worker runs) on the same files, in this one process, 8 at a time. The two
 * alternate in rounds, so that noise on this shared machine falls on both alike.
 */
const IMAGES = Number(process.env.BENCH_IMAGES ?? 96);
const CONCURRENCY = 8;
const DISTINCT_FILES = 8;
const WARMUP = 8;
const ROUNDS = 3;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-bench-images-'));
  const database = `immoflow_bench_images_${Date.now()}`;
  const apiPort = await freePort();
  process.env.STORAGE_NOTIFICATION_TOKEN = randomBytes(24).toString('hex');
  const phase = benchPhases('images', 5);
  phase('starting Postgres, Temporal and MinIO');
  const stack = await startStack({ mode: 'test', dataDir, database, storageEventsUrl: `http://127.0.0.1:${apiPort}${STORAGE_EVENTS_PATH}` });
  const children: ChildProcess[] = [];
  try {
    const { env, cli } = prepareBenchEnv(stack.env, { RATE_LIMIT_PER_HOUR: '100000000' });
    phase('starting the API and the worker, preparing listings and JPEGs');
    children.push(await startChild('api', ['src/server.ts'], { ...env, PORT: String(apiPort), LOG_LEVEL: 'info' }, 'api listening'));
    children.push(await startChild('worker', ['src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, 'worker started'));
    const db = createDb(loadConfig(env));

    const org = cli('org', 'create', '--name', 'Bench images', '--plan', 'enterprise', '--flag', 'LISTINGS_WRITE_API_ENABLED', '--owner-email', 'images@example.com');
    const key = cli('key', 'create', '--org', org.id, '--kind', 'secret', '--mode', 'test', '--scope', 'listings:write').key as string;
    const api = async (method: string, route: string, body: unknown) => {
      const response = await fetch(`http://127.0.0.1:${apiPort}/api/v1${route}`, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-API-Key': key },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as { data: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      if (response.status >= 300) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
      return json.data;
    };

    const files = await Promise.all(Array.from({ length: DISTINCT_FILES }, () => makeJpeg(2400, 1600, { texture: true })));
    const fileBytes = Math.round(files.reduce((sum, file) => sum + file.length, 0) / files.length);
    console.log(`[bench] ${DISTINCT_FILES} distinct JPEGs of 2400 × 1600, about ${round(fileBytes / 1e6, 2)} MB each`);

    // One listing per 40 images: a listing holds at most 50.
    const listings: string[] = [];
    for (let i = 0; i < Math.ceil((IMAGES + ROUNDS + WARMUP) / 40); i += 1) {
      listings.push((await api('POST', '/listings', { external_ref: `BENCH-IMG-${i}`, title: 'Bench', city: 'Berlin', zip_code: '10115' })).id);
    }

    // The ingest pipeline, closed loop: each of the 8 clients waits for its image to be ready.
    const putDoneAt = new Map<string, number>();
    const settled = new Map<string, { state: string; readyAt: number }>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const rows: { id: string; state: string; ready_at: Date | null; updated_at: Date }[] = await db('listing_images')
          .whereIn('state', ['ready', 'failed'])
          .select('id', 'state', 'ready_at', 'updated_at');
        for (const row of rows) settled.set(row.id, { state: row.state, readyAt: (row.ready_at ?? row.updated_at).getTime() });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const ingestOne = async (index: number) => {
      const file = files[index % files.length];
      const ticket = await api('POST', `/listings/${listings[Math.floor(index / 40)]}/images`, { filename: `photo-${index}.jpg`, content_type: 'image/jpeg', size: file.length });
      const put = await fetch(ticket.upload_url, { method: 'PUT', body: file, headers: { 'Content-Type': 'image/jpeg' } });
      if (put.status !== 200) throw new Error(`PUT: ${put.status} ${await put.text()}`);
      putDoneAt.set(ticket.image_id, Date.now());
      const deadline = Date.now() + 120_000;
      while (!settled.has(ticket.image_id)) {
        if (Date.now() > deadline) throw new Error(`image ${ticket.image_id} not ingested within 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const state = settled.get(ticket.image_id)?.state;
      if (state !== 'ready') throw new Error(`image ${ticket.image_id} ended ${state}`);
      return ticket.image_id as string;
    };
    phase(`warming up: ${WARMUP} images through the pipeline and the baseline`);
    await pool(WARMUP, CONCURRENCY, async (index) => void (await ingestOne(ROUNDS * Math.ceil(IMAGES / ROUNDS) + index)));

    await pool(WARMUP, CONCURRENCY, async (index) => void (await deriveVariants(files[index % files.length])));

    // Alternating rounds, so that whatever else the machine does falls on both sides alike.
    const measured: string[] = [];
    let pipelineSeconds = 0;
    let baselineSeconds = 0;
    const perRound = Math.ceil(IMAGES / ROUNDS);
    phase(`measuring ${ROUNDS} alternating rounds of ${perRound} images, pipeline then baseline`);
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
      const offset = roundIndex * perRound;
      const roundIds: string[] = [];
      const pipelineStarted = Date.now();
      await pool(perRound, CONCURRENCY, async (index) => void roundIds.push(await ingestOne(offset + index)));
      pipelineSeconds += (Math.max(...roundIds.map((id) => settled.get(id)?.readyAt as number)) - pipelineStarted) / 1000;
      measured.push(...roundIds);

      const baselineStarted = Date.now();
      await pool(perRound, CONCURRENCY, async (index) => void (await deriveVariants(files[(offset + index) % files.length])));
      baselineSeconds += (Date.now() - baselineStarted) / 1000;
    }
    polling = false;
    await poller;
    const latencies = measured.map((id) => (settled.get(id)?.readyAt as number) - (putDoneAt.get(id) as number)).sort((a, b) => a - b);

    phase('writing bench/results/images.json and docs/BENCHMARKS.md');
    const pipelineRate = measured.length / pipelineSeconds;
    const baselineRate = measured.length / baselineSeconds;
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version },
      images: measured.length,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      file: { width: 2400, height: 1600, bytes_avg: fileBytes },
      pipeline: {
        images_per_s: round(pipelineRate, 2),
        ingest_p50_ms: percentile(latencies, 50),
        ingest_p99_ms: percentile(latencies, 99),
      },
      baseline: { images_per_s: round(baselineRate, 2) },
      ratio: round(pipelineRate / baselineRate, 3),
      knobs: 'none tuned: default Temporal worker settings, default sharp concurrency (one libvips thread per core), pg pool 10',
    };
    console.log(JSON.stringify(result, null, 2));
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/images.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeBenchmarkSection(
      'images',
      'Images (`npm run bench:images`)',
      `Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node}; ${result.images} JPEGs of 2400 × 1600 (about ${round(fileBytes / 1e6, 2)} MB), ${CONCURRENCY} in flight; pipeline and baseline side by side in one run, in ${ROUNDS} alternating rounds.

| pipeline images/s | ingest p50 ms (PUT done → ready) | ingest p99 ms | baseline (sharp alone) images/s | ratio |
|---|---|---|---|---|
| ${result.pipeline.images_per_s} | ${result.pipeline.ingest_p50_ms} | ${result.pipeline.ingest_p99_ms} | ${result.baseline.images_per_s} | **${result.ratio}** |`,
    );
    await db.destroy();
  } finally {
    await stopBenchRun({ children, stack, database, dataDir });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

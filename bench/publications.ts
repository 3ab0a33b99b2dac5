import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as HttpClient } from 'undici';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/knex';
import { AGENCY_KEY_SCOPES } from '../src/domain/partners';
import { scheduleIds } from '../src/domain/workflowIds';
import type { ListingRow } from '../src/listings/dto';
import { createConsentService } from '../src/partners/consent';
import { createPartnerService } from '../src/partners/service';
import { pushedListingBody } from '../src/targets/publisher';
import { createTargetService } from '../src/targets/service';
import { createTemporalClientProvider } from '../src/temporal/client';
import { taskQueues } from '../src/temporal/taskQueues';
import { freePort } from '../scripts/stack/processes';
import { startStack } from '../scripts/stack/stack';
import { completeListing } from '../test/support/listings';
import { CpuSnapshot, benchPhases, cpuMeter, cpuMsPer, percentile, pool, prepareBenchEnv, root, round, startChild, stopBenchRun, writeBenchmarkSection } from './harness';

/**
 * `npm run bench:publications`: publications/s hub → portal, on one deployment that is both (the
 * hub organisation H publishes into the portal organisation P through a publication target whose
 * base URL is this same API, wired exactly as test/integration/targets/publication.test.ts does
 * it), side by side with the baseline: the same upserts POSTed straight to P's API over one
 * undici connection. Two hub paths:
 *
 * - connect burst: 200 listings already published on a hub, then the connect owes them all at
 *   once; `target.connected` → last `publication.succeeded`. The publication workflow alone.
 * - hub → portal: 200 active listings POSTed to a connected hub; first `listing.published` → last
 *   `publication.succeeded`. H's listing pipeline and the publication workflow together.
 */
const LISTINGS = Number(process.env.BENCH_PUBLICATIONS ?? 200);
const WARMUP = 10;
/** In-flight POSTs to the hub in the hub → portal phase (the API takes them far faster than the pipeline). */
const POST_CONCURRENCY = 8;
/** Each wait gives up after this long; the whole run after RUN_TIMEOUT_MS. */
const WAIT_TIMEOUT_MS = Number(process.env.BENCH_WAIT_TIMEOUT_MS ?? 180_000);
const RUN_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 600_000);
/** BENCH_KEEP_RESYNC=1 leaves the resync schedule (and its drift sweep) running during the run. */
const KEEP_RESYNC = process.env.BENCH_KEEP_RESYNC === '1';


/** Every listing of the run has its own address: moderation sends one at an address the org already holds to review. */
let houseNumber = 0;

function listingBody(prefix: string) {
  return completeListing({ external_ref: `${prefix}-${randomUUID()}`, house_number: String((houseNumber += 1)), status: 'active' });
}

/** Thrown by a probe when waiting longer cannot help. */
class Fatal extends Error {}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = WAIT_TIMEOUT_MS, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      if (error instanceof Fatal) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`[bench] timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

type Db = ReturnType<typeof createDb>;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-bench-publications-'));
  const database = `immoflow_bench_publications_${Date.now()}`;
  const phase = benchPhases('publications', 8);
  phase('starting Postgres, Temporal and MinIO');
  const stack = await startStack({ mode: 'test', dataDir, database });
  const children: ChildProcess[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await stopBenchRun({ children, stack, database, dataDir });
  };
  // The hard stop: whatever hangs, the run ends with a clear error and its processes gone.
  const watchdog = setTimeout(() => {
    console.error(`[bench] the run exceeded ${RUN_TIMEOUT_MS / 1000} s (BENCH_TIMEOUT_MS); stopping`);
    void Promise.race([cleanup(), new Promise((resolve) => setTimeout(resolve, 20_000))]).finally(() => process.exit(1));
  }, RUN_TIMEOUT_MS);
  watchdog.unref();

  try {
    const apiPort = await freePort();
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const storageHost = new URL(stack.env.S3_ENDPOINT).host;
    const { env, cli } = prepareBenchEnv(stack.env, {
      PARTNER_LINK_SIGNING_KEY: randomBytes(32).toString('base64'),
      // The hub calls the portal (this same API) and the portal's storage on plain-http loopback.
      WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${apiPort},${storageHost}`,
      // So connect links and partner hook URLs point at this API.
      PUBLIC_BASE_URL: apiBase,
      // The default 1000/h per key would throttle the benchmark itself.
      RATE_LIMIT_PER_HOUR: '1000000',
    });
    const config = loadConfig(env);
    phase('starting the API and the worker');
    const api = await startChild('api', ['src/server.ts'], { ...env, PORT: String(apiPort), LOG_LEVEL: 'info' }, 'api listening');
    children.push(api);
    const worker = await startChild('worker', ['src/worker.ts'], { ...env, WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }, 'worker started');
    children.push(worker);
    const db: Db = createDb(config);
    const temporal = createTemporalClientProvider(config);
    const client = await temporal.get();

    // The resync schedule (every OUTBOX_RESYNC_INTERVAL) also runs the drift sweep, and a new
    // connection is due for its first sweep at the next tick: a sweep in the middle of a phase
    // would find the listings still owed to the portal missing there and owe them again. Paused,
    // so each phase measures its pushes only (BENCH_KEEP_RESYNC=1 leaves it running).
    const resyncSchedule = client.schedule.getHandle(scheduleIds.resync(taskQueues(config).main));
    if (!KEEP_RESYNC) await resyncSchedule.pause('bench:publications measures the pushes alone');

    const org = (name: string) =>
      cli('org', 'create', '--name', name, '--plan', 'enterprise', '--flag', 'LISTINGS_WRITE_API_ENABLED', '--owner-email', `${name.toLowerCase().replace(/\W+/g, '-')}@example.com`);
    const hubKey = (orgId: string): string => cli('key', 'create', '--org', orgId, '--kind', 'secret', '--mode', 'test', '--scope', 'listings:write', '--scope', 'targets:write').key;
    // Two hub/portal pairs: one per hub path, so each portal holds exactly what its hub pushed.
    const hub = org('Hub live');
    const portal = org('Portal live');
    const burstHub = org('Hub burst');
    const burstPortal = org('Portal burst');
    // The baseline writes copies of the burst hub's listings: into a portal org of its own, where
    // their addresses are new (as they are for the burst portal).
    const baselinePortal = org('Portal baseline');
    const hubSecret = hubKey(hub.id);
    const burstHubSecret = hubKey(burstHub.id);
    // The baseline's key: the same scopes as the agency key the portal issues the hub.
    const portalSecret: string = cli('key', 'create', '--org', baselinePortal.id, '--kind', 'secret', '--mode', 'test', ...AGENCY_KEY_SCOPES.flatMap((scope) => ['--scope', scope])).key;

    const request = async (method: string, route: string, key: string, body?: unknown) => {
      const response = await fetch(`${apiBase}${route}`, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-API-Key': key, 'Idempotency-Key': randomUUID() },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const json = (await response.json()) as { data?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      if (response.status >= 300) throw new Error(`${method} ${route}: HTTP ${response.status} ${JSON.stringify(json)}`);
      return json.data;
    };

    // The portal's operator registers the hub as a CRM partner; the hub's operator registers the
    // portal as a target and hands the partner hook URL back (publication.test.ts registerTarget).
    const partners = createPartnerService(db, config);
    const partner = await partners.create({ name: 'Immoflow hub (bench)', webhookUrl: `${apiBase}/partner-hooks/${randomUUID()}`, developerEmail: 'hub-bench@example.com' });
    const { target, partnerHookUrl } = await createTargetService(db, config).create({
      name: 'Portal (bench)',
      baseUrl: apiBase,
      clientId: partner.partner.client_id,
      clientSecret: partner.clientSecret,
      webhookSecret: partner.webhookSecret,
    });
    await partners.updateWebhookUrl(partner.partner.id, partnerHookUrl);

    /** H asks for the link, P's owner confirms, the portal delivers the key: resolves with `target.connected`'s time. */
    const connect = async (hubOrg: { id: string }, hubSecretKey: string, portalOrg: { id: string; owner_user_id: string }): Promise<number> => {
      const link = await request('POST', `/api/v1/targets/${target.id}/connect`, hubSecretKey);
      const consent = await createConsentService(db, config).confirm(String(link.url).split('/connect/')[1], portalOrg.owner_user_id, portalOrg.id);
      if (consent.state !== 'usable') throw new Error(`the portal's consent failed: ${consent.state}`);
      const event = await waitFor(`target.connected for ${hubOrg.id}`, async () =>
        (await db('events').where({ org_id: hubOrg.id, name: 'target.connected' }).first('occurred_at')) as { occurred_at: Date } | undefined,
      );
      return event.occurred_at.getTime();
    };

    const eventTimes = async (orgId: string, name: string, listingIds: string[]): Promise<{ id: string; at: number }[]> => {
      const rows: { id: string; at: Date }[] = await db('events')
        .where({ org_id: orgId, name })
        .whereRaw("payload->>'listingId' = any(?::text[])", [listingIds])
        .select(db.raw("payload->>'listingId' as id"), 'occurred_at as at');
      return rows.map((row) => ({ id: row.id, at: row.at.getTime() }));
    };
    const countEvents = async (orgId: string, name: string, listingIds: string[]) => (await eventTimes(orgId, name, listingIds)).length;
    const portalListingIds = async (orgId: string, externalRefs: string[]): Promise<string[]> =>
      (await db('listings').where({ org_id: orgId }).whereNull('deleted_at').whereIn('external_ref', externalRefs).select('id')).map((row: { id: string }) => row.id);

    /** A listing moderation held back never publishes: fail at once instead of at the timeout. */
    const assertModerated = async (orgIds: string[]) => {
      const held: { external_ref: string; moderation_state: string }[] = await db('listings')
        .whereIn('org_id', orgIds)
        .whereNotIn('moderation_state', ['pending', 'approved'])
        .limit(3)
        .select('external_ref', 'moderation_state', 'moderation_reasons');
      if (held.length) throw new Fatal(`[bench] moderation held listings back: ${JSON.stringify(held)}`);
    };
    const everyOrg = [hub.id, portal.id, burstHub.id, burstPortal.id, baselinePortal.id];
    const checkedCount = async (orgId: string, name: string, listingIds: string[]) => {
      await assertModerated(everyOrg);
      return countEvents(orgId, name, listingIds);
    };

    /** Nothing owed, nothing running: the next phase starts on an idle pipeline. */
    const settle = async (what: string) => {
      await waitFor(`the pipeline to go idle after ${what}`, async () => {
        await assertModerated(everyOrg);
        const [{ n }] = await db('outbox').where({ status: 'pending' }).count('* as n');
        if (Number(n) > 0) return false;
        const running = await client.workflow.count('ExecutionStatus = "Running" AND (WorkflowType = "listingPublish" OR WorkflowType = "publication" OR WorkflowType = "publicationBackfill")');
        return running.count === 0;
      });
    };
    /** Waits until the portal holds `refs` and has published each (its own listing pipeline). */
    const portalPublished = async (portalOrgId: string, refs: string[], what: string) => {
      await waitFor(`${refs.length} ${what} published on the portal`, async () => {
        await assertModerated(everyOrg);
        const ids = await portalListingIds(portalOrgId, refs);
        return ids.length === refs.length && (await countEvents(portalOrgId, 'listing.published', ids)) === refs.length;
      });
    };

    /**
     * The portal is this same deployment: every listing pushed to it runs the portal's own listing
     * pipeline on the same worker. How much of that ran inside a hub phase's window.
     */
    const portalPipelineOverlap = async (portalOrgId: string, refs: string[], from: number, to: number) => {
      const times = (await eventTimes(portalOrgId, 'listing.published', await portalListingIds(portalOrgId, refs))).map((event) => event.at);
      return { portal_listing_published_in_window: times.filter((at) => at <= to).length, portal_last_listing_published_after_s: round((Math.max(...times) - from) / 1000, 2) };
    };

    const meter = cpuMeter(
      { api: api.pid, worker: worker.pid, temporal: stack.temporal.process?.child.pid, minio: stack.minio.process?.child.pid },
      (sql) => db.raw(sql),
    );
    /** CPU seconds each process spent since `start`, and ms per publication; postgres = this database's backends. */
    const cpuBetween = async (start: CpuSnapshot, publications: number) => {
      const window = await meter.since(start);
      const cpuSeconds = Object.fromEntries(Object.entries(window.cpu_ms).map(([name, ms]) => [name, ms === null ? null : round(ms / 1000, 2)]));
      return { window_s: window.window_s, cpu_s: cpuSeconds, cpu_ms_per_publication: cpuMsPer(window, publications), machine_busy_cores: window.machine_busy_cores };
    };

    // ── Set-up and warm-up: H connected to P, a few listings pushed end to end, and a second hub
    // with its 200 listings already published (its target is connected only in the burst phase).
    phase(`set-up and warm-up: connecting the hub, ${WARMUP} warm-up listings, ${LISTINGS} on the burst hub`);
    await connect(hub, hubSecret, portal);
    console.log(`[bench] hub connected to target ${target.id}`);
    const warmupBodies = Array.from({ length: WARMUP }, () => listingBody('PUB-WARMUP'));
    const warmupIds: string[] = [];
    for (const body of warmupBodies) warmupIds.push((await request('POST', '/api/v1/listings', hubSecret, body)).id);
    await waitFor(`${WARMUP} warm-up publications`, async () => (await checkedCount(hub.id, 'publication.succeeded', warmupIds)) === WARMUP);
    await portalPublished(portal.id, warmupBodies.map((body) => body.external_ref), 'warm-up listings');

    const burstBodies = Array.from({ length: LISTINGS }, () => listingBody('PUB-BURST'));
    const burstIds: string[] = [];
    await pool(LISTINGS, POST_CONCURRENCY, async (i) => {
      burstIds.push((await request('POST', '/api/v1/listings', burstHubSecret, burstBodies[i])).id);
    });
    await waitFor(`${LISTINGS} listings published on the burst hub`, async () => (await checkedCount(burstHub.id, 'listing.published', burstIds)) === LISTINGS);
    await settle('seeding the burst hub');
    console.log(`[bench] ${LISTINGS} listings published on the burst hub, not yet connected`);

    // ── Baseline: the very upserts the publisher will send for the burst hub's listings (same
    // bodies, fresh external_refs), POSTed to P's API over one connection, one after the other.
    phase(`baseline: ${LISTINGS} upserts straight to the portal`);
    const burstRows: ListingRow[] = await db('listings').whereIn('id', burstIds).select('*');
    const baselineBodies = burstRows.map((row) => ({ ...pushedListingBody(row), external_ref: `PUB-BASE-${randomUUID()}` }));
    const http = new HttpClient(apiBase, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
    const upsert = async (body: Record<string, unknown>) => {
      const response = await http.request({
        path: '/api/v1/listings',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': portalSecret, 'idempotency-key': randomUUID() },
        body: JSON.stringify(body),
      });
      const text = await response.body.text();
      if (response.statusCode >= 300) throw new Error(`baseline upsert: HTTP ${response.statusCode} ${text}`);
    };
    const baselineWarmup = Array.from({ length: WARMUP }, () => listingBody('PUB-BASE-WARMUP'));
    for (const body of baselineWarmup) await upsert(body);
    await portalPublished(baselinePortal.id, baselineWarmup.map((body) => String(body.external_ref)), 'baseline warm-up listings');
    await settle('the baseline warm-up');
    const baselineCpuStart = await meter.snapshot();
    const baselineStarted = performance.now();
    const baselineStartedAt = Date.now();
    for (const body of baselineBodies) await upsert(body);
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;
    const baselineCpu = await cpuBetween(baselineCpuStart, LISTINGS);
    await http.close();
    const baselinePerSecond = LISTINGS / baselineSeconds;
    console.log(`[bench] baseline: ${LISTINGS} upserts straight to the portal in ${round(baselineSeconds, 2)} s → ${round(baselinePerSecond)}/s`);
    // P's own pipeline publishes what the baseline wrote; it must not run into the next phase.
    await portalPublished(baselinePortal.id, baselineBodies.map((body) => String(body.external_ref)), 'baseline listings');
    await settle('the baseline');
    const baselinePortalPipeline = await portalPipelineOverlap(baselinePortal.id, baselineBodies.map((body) => String(body.external_ref)), baselineStartedAt, baselineStartedAt + baselineSeconds * 1000);

    // ── Connect burst: the connect owes all 200 at once; the publication workflow alone.
    phase(`connect burst: ${LISTINGS} publications owed at once`);
    const burstCpuStart = await meter.snapshot();
    const connectedAt = await connect(burstHub, burstHubSecret, burstPortal);
    await waitFor(`${LISTINGS} publications of the connect burst`, async () => (await countEvents(burstHub.id, 'publication.succeeded', burstIds)) >= LISTINGS);
    const burstCpu = await cpuBetween(burstCpuStart, LISTINGS);
    const burstSucceeded = await eventTimes(burstHub.id, 'publication.succeeded', burstIds);
    const burstFirst = Math.min(...burstSucceeded.map((event) => event.at));
    const burstLast = Math.max(...burstSucceeded.map((event) => event.at));
    const burstSeconds = (burstLast - connectedAt) / 1000;
    // The first half, before the portal's own pipeline (same worker) has most of its pushed listings to publish.
    const burstHalf = burstSucceeded.map((event) => event.at).sort((a, b) => a - b)[Math.floor(LISTINGS / 2) - 1];
    const burstPerSecond = LISTINGS / burstSeconds;
    console.log(`[bench] connect burst: ${LISTINGS} publications in ${round(burstSeconds, 2)} s after target.connected → ${round(burstPerSecond)}/s`);
    await portalPublished(burstPortal.id, burstBodies.map((body) => body.external_ref), 'burst listings');
    await settle('the connect burst');
    const burstPortalPipeline = await portalPipelineOverlap(burstPortal.id, burstBodies.map((body) => body.external_ref), connectedAt, burstLast);

    // ── Hub → portal: 200 active listings POSTed to the connected hub, published, then pushed.
    phase(`hub → portal: ${LISTINGS} listings POSTed, published, then pushed`);
    const liveBodies = Array.from({ length: LISTINGS }, () => listingBody('PUB-LIVE'));
    const liveIds: string[] = [];
    const liveCpuStart = await meter.snapshot();
    const postsStarted = Date.now();
    await pool(LISTINGS, POST_CONCURRENCY, async (i) => {
      liveIds.push((await request('POST', '/api/v1/listings', hubSecret, liveBodies[i])).id);
    });
    const postsSeconds = (Date.now() - postsStarted) / 1000;
    await waitFor(`${LISTINGS} publications of the hub → portal phase`, async () => (await checkedCount(hub.id, 'publication.succeeded', liveIds)) >= LISTINGS);
    const liveCpu = await cpuBetween(liveCpuStart, LISTINGS);
    const livePublished = new Map((await eventTimes(hub.id, 'listing.published', liveIds)).map((event) => [event.id, event.at]));
    const liveSucceeded = await eventTimes(hub.id, 'publication.succeeded', liveIds);
    const firstPublished = Math.min(...livePublished.values());
    const lastPublished = Math.max(...livePublished.values());
    const liveLast = Math.max(...liveSucceeded.map((event) => event.at));
    const liveSeconds = (liveLast - firstPublished) / 1000;
    const livePerSecond = LISTINGS / liveSeconds;
    const latencies = liveSucceeded.map((event) => event.at - (livePublished.get(event.id) as number)).sort((a, b) => a - b);
    console.log(`[bench] hub → portal: ${LISTINGS} in ${round(liveSeconds, 2)} s from the first listing.published → ${round(livePerSecond)}/s; latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`);
    await portalPublished(portal.id, liveBodies.map((body) => body.external_ref), 'hub → portal listings');
    await settle('the hub → portal phase');
    const livePortalPipeline = await portalPipelineOverlap(portal.id, liveBodies.map((body) => body.external_ref), firstPublished, liveLast);

    // ── Verification: exactly one `set` success per listing on the hub, exactly one copy on P.
    phase('verifying exactly one push per listing, then writing the results');
    const verify = async (label: string, hubOrgId: string, ids: string[], portalOrgId: string, refs: string[]) => {
      const rows: { id: string; n: string }[] = await db('events')
        .where({ org_id: hubOrgId, name: 'publication.succeeded' })
        .whereRaw("payload->>'type' = 'set'")
        .whereRaw("payload->>'listingId' = any(?::text[])", [ids])
        .groupByRaw("payload->>'listingId'")
        .select(db.raw("payload->>'listingId' as id"), db.raw('count(*) as n'));
      const once = rows.filter((row) => Number(row.n) === 1).length;
      const [{ n: anySucceeded }] = await db('events').where({ org_id: hubOrgId, name: 'publication.succeeded' }).whereRaw("payload->>'listingId' = any(?::text[])", [ids]).count('* as n');
      const [{ n: failed }] = await db('events').where({ org_id: hubOrgId, name: 'publication.failed' }).whereRaw("payload->>'listingId' = any(?::text[])", [ids]).count('* as n');
      const copies: { external_ref: string; n: string }[] = await db('listings')
        .where({ org_id: portalOrgId })
        .whereNull('deleted_at')
        .whereIn('external_ref', refs)
        .groupBy('external_ref')
        .select('external_ref', db.raw('count(*) as n'));
      const onPortalOnce = copies.filter((row) => Number(row.n) === 1).length;
      const problems = [
        once !== ids.length && `${ids.length - once} of ${ids.length} listings lack exactly one publication.succeeded (type set)`,
        Number(anySucceeded) !== ids.length && `${anySucceeded} publication.succeeded events for ${ids.length} listings`,
        onPortalOnce !== refs.length && `${refs.length - onPortalOnce} of ${refs.length} listings are not on the portal exactly once`,
      ].filter(Boolean);
      if (problems.length) throw new Error(`[bench] ${label}: the run did not publish as it should: ${problems.join('; ')}`);
      return { listings: ids.length, succeeded_once: once, on_portal_once: onPortalOnce, publication_failed_events: Number(failed) };
    };
    const verified = {
      connect_burst: await verify('connect burst', burstHub.id, burstIds, burstPortal.id, burstBodies.map((body) => body.external_ref)),
      hub_to_portal: await verify('hub → portal', hub.id, liveIds, portal.id, liveBodies.map((body) => body.external_ref)),
      baseline_on_portal_once: (await portalListingIds(baselinePortal.id, baselineBodies.map((body) => String(body.external_ref)))).length,
    };
    if (verified.baseline_on_portal_once !== LISTINGS) throw new Error(`[bench] baseline: ${verified.baseline_on_portal_once} of ${LISTINGS} upserts are on the portal`);

    // Both windows until the portal has published every listing: its own pipeline, which the
    // burst's window holds and the baseline's mostly runs after, is then in both.
    const burstUntilLiveSeconds = Math.max(burstSeconds, burstPortalPipeline.portal_last_listing_published_after_s);
    const baselineUntilLiveSeconds = Math.max(baselineSeconds, baselinePortalPipeline.portal_last_listing_published_after_s);
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memory_gib: round(os.totalmem() / 2 ** 30), node: process.version },
      listings: LISTINGS,
      ratio: round(burstPerSecond / baselinePerSecond, 3),
      ratio_of: 'connect_burst.publications_per_s / baseline.publications_per_s',
      hub_to_portal_ratio: round(livePerSecond / baselinePerSecond, 3),
      until_live_on_portal: {
        window: 'target.connected (burst) or first request (baseline) → last listing.published on the portal',
        connect_burst_per_s: round(LISTINGS / burstUntilLiveSeconds, 2),
        baseline_per_s: round(LISTINGS / baselineUntilLiveSeconds, 2),
        ratio: round(baselineUntilLiveSeconds / burstUntilLiveSeconds, 3),
      },
      connect_burst: {
        publications_per_s: round(burstPerSecond, 2),
        seconds: round(burstSeconds, 2),
        window: 'target.connected → last publication.succeeded',
        connected_to_first_succeeded_ms: burstFirst - connectedAt,
        first_half_publications_per_s: round(Math.floor(LISTINGS / 2) / ((burstHalf - connectedAt) / 1000), 2),
        ...burstPortalPipeline,
        cpu: burstCpu,
      },
      hub_to_portal: {
        publications_per_s: round(livePerSecond, 2),
        seconds: round(liveSeconds, 2),
        window: 'first listing.published → last publication.succeeded',
        post_concurrency: POST_CONCURRENCY,
        posts_seconds: round(postsSeconds, 2),
        listing_published_span_s: round((lastPublished - firstPublished) / 1000, 2),
        published_to_succeeded_p50_ms: percentile(latencies, 50),
        published_to_succeeded_p99_ms: percentile(latencies, 99),
        ...livePortalPipeline,
        cpu: liveCpu,
      },
      baseline: {
        publications_per_s: round(baselinePerSecond, 2),
        seconds: round(baselineSeconds, 2),
        window: 'first request → last response, one undici Client (pipelining 1)',
        ...baselinePortalPipeline,
        cpu: baselineCpu,
      },
      verified,
      knobs: `none tuned: TARGET_CONCURRENCY ${config.TARGET_CONCURRENCY} (pushes in flight per target per worker), default Temporal worker settings, pg pool ${config.DATABASE_POOL_MAX}; resync schedule ${KEEP_RESYNC ? 'running' : 'paused during the run'}`,
    };
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/publications.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeMarkdown(result);
    console.log(JSON.stringify(result, null, 2));
    if (!KEEP_RESYNC) await resyncSchedule.unpause().catch(() => undefined);
    await temporal.close();
    await db.destroy();
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function writeMarkdown(result: any): void {
  const cpuRow = (label: string, cpu: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const per = cpu.cpu_ms_per_publication;
    return `| ${label} | ${per.api} | ${per.worker} | ${per.temporal} | ${per.postgres} | ${per.minio ?? '–'} | ${cpu.machine_busy_cores} |`;
  };
  const section = `Measured ${result.measured_at} on ${result.machine.cpus} cores / ${result.machine.memory_gib} GiB, Node ${result.machine.node}; ${result.listings} listings per path, one API and one worker process, all three side by side in one run.

| path | window | seconds | publications/s | ÷ baseline |
|---|---|---|---|---|
| connect burst (200 listings, one publicationBackfill workflow) | \`target.connected\` → last \`publication.succeeded\` | ${result.connect_burst.seconds} | ${result.connect_burst.publications_per_s} | **${result.ratio}** (\`ratio\`) |
| hub → portal (listing pipeline + publication) | first \`listing.published\` → last \`publication.succeeded\` | ${result.hub_to_portal.seconds} | ${result.hub_to_portal.publications_per_s} | ${result.hub_to_portal_ratio} |
| baseline: the same upserts straight to P's API, one connection | first request → last response | ${result.baseline.seconds} | ${result.baseline.publications_per_s} | 1 |

Until live on the portal (the portal's own pipeline in both windows: the burst's holds it, the baseline's mostly runs after its last response): connect burst ${result.until_live_on_portal.connect_burst_per_s}/s, baseline ${result.until_live_on_portal.baseline_per_s}/s, ratio ${result.until_live_on_portal.ratio} (reported beside \`ratio\`, which stays the issue's measure).

Hub → portal, \`listing.published\` → \`publication.succeeded\` on H: p50 **${result.hub_to_portal.published_to_succeeded_p50_ms} ms**, p99 **${result.hub_to_portal.published_to_succeeded_p99_ms} ms** (H's listing pipeline published the ${result.listings} over ${result.hub_to_portal.listing_published_span_s} s). Verified: every listing has exactly one \`publication.succeeded\` (type set) on H and one copy on P.

Connect burst: first push ${result.connect_burst.connected_to_first_succeeded_ms} ms after \`target.connected\`, the first ${result.listings / 2} at **${result.connect_burst.first_half_publications_per_s}/s**. The portal is the same deployment: its own listing pipeline (same worker) published ${result.connect_burst.portal_listing_published_in_window} of the ${result.listings} pushed listings inside the burst's window (hub → portal: ${result.hub_to_portal.portal_listing_published_in_window}), its last ${result.connect_burst.portal_last_listing_published_after_s} s after \`target.connected\`.

CPU ms per listing in each window (a process's CPU over the window ÷ ${result.listings}, from \`/proc/<pid>/stat\`; Postgres = this database's backends; worker and Temporal include the portal's own pipeline for what lands on it):

| path | API | worker | Temporal | Postgres | MinIO | machine busy cores |
|---|---|---|---|---|---|---|
${cpuRow('connect burst', result.connect_burst.cpu)}
${cpuRow('hub → portal', result.hub_to_portal.cpu)}
${cpuRow('baseline', result.baseline.cpu)}`;
  writeBenchmarkSection('publications', 'Publications (`npm run bench:publications`)', section);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

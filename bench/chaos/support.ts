import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { upsertListingExample } from '../../src/openapi/examples';
import type { ChaosStack } from './scenario';

/** What the load generators and the counting of the scenarios share. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A listing that passes moderation and publishes: a unique address keeps the duplicate rule out of it. */
export function listingBody(index: number, run: string) {
  return {
    ...upsertListingExample,
    energy_certificate: { ...upsertListingExample.energy_certificate },
    external_ref: `CHAOS-${run}-${index}`,
    title: `Chaos apartment ${index}`,
    house_number: `${index + 1}${run.slice(0, 4)}`,
    status: 'active',
  };
}

export interface WriteOutcome {
  index: number;
  externalRef: string;
  /** ms since the load started. */
  startedAt: number;
  ms: number;
  /** 0: no HTTP answer (connection error, or no answer within the timeout). */
  status: number;
  code?: string;
  listingId?: string;
  error?: string;
  timedOut?: boolean;
}

export interface WriteLoad {
  /** Resolves with every outcome once the last request answered or timed out. */
  done: Promise<WriteOutcome[]>;
  /** Stops sending new requests (in-flight ones still complete). */
  stop(): void;
  sentSoFar(): number;
}

/**
 * Open-loop POST /api/v1/listings at `rate` per second: a request is sent on schedule whether or
 * not the earlier ones answered, as clients do during an outage, so a slow API cannot hide its
 * failures by slowing the load down.
 */
export function steadyWrites(stack: ChaosStack, key: string, options: { rate: number; count?: number; durationMs?: number; timeoutMs: number }): WriteLoad {
  const run = randomUUID().slice(0, 8);
  const outcomes: Promise<WriteOutcome>[] = [];
  const started = Date.now();
  let stopped = false;
  const loop = (async () => {
    for (let index = 0; ; index += 1) {
      const due = started + (index * 1000) / options.rate;
      if (stopped || (options.count !== undefined && index >= options.count) || (options.durationMs !== undefined && due - started >= options.durationMs)) break;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      outcomes.push(writeOne(stack, key, index, listingBody(index, run), started, options.timeoutMs));
    }
  })();
  return {
    done: loop.then(() => Promise.all(outcomes)),
    stop: () => {
      stopped = true;
    },
    sentSoFar: () => outcomes.length,
  };
}

async function writeOne(stack: ChaosStack, key: string, index: number, body: ReturnType<typeof listingBody>, loadStart: number, timeoutMs: number): Promise<WriteOutcome> {
  const t0 = Date.now();
  const base = { index, externalRef: body.external_ref, startedAt: t0 - loadStart };
  try {
    const response = await fetch(`${stack.apiUrl}/api/v1/listings`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': key },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let json: { data?: { id?: string }; error?: { code?: string } } | undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { ...base, ms: Date.now() - t0, status: response.status, code: json?.error?.code, listingId: json?.data?.id, error: json ? undefined : text.slice(0, 200) };
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    const cause = (error as { cause?: Error }).cause;
    return { ...base, ms: Date.now() - t0, status: 0, timedOut, error: `${(error as Error).message}${cause ? `: ${cause.message}` : ''}` };
  }
}

/** Counts outcomes by status (and code), for a scenario's details. */
export function statusCounts(outcomes: WriteOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const label = outcome.status === 0 ? (outcome.timedOut ? 'timeout' : 'no_answer') : outcome.code ? `${outcome.status} ${outcome.code}` : String(outcome.status);
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

export const acknowledged = (outcomes: WriteOutcome[]) => outcomes.filter((outcome) => outcome.status >= 200 && outcome.status < 300 && outcome.listingId);

/** Polls until `probe` is true or the deadline; returns whether it became true. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // An engine being restarted; the next poll tries again.
    }
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** listing id → number of `events` rows named `name` about it. */
export async function eventCounts(stack: ChaosStack, orgId: string, name: string, listingIds: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>(listingIds.map((id) => [id, 0]));
  if (listingIds.length === 0) return counts;
  const rows: { id: string; n: number }[] = await stack.db('events')
    .select(stack.db.raw("payload->>'listingId' as id"))
    .count<{ id: string; n: number }[]>('* as n')
    .where({ org_id: orgId, name })
    .whereRaw("payload->>'listingId' = any(?)", [listingIds])
    .groupByRaw("payload->>'listingId'");
  for (const row of rows) counts.set(row.id, Number(row.n));
  return counts;
}

/** How many of `listingIds` are in `listings` (not deleted). */
export async function presentListings(stack: ChaosStack, orgId: string, listingIds: string[]): Promise<Set<string>> {
  if (listingIds.length === 0) return new Set();
  const rows: { id: string }[] = await stack.db('listings').select('id').where({ org_id: orgId }).whereIn('id', listingIds).whereNull('deleted_at');
  return new Set(rows.map((row) => row.id));
}

export async function withTemporal<T>(stack: ChaosStack, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS, connectTimeout: 5000 });
  try {
    return await work(new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE ?? 'default' }));
  } finally {
    await connection.close();
  }
}

/** workflow id → the statuses of its runs, from Temporal's visibility, for one organisation's workflows of `type`. */
export async function workflowRuns(stack: ChaosStack, orgId: string, type: string): Promise<Map<string, string[]>> {
  // After a Temporal restart the dev server's visibility can answer NamespaceNotFound for a while
  // although workflows run: the count is retried, and still fails the scenario if it never answers.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await listRuns(stack, orgId, type);
    } catch (error) {
      if (attempt >= 15 || !/Namespace not found/.test((error as Error).message)) throw error;
      await sleep(2000);
    }
  }
}

async function listRuns(stack: ChaosStack, orgId: string, type: string): Promise<Map<string, string[]>> {
  return withTemporal(stack, async (client) => {
    const runs = new Map<string, string[]>();
    for await (const execution of client.workflow.list({ query: `OrgId = '${orgId}' AND WorkflowType = '${type}'` })) {
      runs.set(execution.workflowId, [...(runs.get(execution.workflowId) ?? []), execution.status.name]);
    }
    return runs;
  });
}

/**
 * Waits until every listing of `listingIds` has its `listing.published`, then a little longer so
 * that a late duplicate would be counted too. Returns the seconds until caught up (null: never).
 */
export async function waitForPublished(stack: ChaosStack, orgId: string, listingIds: string[], timeoutMs: number, from = Date.now()): Promise<number | null> {
  const caughtUp = await waitUntil(async () => {
    const counts = await eventCounts(stack, orgId, 'listing.published', listingIds);
    return [...counts.values()].every((n) => n > 0);
  }, timeoutMs, 1000);
  const seconds = caughtUp ? Math.round((Date.now() - from) / 100) / 10 : null;
  // Retries of an activity that already emitted (the duplicates this suite hunts) land within seconds.
  await sleep(3000);
  return seconds;
}

export const round1 = (value: number) => Math.round(value * 10) / 10;

export function percentileOf(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Splits a listing → count map into exactly one / none / more than one. */
export function onceNoneMore(counts: Map<string, number>): { once: number; none: string[]; more: string[] } {
  const none: string[] = [];
  const more: string[] = [];
  let once = 0;
  for (const [id, n] of counts) {
    if (n === 0) none.push(id);
    else if (n > 1) more.push(id);
    else once += 1;
  }
  return { once, none, more };
}

/** A list of ids in a violation sentence, shortened. */
export const sample = (ids: string[], max = 5) => `${ids.slice(0, max).join(', ')}${ids.length > max ? ` … (${ids.length} in all)` : ''}`;

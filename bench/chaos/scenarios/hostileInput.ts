import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { loadConfig } from '../../../src/config';
import { createPartnerService } from '../../../src/partners/service';
import { createTargetService } from '../../../src/targets/service';
import { generateWebhookSecret } from '../../../src/webhooks/secretCrypto';
import { LoopbackServer, startLoopbackServer } from '../hostile/loopbackServer';
import { MUTATIONS, Mutation, POLLUTION_MARKER, RawRequest, badIdArbitrary, mutationArbitrary } from '../hostile/mutations';
import { OpenApiDocument, WriteOperation, fillPath, writeOperations } from '../hostile/operations';
import { arbitraryFromSchema } from '../hostile/schemaArbitrary';
import { ChaosStack, Scenario, ScenarioResult, scaled } from '../scenario';

/** Default seed; CHAOS_HOSTILE_SEED replays another run's requests. */
export const DEFAULT_HOSTILE_SEED = 17_0007;
const REQUEST_TIMEOUT_MS = 10_000;
const CONCURRENCY = 8;
/** Below RATE_LIMIT_PER_HOUR (1000 by default): each organisation's key carries this many requests. */
const REQUESTS_PER_ORG = 700;
/** A public address literal: passes the SSRF check without DNS and is never contacted by the fuzz. */
const PUBLIC_URL = 'https://93.184.215.14';

export interface HostileOptions {
  seed?: number;
  /** Observed on each request, e.g. the jest test checks the prototypes of its in-process API. */
  afterEach?: () => string | undefined;
}

interface Lane {
  key: string;
  ids: Record<string, string>;
}

interface Shared {
  targetId: string;
  targetWebhookSecret: string;
  crmClientId: string;
  crmClientSecret: string;
  crmToken: string | undefined;
}

interface Outcome {
  status: number | 'hang' | 'error';
  text: string;
  ms: number;
}

const envelopeOk = (text: string): boolean => {
  try {
    const error = JSON.parse(text)?.error;
    return typeof error?.code === 'string' && error.code.length > 0 && typeof error.message === 'string' && typeof error.request_id === 'string';
  } catch {
    return false;
  }
};

function send(baseUrl: string, method: string, path: string, raw: RawRequest, agent: http.Agent): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const url = new URL(path, baseUrl);
    const headers: Record<string, string | number> = { ...raw.headers };
    if (raw.body) headers['content-length'] = raw.body.length;
    let settled = false;
    const done = (outcome: Omit<Outcome, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, ms: Date.now() - started });
    };
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error) => done({ status: 'error', text: error.message }));
    });
    request.setTimeout(REQUEST_TIMEOUT_MS, () => {
      done({ status: 'hang', text: `no answer within ${REQUEST_TIMEOUT_MS} ms` });
      request.destroy();
    });
    request.on('error', (error) => done({ status: 'error', text: error.message }));
    request.end(raw.body);
  });
}

async function api(stack: ChaosStack, method: string, path: string, key: string | undefined, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(new URL(path, stack.apiUrl), {
    method,
    headers: { ...(key ? { 'X-API-Key': key } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function expectCreated(stack: ChaosStack, method: string, path: string, key: string, body: unknown): Promise<any> {
  const response = await api(stack, method, path, key, body);
  if (response.status >= 300) throw new Error(`setup ${method} ${path} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** One organisation with resources of its own, so path parameters name things the handlers find. */
async function newLane(stack: ChaosStack, shared: Shared, index: number): Promise<Lane> {
  const org = await stack.seedOrganization();
  const key = org.secretKey;
  const listing = async (suffix: string) =>
    (await expectCreated(stack, 'POST', '/api/v1/listings', key, { external_ref: `chaos-hostile-${index}-${suffix}`, title: 'Hostile input target', city: 'Berlin' })).data.id as string;
  const [listingId, victimListingId] = [await listing('main'), await listing('victim')];
  const image = async () =>
    (await expectCreated(stack, 'POST', `/api/v1/listings/${listingId}/images`, key, { filename: 'a.jpg', content_type: 'image/jpeg', size: 1000 })).data.image_id as string;
  const [imageId, victimImageId] = [await image(), await image()];
  const webhook = async () => (await expectCreated(stack, 'POST', '/api/v1/webhooks', key, { url: `${PUBLIC_URL}/hooks`, events: ['listing.*'] })).data.id as string;
  const [webhookId, victimWebhookId] = [await webhook(), await webhook()];
  const test = await api(stack, 'POST', `/api/v1/webhooks/${webhookId}/test`, key);
  return {
    key,
    ids: {
      listingId,
      victimListingId,
      imageId,
      victimImageId,
      webhookId,
      victimWebhookId,
      deliveryId: test.body?.delivery_id ?? randomUUID(),
      targetId: shared.targetId,
      connectionId: randomUUID(),
      requestId: randomUUID(),
    },
  };
}

/**
 * The partner and the target have no HTTP route of their own (operators create them with the CLI),
 * so they are created as the CLI does, through the product's services on the stack's database.
 */
async function sharedResources(stack: ChaosStack, portal: LoopbackServer | undefined): Promise<Shared> {
  const config = loadConfig({ ...process.env, ...stack.env });
  const { partner, clientSecret } = await createPartnerService(stack.db, config).create({ name: 'Hostile CRM', webhookUrl: `${PUBLIC_URL}/crm-hook`, developerEmail: 'dev@crm.example' });
  const targetWebhookSecret = generateWebhookSecret();
  const { target } = await createTargetService(stack.db, config).create({
    name: `Hostile portal ${randomUUID().slice(0, 6)}`,
    baseUrl: `${portal?.url ?? PUBLIC_URL}/portal`,
    clientId: 'immoflow',
    clientSecret: 'portal-secret',
    webhookSecret: targetWebhookSecret,
  });
  const oauth = await fetch(new URL('/crm/oauth', stack.apiUrl), {
    method: 'POST',
    headers: { 'x-crm-client-id': partner.client_id, 'x-crm-client-secret': clientSecret, 'X-Forwarded-For': '198.51.100.7' },
  });
  const token = ((await oauth.json()) as Record<string, string>)['x-crm-token'];
  return { targetId: target.id, targetWebhookSecret, crmClientId: partner.client_id, crmClientSecret: clientSecret, crmToken: token };
}

/** Which of the lane's ids a path parameter takes: DELETEs get victims so the other routes keep finding theirs. */
function pathValues(op: WriteOperation, lane: Lane): Record<string, string> {
  const { ids } = lane;
  const deleting = op.method === 'DELETE';
  const values: Record<string, string> = {};
  for (const name of op.pathParams) {
    if (op.path.startsWith('/api/v1/listings/')) values[name] = name === 'image_id' ? ids.imageId : deleting && op.path === '/api/v1/listings/{id}' ? ids.victimListingId : ids.listingId;
    else if (op.path.startsWith('/api/v1/webhooks/')) values[name] = name === 'delivery_id' ? ids.deliveryId : deleting ? ids.victimWebhookId : ids.webhookId;
    else if (op.path.startsWith('/api/v1/targets/') || name === 'targetId') values[name] = ids.targetId;
    else if (op.path.startsWith('/api/v1/partners/')) values[name] = ids.connectionId;
    else if (op.path.startsWith('/api/v1/requests/')) values[name] = ids.requestId;
    else values[name] = randomUUID();
  }
  return values;
}

function queryOf(op: WriteOperation, lane: Lane): string {
  const pairs = op.queryParams.map((param): [string, string] => {
    if (param.name === 'image_id') return [param.name, lane.ids.victimImageId];
    if (param.name === 'recipient') return [param.name, 'chaos@in.immoflow.example'];
    return [param.name, 'x'];
  });
  return pairs.length ? `?${new URLSearchParams(pairs).toString()}` : '';
}

/** The request a route needs beyond its body: credential, idempotency key, signature, client address. */
function credentialHeaders(op: WriteOperation, lane: Lane, shared: Shared, raw: RawRequest, variant: number): Record<string, string> {
  // Per-address failure counters (auth, /crm/oauth) would otherwise answer 429 before any handler.
  const headers: Record<string, string> = { 'x-forwarded-for': `198.18.${(variant >> 8) & 255}.${variant & 255}` };
  if (op.credential === 'api_key') headers['x-api-key'] = lane.key;
  if (op.credential === 'crm_token' && shared.crmToken) headers.authorization = `Bearer ${shared.crmToken}`;
  if (op.credential === 'crm_client') {
    headers['x-crm-client-id'] = variant % 3 === 0 ? 'crm_ÿ' + 'x'.repeat(variant % 500) : shared.crmClientId;
    headers['x-crm-client-secret'] = variant % 2 === 0 ? shared.crmClientSecret : `crmsec_${'\u00e9'.repeat(variant % 50)}`;
  }
  if (op.credential === 'signature' && variant % 4 !== 0) {
    // Signed, so the handler behind the signature check parses the hostile body too.
    headers['x-webhook-signature'] = `sha256=${createHmac('sha256', shared.targetWebhookSecret).update(raw.body ?? Buffer.alloc(0)).digest('hex')}`;
  }
  if (op.headerParams.some((param) => param.name === 'Idempotency-Key')) {
    headers['idempotency-key'] = [randomUUID(), 'not-a-uuid', 'ÿ'.repeat(300), randomUUID()][variant % 4];
  }
  return headers;
}

function validBody(op: WriteOperation, doc: OpenApiDocument): fc.Arbitrary<unknown> {
  if (!op.bodySchema || op.contentType !== 'application/json') return fc.constant(op.bodyExample);
  // The document's example is a request the route accepts; the schema's arbitrary explores around it.
  return fc.oneof(fc.constant(op.bodyExample ?? {}), arbitraryFromSchema(op.bodySchema, doc));
}

interface Planned {
  op: WriteOperation;
  mutation: Mutation;
  raw: RawRequest;
  badId?: string;
  variant: number;
}

/** The whole run's requests, drawn from the seed alone (lanes only add credentials and ids). */
export function planRequests(doc: OpenApiDocument, total: number, seed: number, hugeBodyBytes: number): Planned[] {
  const operations = writeOperations(doc);
  const groups = operations.flatMap((op) => MUTATIONS.map((mutation) => ({ op, mutation })));
  const perGroup = Math.max(1, Math.ceil(total / groups.length));
  const planned: Planned[] = [];
  groups.forEach(({ op, mutation }, groupIndex) => {
    let arbitrary: fc.Arbitrary<RawRequest> = validBody(op, doc).chain((valid) => mutationArbitrary(mutation, valid, hugeBodyBytes));
    if (op.contentType && op.contentType !== 'application/json' && mutation === 'valid') {
      arbitrary = fc.constant({ headers: { 'content-type': op.contentType }, body: Buffer.from(String(op.bodyExample ?? '')) });
    } else if (!op.bodySchema && mutation === 'valid') {
      arbitrary = fc.constant({ headers: {} });
    }
    const samples = fc.sample(fc.tuple(arbitrary, badIdArbitrary, fc.nat()), { seed: seed + groupIndex, numRuns: perGroup });
    for (const [raw, badId, variant] of samples) planned.push({ op, mutation, raw, badId: mutation === 'bad_path_param' ? badId : undefined, variant });
  });
  // Interleave routes so a victim's deletion and the requests after it mix, as real traffic would.
  return fc.sample(fc.shuffledSubarray(planned, { minLength: planned.length, maxLength: planned.length }), { seed, numRuns: 1 })[0].slice(0, Math.max(total, 1));
}

function bytesOf(limit: string | undefined): number {
  const match = /^(\d+)\s*(kb|mb|b)?$/i.exec(limit ?? '1mb');
  if (!match) return 1024 * 1024;
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

export async function runHostileInput(stack: ChaosStack, scale: number, options: HostileOptions = {}): Promise<ScenarioResult> {
  const seed = options.seed ?? (process.env.CHAOS_HOSTILE_SEED ? Number(process.env.CHAOS_HOSTILE_SEED) : DEFAULT_HOSTILE_SEED);
  const total = scaled(5000, scale, 50);
  const doc = (await (await fetch(new URL('/openapi.json', stack.apiUrl))).json()) as OpenApiDocument;
  const plan = planRequests(doc, total, seed, bytesOf(stack.env.HTTP_BODY_LIMIT));
  // Without an allow-listed loopback port the target's portal is unreachable, and connect answers 502 by design.
  const portal = await startLoopbackServer(stack.env.WEBHOOK_ALLOW_TARGETS);
  const shared = await sharedResources(stack, portal);
  const lanes: Lane[] = [];
  for (let index = 0; index < Math.ceil(plan.length / REQUESTS_PER_ORG); index += 1) lanes.push(await newLane(stack, shared, index));

  const byStatus: Record<string, number> = {};
  const byMutation: Record<string, Record<string, number>> = {};
  const byRoute: Record<string, Record<string, number>> = {};
  const failures: { index: number; route: string; mutation: string; status: Outcome['status']; detail: string }[] = [];
  const violations = new Set<string>();
  let fiveXx = 0;
  let hangs = 0;
  let transportErrors = 0;
  let badEnvelopes = 0;
  let pollutionSeen = 0;
  let portalUnreachable = 0;
  let slowestMs = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  let next = 0;
  async function worker(): Promise<void> {
    while (next < plan.length) {
      const index = next++;
      const item = plan[index];
      const lane = lanes[Math.floor(index / REQUESTS_PER_ORG)];
      const values = pathValues(item.op, lane);
      const raw = new Set<string>();
      if (item.badId && item.op.pathParams.length) {
        const name = item.op.pathParams[item.variant % item.op.pathParams.length];
        values[name] = item.badId;
        raw.add(name);
      }
      const path = fillPath(item.op.path, values, raw) + queryOf(item.op, lane);
      const request: RawRequest = { ...item.raw, headers: { ...credentialHeaders(item.op, lane, shared, item.raw, item.variant + index), ...item.raw.headers } };
      const outcome = await send(stack.apiUrl, item.op.method, path, request, agent);
      slowestMs = Math.max(slowestMs, outcome.ms);
      const status = String(outcome.status);
      const route = `${item.op.method} ${item.op.path}`;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      (byMutation[item.mutation] ??= {})[status] = (byMutation[item.mutation][status] ?? 0) + 1;
      (byRoute[route] ??= {})[status] = (byRoute[route][status] ?? 0) + 1;
      const fail = (why: string) => {
        if (failures.length < 50) failures.push({ index, route, mutation: item.mutation, status: outcome.status, detail: outcome.text.slice(0, 300) });
        violations.add(why);
      };
      if (outcome.status === 'hang') {
        hangs += 1;
        fail(`${route} (${item.mutation}) did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
      } else if (outcome.status === 'error') {
        // A connection reset instead of an answer is a hang's cousin: the client learns nothing.
        transportErrors += 1;
        fail(`${route} (${item.mutation}) broke the connection instead of answering: ${outcome.text}`);
      } else if (outcome.status === 502 && !portal && item.op.path.startsWith('/api/v1/targets/') && /TARGET_UNAVAILABLE/.test(outcome.text)) {
        portalUnreachable += 1;
      } else if (outcome.status >= 500) {
        fiveXx += 1;
        fail(`${route} (${item.mutation}) answered ${outcome.status}`);
      } else if (outcome.status >= 400 && !envelopeOk(outcome.text)) {
        badEnvelopes += 1;
        fail(`${route} (${item.mutation}) answered ${outcome.status} without the error envelope and its code`);
      }
      if (outcome.text.includes(POLLUTION_MARKER)) {
        pollutionSeen += 1;
        fail(`a response to ${route} (${item.mutation}) shows ${POLLUTION_MARKER}, which was only ever sent under __proto__/constructor: a prototype took it`);
      }
      const observed = options.afterEach?.();
      if (observed) fail(`after ${route} (${item.mutation}): ${observed}`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
  agent.destroy();
  await portal?.close();

  // Out of process, a polluted Object.prototype shows in strict bodies: zod walks keys with for…in.
  const canaryLane = lanes[0];
  const canary = await api(stack, 'PATCH', `/api/v1/listings/${canaryLane.ids.listingId}`, canaryLane.key, { title: 'Canary after hostile input' });
  const readBack = await api(stack, 'GET', `/api/v1/listings/${canaryLane.ids.listingId}`, canaryLane.key);
  if (canary.status !== 200) violations.add(`after the fuzz a valid PATCH of a listing answered ${canary.status}: ${JSON.stringify(canary.body).slice(0, 300)}`);
  if (JSON.stringify(readBack.body ?? {}).includes(POLLUTION_MARKER) || JSON.stringify(canary.body ?? {}).includes(POLLUTION_MARKER)) {
    violations.add(`after the fuzz the API's objects carry ${POLLUTION_MARKER}: a prototype was polluted`);
  }

  const lost = fiveXx + hangs + transportErrors;
  return {
    id: 7,
    name: 'Hostile input',
    sent: plan.length,
    unit: 'requests',
    acknowledged: plan.length - lost,
    lost,
    duplicated: 0,
    recoverySeconds: null,
    details: {
      seed,
      replay: `CHAOS_HOSTILE_SEED=${seed} (the same seed and scale send the same bytes)`,
      routes: Object.keys(byRoute).length,
      organisations: lanes.length,
      fiveXx,
      hangs,
      transportErrors,
      badEnvelopes,
      pollutionSeen,
      portal: portal ? 'loopback portal (allow-listed)' : 'none: no free 127.0.0.1 port in WEBHOOK_ALLOW_TARGETS',
      portalUnreachable,
      slowestMs,
      byStatus,
      byMutation,
      byRoute,
      failures,
    },
    violations: [...violations],
  };
}

export const hostileInput: Scenario = {
  id: 7,
  name: 'Hostile input',
  run: (stack, scale) => runHostileInput(stack, scale),
};

import { apiRequest } from '../http';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../../src/config';
import { upsertListingExample } from '../../../src/openapi/examples';
import { createConsentService } from '../../../src/partners/consent';
import { createPartnerService } from '../../../src/partners/service';
import { createTargetService } from '../../../src/targets/service';
import { LoopbackServer, startLoopbackServer } from '../hostile/loopbackServer';
import type { ChaosStack, Scenario, ScenarioResult } from '../scenario';

/**
 * Scenario 8: every route of the OpenAPI document with an id in its path, called with
 * organisation B's key and organisation A's ids, must answer 404 in the error envelope. The routes
 * come from /openapi.json, so a new route is covered without editing this file; an id type the
 * scenario cannot create is reported and called with an id that does not exist (still 404).
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface IdRoute {
  method: string;
  path: string;
  /** Path parameter → the id type it takes (the static segment before it, e.g. `webhooks`). */
  params: { name: string; idType: string }[];
  /** The operation's JSON request body example, if the document gives one. */
  example?: unknown;
  /** Required query parameters, with the schema's example (an id among them is filled in by name). */
  query: { name: string; example?: unknown }[];
  /** How the route authenticates: `organisation` (an API key), or another scheme named. */
  auth: 'organisation' | 'crm-token' | 'none';
}

/**
 * `{id}` takes the type of the collection before it (`/webhooks/{id}` → `webhooks`); a named one its
 * own name (`{delivery_id}` → `deliveries`, `{targetId}` → `targets`), wherever it stands.
 */
function idTypeOf(name: string, previous: string | undefined): string {
  if (name === 'id') return previous ?? '(root)';
  const base = name.replace(/(_id|Id)$/, '');
  return base.endsWith('y') ? `${base.slice(0, -1)}ies` : `${base}s`;
}

/**
 * Routes with a path parameter, from an OpenAPI 3 document. An operation without `security` takes
 * the document's default (API keys, per organisation); `security: []` is public, a CrmToken
 * operation is per partner.
 */
export function discoverIdRoutes(document: Json): IdRoute[] {
  const routes: IdRoute[] = [];
  const methods = ['get', 'put', 'post', 'patch', 'delete'];
  for (const [path, item] of Object.entries<Json>(document.paths ?? {})) {
    for (const method of methods) {
      const operation = item[method];
      if (!operation) continue;
      const segments = path.split('/').filter(Boolean);
      const params = segments
        .map((segment, index) => ({ segment, index }))
        .filter(({ segment }) => /^\{.+\}$/.test(segment))
        .map(({ segment, index }) => ({ name: segment.slice(1, -1), idType: idTypeOf(segment.slice(1, -1), segments[index - 1]) }));
      if (params.length === 0) continue;
      const security: Json[] | undefined = operation.security ?? document.security;
      const auth: IdRoute['auth'] =
        security === undefined ? 'organisation' : security.length === 0 ? 'none' : security.some((entry) => 'CrmToken' in entry) ? 'crm-token' : 'organisation';
      const content = operation.requestBody?.content?.['application/json'];
      const example = content?.example ?? Object.values<Json>(content?.examples ?? {})[0]?.value ?? content?.schema?.example;
      const query = [...(item.parameters ?? []), ...(operation.parameters ?? [])]
        .filter((parameter: Json) => parameter.in === 'query' && parameter.required)
        .map((parameter: Json) => ({ name: String(parameter.name), example: parameter.example ?? parameter.schema?.example }));
      routes.push({ method: method.toUpperCase(), path, params, example, auth, query });
    }
  }
  return routes;
}

/**
 * A path with its parameters filled in. A required query parameter named like a path parameter of
 * some route (`image_id`) takes that id type's id; any other, the document's example.
 */
export function fillPath(route: Pick<IdRoute, 'path' | 'params' | 'query'>, ids: Record<string, string>, idTypeOfName: Record<string, string> = {}): string {
  let path = route.path;
  for (const param of route.params) path = path.replace(`{${param.name}}`, encodeURIComponent(ids[param.idType]));
  const query = route.query.map(({ name, example }) => {
    const type = idTypeOfName[name];
    const value = type && ids[type] !== undefined ? ids[type] : String(example ?? '');
    return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  });
  return query.length ? `${path}?${query.join('&')}` : path;
}

/** Path parameter name → id type, over every route (`image_id` → `images`). */
export function idTypesByParamName(routes: IdRoute[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const route of routes) for (const param of route.params) if (param.name !== 'id') names[param.name] = param.idType;
  return names;
}

function call(stack: ChaosStack, method: string, path: string, key: string | null, body?: unknown, headers: Record<string, string> = {}) {
  return apiRequest(stack.apiUrl, method, path, { key, headers, ...(typeof body === 'string' ? { rawBody: body } : { body }) });
}

async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return undefined;
}

/**
 * One of each id type in organisation A, through the API where the API creates it. What the API
 * does not create (a partner connection needs an operator's partner and an agency's consent in a
 * browser) is made through the services those steps call. Types not created are left out.
 */
async function createInA(stack: ChaosStack, key: string, orgId: string, notes: Record<string, string>, portal: LoopbackServer | undefined): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const listing = await call(stack, 'POST', '/api/v1/listings', key, {
    ...upsertListingExample,
    energy_certificate: { ...upsertListingExample.energy_certificate },
    external_ref: `XT-${randomUUID().slice(0, 8)}`,
    house_number: String(1 + Math.floor(Math.random() * 1_000_000)),
    status: 'draft',
  });
  if (listing.body?.data?.id) ids.listings = listing.body.data.id;
  else notes.listings = `create answered ${listing.status}`;

  if (ids.listings) {
    const image = await call(stack, 'POST', `/api/v1/listings/${ids.listings}/images`, key, { filename: 'front.jpg', content_type: 'image/jpeg', size: 1000 });
    const imageId = image.body?.data?.image_id ?? image.body?.data?.id ?? image.body?.data?.[0]?.id;
    if (imageId) ids.images = imageId;
    else notes.images = `upload answered ${image.status} ${image.text.slice(0, 200)}`;
  }

  const allowed = (stack.env.WEBHOOK_ALLOW_TARGETS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)[0];
  if (allowed) {
    const webhook = await call(stack, 'POST', '/api/v1/webhooks', key, { url: `http://${allowed}/cross-tenant`, events: ['listing.created'] });
    if (webhook.body?.data?.id) {
      ids.webhooks = webhook.body.data.id;
      const test = await call(stack, 'POST', `/api/v1/webhooks/${ids.webhooks}/test`, key);
      const deliveryId = test.body?.data?.delivery_id ?? test.body?.delivery_id;
      if (deliveryId) ids.deliveries = deliveryId;
      else notes.deliveries = `test send answered ${test.status}`;
    } else notes.webhooks = `create answered ${webhook.status} ${webhook.text.slice(0, 200)}`;
  } else {
    notes.webhooks = notes.deliveries = 'the stack allows no webhook target (WEBHOOK_ALLOW_TARGETS is empty) and this scenario resolves no public name';
  }

  // A contact request, as a portal's mail becomes one: OpenImmo feedback naming A's listing.
  const externalRef = listing.body?.data?.external_ref ?? 'none';
  const mail = [
    'From: "Immonet Anfrageservice" <noreply@immonet.de>',
    'To: anfragen@makler-beispiel.de',
    `Message-ID: <${randomUUID()}@immonet.de>`,
    `Subject: Anfrage zu Ihrer Immobilie ${externalRef}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Guten Tag,',
    '',
    '<openimmo_feedback>',
    '  <version>1.2.7</version>',
    '  <sender><name>Immonet</name><openimmo_anid>IMMONET</openimmo_anid><datum>2026-12-01</datum><makler_id>12345</makler_id></sender>',
    `  <objekt><portal_unique_id>55443322</portal_unique_id><oobj_id>${externalRef}</oobj_id><bezeichnung>Wohnung</bezeichnung>`,
    '    <interessent><anrede>Herr</anrede><vorname>Max</vorname><nachname>Mustermann</nachname><email>max@example.org</email><anfrage>Ist die Wohnung frei?</anfrage></interessent>',
    '  </objekt>',
    '</openimmo_feedback>',
    '',
  ].join('\r\n');
  const posted = await call(stack, 'POST', '/api/v1/inbound/mail', key, mail, { 'Content-Type': 'message/rfc822' });
  const request = await poll(async () => (await call(stack, 'GET', '/api/v1/requests', key)).body?.data?.[0]?.id as string | undefined, 20_000);
  if (request) ids.requests = request;
  else notes.requests = `inbound mail answered ${posted.status}; no request appeared`;

  // A partner connection of A: the operator's partner, the link over /crm, A's owner consents.
  try {
    const config = loadConfig(stack.env);
    const { partner, clientSecret } = await createPartnerService(stack.db, config).create({
      name: `XT ${randomUUID().slice(0, 6)}`,
      webhookUrl: allowed ? `http://${allowed}/cross-tenant-partner` : 'https://partner.invalid/keys',
      developerEmail: 'xt@crm.example',
    });
    const forwarded = { 'X-Forwarded-For': '198.18.20.1' };
    const token = await call(stack, 'POST', '/crm/oauth', null, undefined, { 'x-crm-client-id': partner.client_id, 'x-crm-client-secret': clientSecret, ...forwarded });
    const link = await call(stack, 'POST', '/crm/integrate', null, { agencyId: `xt-${randomUUID().slice(0, 6)}` }, { Authorization: `Bearer ${token.body?.['x-crm-token']}`, ...forwarded });
    const owner = await stack.db('memberships').where({ org_id: orgId }).first('user_id');
    const state = await createConsentService(stack.db, config).confirm(String(link.body?.url).split('/connect/')[1], owner.user_id, orgId);
    const connection = await poll(async () => (await stack.db('partner_connections').where({ org_id: orgId }).first('id'))?.id as string | undefined);
    if (connection) ids.connections = connection;
    else notes.connections = `consent ${JSON.stringify(state)}; no connection appeared`;
  } catch (error) {
    notes.connections = `could not be created: ${(error as Error).message}`;
  }

  // A target connection of A: the operator registers a portal (a third party on loopback), A
  // connects, and the portal delivers A's agency key to the signed partner hook.
  if (portal) {
    try {
      const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
      const { target } = await createTargetService(stack.db, loadConfig(stack.env)).create({
        name: `XT portal ${randomUUID().slice(0, 6)}`,
        baseUrl: `${portal.url}/portal`,
        clientId: 'immoflow',
        clientSecret: `portalsec_${randomBytes(12).toString('hex')}`,
        webhookSecret,
      });
      const connect = await call(stack, 'POST', `/api/v1/targets/${target.id}/connect`, key);
      const delivery = JSON.stringify({ 'x-api-key': `portalkey_${randomBytes(16).toString('hex')}`, agencyId: orgId });
      const hook = await call(stack, 'POST', `/partner-hooks/${target.id}`, null, delivery, {
        'Content-Type': 'application/json',
        'X-Webhook-Signature': `sha256=${createHmac('sha256', webhookSecret).update(delivery).digest('hex')}`,
      });
      const state = (await call(stack, 'GET', `/api/v1/targets/${target.id}`, key)).body?.data?.connection?.state;
      if (state === 'connected') ids.targets = target.id;
      else notes.targets = `connect answered ${connect.status}, the key delivery ${hook.status}; A's connection is ${state}`;
    } catch (error) {
      notes.targets = `could not be created: ${(error as Error).message}`;
    }
  } else {
    notes.targets = 'WEBHOOK_ALLOW_TARGETS names no free 127.0.0.1 port for a portal';
  }
  return ids;
}

/** A target's connection state as `key`'s organisation sees it, in the one and in the list. */
async function connectionStates(stack: ChaosStack, key: string, targetId: string): Promise<{ one: unknown; listed: unknown }> {
  const one = await call(stack, 'GET', `/api/v1/targets/${targetId}`, key);
  const list = await call(stack, 'GET', '/api/v1/targets', key);
  const listed = (list.body?.data ?? []).find((target: Json) => target.id === targetId)?.connection?.state;
  return { one: one.body?.data?.connection?.state, listed };
}

/**
 * Id types that are not an organisation's: targets are the platform's portals, listed to every
 * organisation (docs/TARGETS.md), so B may read and connect them; only B's own connection to one
 * is B's. Such routes are called, and expected to 404 only for the organisation's part.
 */
const SHARED_ID_TYPES = new Set(['targets']);

export const crossTenantScenario: Scenario = {
  id: 8,
  name: 'Cross-tenant matrix',
  async run(stack: ChaosStack): Promise<ScenarioResult> {
    const documentResponse = await fetch(`${stack.apiUrl}/openapi.json`);
    if (!documentResponse.ok) throw new Error(`GET /openapi.json answered ${documentResponse.status}`);
    const routes = discoverIdRoutes(await documentResponse.json());
    const a = await stack.seedOrganization();
    const b = await stack.seedOrganization();
    const notes: Record<string, string> = {};
    const portal = await startLoopbackServer(stack.env.WEBHOOK_ALLOW_TARGETS);
    try {
      return await runMatrix(stack, routes, a, b, await createInA(stack, a.secretKey, a.orgId, notes, portal), notes);
    } finally {
      await portal?.close();
    }
  },
};

async function runMatrix(
  stack: ChaosStack,
  routes: IdRoute[],
  a: { secretKey: string },
  b: { secretKey: string },
  created: Record<string, string>,
  notes: Record<string, string>,
): Promise<ScenarioResult> {
  const idTypes = [...new Set(routes.flatMap((route) => route.params.map((param) => param.idType)))];
  const uncreated: Record<string, string> = {};
  const ids: Record<string, string> = {};
  for (const type of idTypes) {
    if (created[type]) ids[type] = created[type];
    else {
      // A nonexistent id must be a 404 too; kept a UUID so that a shape check cannot answer 400.
      ids[type] = randomUUID();
      uncreated[type] = notes[type] ?? 'no way to create it is known to this scenario';
    }
  }

  const byStatus: Record<string, number> = {};
  const violations: string[] = [];
  const excluded: string[] = [];
  let sent = 0;
  let notFound = 0;
  for (const route of routes) {
    if (route.auth !== 'organisation') {
      excluded.push(`${route.method} ${route.path}: authenticated per ${route.auth === 'none' ? 'request signature (a portal\'s key delivery)' : 'partner'}, not per organisation`);
      continue;
    }
    // A shared type's own route is legitimately B's to read or connect.
    if (route.params.every((param) => SHARED_ID_TYPES.has(param.idType)) && !/\/connection$/.test(route.path)) {
      excluded.push(`${route.method} ${route.path}: ${route.params.map((param) => param.idType).join(', ')} are shared by every organisation`);
      continue;
    }
    const path = fillPath(route, ids, idTypesByParamName(routes));
    const response = await call(stack, route.method, path, b.secretKey, route.method === 'GET' || route.method === 'DELETE' ? undefined : (route.example ?? {}));
    sent += 1;
    byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
    const enveloped = typeof response.body?.error?.code === 'string' && typeof response.body?.error?.message === 'string';
    if (response.status === 404 && enveloped) notFound += 1;
    else violations.push(`${route.method} ${route.path} with organisation A's ids answered organisation B ${response.status}${enveloped ? ` ${response.body.error.code}` : ' outside the error envelope'}: ${response.text.slice(0, 160)}`);
  }
  // Control: A's own key reaches A's resources, so the 404s above are about the organisation.
  const control = ids.listings && created.listings ? await call(stack, 'GET', `/api/v1/listings/${ids.listings}`, a.secretKey) : undefined;
  if (control && control.status !== 200) violations.push(`The control GET /api/v1/listings/{id} with A's own key answered ${control.status}.`);
  // A shared target shows each organisation its own connection: B's view of the target A
  // connected is not A's, and B's DELETE …/connection above left A's in place.
  let targetConnection: Record<string, unknown> | undefined;
  if (created.targets) {
    const seenByB = await connectionStates(stack, b.secretKey, created.targets);
    const seenByA = await connectionStates(stack, a.secretKey, created.targets);
    targetConnection = { seenByA, seenByB };
    if (seenByB.one !== 'not_connected' || seenByB.listed !== 'not_connected') violations.push(`Organisation B sees the target A connected as ${JSON.stringify(seenByB)}, not its own not_connected.`);
    if (seenByA.one !== 'connected' || seenByA.listed !== 'connected') violations.push(`After B's calls, A's own connection reads ${JSON.stringify(seenByA)}, not connected.`);
  }

  return {
    id: 8,
    name: 'Cross-tenant matrix',
    sent,
    unit: 'route × foreign id',
    acknowledged: notFound,
    lost: sent - notFound,
    duplicated: 0,
    recoverySeconds: null,
    details: { routesDiscovered: routes.length, idTypes, created: Object.keys(created), uncreated, byStatus, excluded, ...(targetConnection ? { targetConnection } : {}) },
    violations,
  };
}

export default crossTenantScenario;

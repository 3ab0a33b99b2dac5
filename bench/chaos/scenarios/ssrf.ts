import { apiRequest } from '../http';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../../src/config';
import { createWebAccounts } from '../../../src/identity/webAccounts';
import { upsertListingExample } from '../../../src/openapi/examples';
import { createConsentService } from '../../../src/partners/consent';
import { PartnerError, createPartnerService } from '../../../src/partners/service';
import type { ChaosStack, Scenario, ScenarioResult } from '../scenario';
import { SsrfTarget, chaosDnsFor, rebindingName, ssrfCorpus } from '../ssrfFixtures';

/**
 * Scenario 10: every target of the corpus through the three outbound paths a client can point us
 * at — webhook URLs, partner webhook URLs, attachment URLs — at creation, and, for what creation
 * rightly accepts (a name that resolves public now, an allow-listed redirect server), at the
 * outbound call. A target got through (`lost`) when a write that should refuse it is accepted, when
 * its call is recorded as anything but the guard's refusal, or when the canary saw a connection.
 */

const POLL_MS = 200;
const WAIT_MS = 90_000;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Outcome {
  channel: 'webhook' | 'partner' | 'attachment';
  target: SsrfTarget;
  /** Where the guard refused it; null when it got through. */
  blockedAt: 'creation' | 'delivery' | null;
  detail: string;
}

function call(stack: ChaosStack, method: string, path: string, key: string | null, body?: unknown, headers: Record<string, string> = {}) {
  return apiRequest(stack.apiUrl, method, path, { key, body, headers });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The documented refusal of a write: 400 VALIDATION_ERROR naming the field. */
function isValidationRefusal(response: { status: number; body: Json }, path: string): boolean {
  const fields: { path: string; message: string }[] = response.body?.error?.details?.fields ?? [];
  return response.status === 400 && response.body?.error?.code === 'VALIDATION_ERROR' && fields.some((field) => field.path === path);
}

/** A refusal by the guard's address rules, not a DNS failure that merely looks like one. */
const GUARD_REASON = /blocked address|loopback host name|plain http is only allowed/;

async function webhooks(stack: ChaosStack, key: string, corpus: SsrfTarget[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const accepted: { target: SsrfTarget; id: string }[] = [];
  for (const target of corpus) {
    const created = await call(stack, 'POST', '/api/v1/webhooks', key, { url: target.url, events: ['listing.created'] });
    if (created.status === 201) {
      if (target.stage === 'delivery') accepted.push({ target, id: created.body.data.id });
      else outcomes.push({ channel: 'webhook', target, blockedAt: null, detail: `creation answered 201` });
      continue;
    }
    const refused = isValidationRefusal(created, 'url') && GUARD_REASON.test(created.text);
    outcomes.push({ channel: 'webhook', target, blockedAt: refused ? 'creation' : null, detail: `creation answered ${created.status} ${created.text.slice(0, 200)}` });
  }
  for (const { target, id } of accepted) {
    const test = await call(stack, 'POST', `/api/v1/webhooks/${id}/test`, key);
    if (test.status !== 202) {
      outcomes.push({ channel: 'webhook', target, blockedAt: null, detail: `test send answered ${test.status}` });
      continue;
    }
    const deliveryId: string = test.body.data?.delivery_id ?? test.body.delivery_id;
    const delivery = await waitFor(async () => {
      const response = await call(stack, 'GET', `/api/v1/webhooks/${id}/deliveries/${deliveryId}`, key);
      const data = response.body?.data;
      return data && data.attempts.length > 0 ? data : undefined;
    }, `the first attempt of delivery ${deliveryId}`);
    // Retries would only repeat the verdict; the webhook goes so that nothing keeps calling.
    await call(stack, 'DELETE', `/api/v1/webhooks/${id}`, key);
    const attempt = delivery.attempts[0];
    // The guard refuses a name that now resolves private; a 302 comes back unfollowed, as a failure.
    const blocked =
      delivery.status !== 'succeeded' &&
      (target.class === 'redirect' ? attempt.status_code === 302 : attempt.status_code === null && /SsrfBlockedError/.test(attempt.error ?? '') && GUARD_REASON.test(attempt.error ?? ''));
    outcomes.push({ channel: 'webhook', target, blockedAt: blocked ? 'delivery' : null, detail: `delivery ${delivery.status}, attempt ${attempt.status_code ?? '-'} ${attempt.error ?? ''}`.slice(0, 300) });
  }
  return outcomes;
}

/**
 * Partners are registered by the operator (`immoflow partner create`, which calls this service);
 * the agency's consent is given in a browser, so the scenario gives it through the service the
 * connect page calls. The token and the link go through the partner's HTTP API.
 */
async function partners(stack: ChaosStack, corpus: SsrfTarget[]): Promise<Outcome[]> {
  const config = loadConfig(stack.env);
  const service = createPartnerService(stack.db, config);
  const outcomes: Outcome[] = [];
  const accepted: { target: SsrfTarget; partnerId: string; clientId: string; clientSecret: string }[] = [];
  for (const target of corpus) {
    try {
      const { partner, clientSecret } = await service.create({ name: `SSRF ${target.label} ${randomUUID().slice(0, 6)}`, webhookUrl: target.url, developerEmail: 'ssrf@crm.example' });
      if (target.stage === 'delivery') accepted.push({ target, partnerId: partner.id, clientId: partner.client_id, clientSecret });
      else outcomes.push({ channel: 'partner', target, blockedAt: null, detail: 'partner create accepted it' });
    } catch (error) {
      const refused = error instanceof PartnerError && error.reason === 'invalid_webhook_url' && GUARD_REASON.test(error.message);
      outcomes.push({ channel: 'partner', target, blockedAt: refused ? 'creation' : null, detail: (error as Error).message.slice(0, 200) });
    }
  }
  if (accepted.length === 0) return outcomes;
  const agency = await createWebAccounts(stack.db, { sessionTtlMs: 60_000 }).register({
    organizationName: 'Makler SSRF',
    email: `ssrf-${randomUUID().slice(0, 8)}@agency.example`,
    password: 'ssrf chaos password',
    flags: [],
  });
  const consent = createConsentService(stack.db, config);
  for (const [index, partner] of accepted.entries()) {
    const forwarded = { 'X-Forwarded-For': `198.18.10.${index + 1}` };
    const token = await call(stack, 'POST', '/crm/oauth', null, undefined, { 'x-crm-client-id': partner.clientId, 'x-crm-client-secret': partner.clientSecret, ...forwarded });
    const link = await call(stack, 'POST', '/crm/integrate', null, { agencyId: `ssrf-${partner.target.label}` }, { Authorization: `Bearer ${token.body?.['x-crm-token']}`, ...forwarded });
    if (token.status !== 200 || link.status !== 201) throw new Error(`partner onboarding for ${partner.target.label}: oauth ${token.status}, integrate ${link.status} ${link.text}`);
    const linkToken = String(link.body.url).split('/connect/')[1];
    await consent.confirm(linkToken, agency.userId, agency.orgId);
  }
  for (const partner of accepted) {
    const connection = await waitFor(async () => {
      const row = await stack.db('partner_connections').where({ partner_id: partner.partnerId }).first();
      return row && row.delivery_attempts > 0 ? row : undefined;
    }, `the first key delivery to ${partner.target.label}`);
    await service.disable(partner.partnerId);
    const error: string = connection.last_error ?? '';
    const blocked =
      connection.status !== 'delivered' &&
      (partner.target.class === 'redirect' ? connection.last_status_code === 302 : connection.last_status_code === null && /SsrfBlockedError/.test(error) && GUARD_REASON.test(error));
    outcomes.push({ channel: 'partner', target: partner.target, blockedAt: blocked ? 'delivery' : null, detail: `connection ${connection.status}: ${error}`.slice(0, 300) });
  }
  return outcomes;
}

function listingBody(attachments: { url: string; kind: string }[]) {
  return {
    ...upsertListingExample,
    energy_certificate: { ...upsertListingExample.energy_certificate },
    external_ref: `SSRF-${randomUUID().slice(0, 8)}`,
    house_number: String(1 + Math.floor(Math.random() * 1_000_000)),
    status: 'draft',
    attachments,
  };
}

async function attachments(stack: ChaosStack, key: string, corpus: SsrfTarget[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const accepted: SsrfTarget[] = [];
  for (const target of corpus) {
    const created = await call(stack, 'POST', '/api/v1/listings', key, listingBody([{ url: target.url, kind: 'document' }]));
    if (created.status === 201 || created.status === 200) {
      // Accepted names and redirects are fetched below, with the others, in one listing; this one goes.
      await call(stack, 'DELETE', `/api/v1/listings/${created.body.data.id}`, key);
      if (target.stage === 'creation') outcomes.push({ channel: 'attachment', target, blockedAt: null, detail: `write answered ${created.status}` });
      else accepted.push(target);
      continue;
    }
    const refused = isValidationRefusal(created, 'attachments.0.url') && GUARD_REASON.test(created.text);
    outcomes.push({ channel: 'attachment', target, blockedAt: refused ? 'creation' : null, detail: `write answered ${created.status} ${created.text.slice(0, 200)}` });
  }
  if (accepted.length === 0) return outcomes;
  // The first write's fetches may already have asked for a rebinding name; fresh ones for this listing.
  const fresh = accepted.map((target) => (target.class === 'rebinding' ? { ...target, url: target.url.replace(/\/\/[^:/]+/, `//${rebindingName()}`) } : target));
  const created = await call(stack, 'POST', '/api/v1/listings', key, listingBody(fresh.map((target) => ({ url: target.url, kind: 'document' }))));
  if (created.status !== 201 && created.status !== 200) throw new Error(`listing with ${fresh.length} accepted attachment URLs: ${created.status} ${created.text}`);
  const listingId: string = created.body.data.id;
  const settled: Json[] = await waitFor(async () => {
    const list = await call(stack, 'GET', `/api/v1/listings/${listingId}/attachments`, key);
    const rows: Json[] = list.body?.data ?? [];
    return rows.length === fresh.length && rows.every((row) => row.state === 'ready' || row.state === 'failed') ? rows : undefined;
  }, `the attachments of listing ${listingId}`);
  fresh.forEach((target, index) => {
    const row = settled[index];
    const blocked = row.state === 'failed' && row.failure_code === target.attachmentFailure;
    outcomes.push({ channel: 'attachment', target, blockedAt: blocked ? 'delivery' : null, detail: `${row.state} ${row.failure_code ?? ''}: ${row.failure_message ?? ''}`.slice(0, 300) });
  });
  return outcomes;
}

export const ssrfScenario: Scenario = {
  id: 10,
  name: 'SSRF',
  // The corpus and the route list are the full counts at every scale: there is nothing to scale down.
  async run(stack: ChaosStack): Promise<ScenarioResult> {
    const fixture = chaosDnsFor(stack.env.SSRF_DNS_SERVERS);
    if (!fixture) throw new Error('scenario 10 needs a startChaosDns() fixture of this process as the stack\'s SSRF_DNS_SERVERS (and its env merged into the stack\'s)');
    for (const name of ['WEBHOOK_ALLOW_TARGETS', 'ATTACHMENT_ALLOW_TARGETS']) {
      if (!(stack.env[name] ?? '').split(',').map((entry) => entry.trim()).includes(fixture.redirect.hostPort)) {
        throw new Error(`scenario 10 needs the redirect server ${fixture.redirect.hostPort} on ${name}`);
      }
    }
    const corpus = () => ssrfCorpus({ canaryPort: fixture.canary.port, redirectTo: (location) => fixture.redirect.urlTo(location), rebindingName });
    const org = await stack.seedOrganization();
    const violations: string[] = [];

    // Control: a public name of the zone passes creation, so the refusals below are the guard's
    // judgement of an answer and not a resolver that answers nothing.
    const control = await call(stack, 'POST', '/api/v1/webhooks', org.secretKey, { url: `https://${fixture.names.canary}/hook`, events: ['listing.created'] });
    if (control.status !== 201) violations.push(`The control URL https://${fixture.names.canary}/hook was refused (${control.status} ${control.text.slice(0, 200)}): the stack does not resolve through SSRF_DNS_SERVERS.`);
    else await call(stack, 'DELETE', `/api/v1/webhooks/${control.body.data.id}`, org.secretKey);

    const outcomes = [
      ...(await webhooks(stack, org.secretKey, corpus())),
      ...(await partners(stack, corpus())),
      ...(await attachments(stack, org.secretKey, corpus())),
    ];
    for (const outcome of outcomes.filter((candidate) => candidate.blockedAt === null)) {
      violations.push(`${outcome.channel} ${outcome.target.label} (${outcome.target.url}) got through: ${outcome.detail}`);
    }
    if (fixture.canary.connections > 0) violations.push(`The canary on 127.0.0.1:${fixture.canary.port} accepted ${fixture.canary.connections} connections (${fixture.canary.requests.slice(0, 5).join(', ')}).`);

    const count = (filter: (outcome: Outcome) => boolean) => outcomes.filter(filter).length;
    const byClass: Record<string, number> = {};
    for (const outcome of outcomes) byClass[outcome.target.class] = (byClass[outcome.target.class] ?? 0) + 1;
    const rebinding = [...fixture.queries.entries()].filter(([name]) => name.includes(fixture.names.rebindSuffix));
    return {
      id: 10,
      name: 'SSRF',
      sent: outcomes.length,
      unit: 'target × channel',
      acknowledged: count((outcome) => outcome.blockedAt !== null),
      lost: count((outcome) => outcome.blockedAt === null) + (fixture.canary.connections > 0 && count((outcome) => outcome.blockedAt === null) === 0 ? 1 : 0),
      duplicated: 0,
      recoverySeconds: null,
      details: {
        corpusSize: corpus().length,
        channels: ['webhook', 'partner', 'attachment'],
        blockedAtCreation: count((outcome) => outcome.blockedAt === 'creation'),
        blockedAtDelivery: count((outcome) => outcome.blockedAt === 'delivery'),
        byChannelAndStage: Object.fromEntries(
          ['webhook', 'partner', 'attachment'].map((channel) => [
            channel,
            { creation: count((o) => o.channel === channel && o.blockedAt === 'creation'), delivery: count((o) => o.channel === channel && o.blockedAt === 'delivery'), through: count((o) => o.channel === channel && o.blockedAt === null) },
          ]),
        ),
        byClass,
        canaryConnections: fixture.canary.connections,
        redirectServerHits: fixture.redirect.hits,
        rebindingNamesAsked: new Set(rebinding.map(([name]) => name.split(' ')[0])).size,
        rebindingQueriesAnsweredPrivate: rebinding.reduce((sum, [, queries]) => sum + Math.max(0, queries - 1), 0),
      },
      violations,
    };
  },
};

export default ssrfScenario;

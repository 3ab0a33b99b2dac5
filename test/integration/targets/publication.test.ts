import { randomUUID } from 'node:crypto';
import { createConsentService } from '../../../src/partners/consent';
import { createPartnerService } from '../../../src/partners/service';
import { createTargetService } from '../../../src/targets/service';
import { registerSchedule, tokenRefreshScheduleOptions } from '../../../src/temporal/schedules';
import { signedHeaders } from '../../../src/webhooks/signing';
import { eventually, freePort, seedOrganization } from '../../support/context';
import { FakeFileServer, serve, startFakeFileServer } from '../../support/fileServer';
import { makeJpeg, putUpload } from '../../support/images';
import { completeListing, eventsOf } from '../../support/listings';
import { oauth, seedPartner } from '../../support/partners';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * Publication targets hub to hub, with no fake: one deployment is both the portal (organisation P,
 * which registered the hub as its CRM partner through partner onboarding) and the hub
 * (organisation H, connected to P as a target). H's listings reach P through the publication
 * workflow, reference 001 for the key and reference 000 for the pushes.
 */
jest.setTimeout(240_000);

const OAUTH_LIMIT = 4;
let stack: TestStack;
let files: FakeFileServer;
let ipCounter = 0;

beforeAll(async () => {
  files = await startFakeFileServer();
  const port = await freePort();
  const storage = new URL(process.env.S3_PUBLIC_ENDPOINT ?? (process.env.S3_ENDPOINT as string)).host;
  stack = await startTestStack(
    {
      // The hub calls the portal (this same API) and uploads to the portal's storage on loopback.
      WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${port},${storage}`,
      PUBLIC_BASE_URL: 'https://immoflow.test',
      RATE_LIMIT_PER_HOUR: '100000',
      CRM_OAUTH_RATE_LIMIT_PER_HOUR: String(OAUTH_LIMIT),
      PARTNER_KEY_RETRY_SCHEDULE: '0s,300ms,300ms,300ms',
      PUBLICATION_RETRY_SCHEDULE: '300ms,500ms,1s',
      TARGET_DRIFT_SWEEP_INTERVAL: '0s',
      // Other test files register targets on unroutable addresses; the token sweep meets them too.
      TARGET_TIMEOUT: '3s',
      ATTACHMENT_ALLOW_TARGETS: files.hostPort,
    },
    { apiPort: port },
  );
});

afterAll(async () => {
  await stack?.close();
  await files?.close();
});

const api = () => stack.api;
const deps = () => stack.ctx.deps;
const db = () => stack.ctx.deps.db;

interface Hub {
  hub: Awaited<ReturnType<typeof seedOrganization>>;
  portal: Awaited<ReturnType<typeof seedOrganization>>;
  partnerId: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  targetId: string;
}

/** Operator on the portal side registers the hub as a partner; operator on the hub registers the portal as a target. */
async function registerTarget(): Promise<Omit<Hub, 'hub' | 'portal'>> {
  const partner = await seedPartner(deps(), `${api().baseUrl}/partner-hooks/${randomUUID()}`, `Immoflow hub ${randomUUID().slice(0, 6)}`);
  const { target, partnerHookUrl } = await createTargetService(db(), deps().config).create({
    name: `Portal ${randomUUID().slice(0, 6)}`,
    baseUrl: api().baseUrl,
    clientId: partner.clientId,
    clientSecret: partner.clientSecret,
    webhookSecret: partner.webhookSecret,
  });
  expect(partnerHookUrl).toBe(`https://immoflow.test/partner-hooks/${target.id}`);
  // The portal's operator sets the hook URL the hub's operator gave them (here on loopback).
  await createPartnerService(db(), deps().config).updateWebhookUrl(partner.partner.id, `${api().baseUrl}/partner-hooks/${target.id}`);
  return { partnerId: partner.partner.id, clientId: partner.clientId, clientSecret: partner.clientSecret, webhookSecret: partner.webhookSecret, targetId: target.id };
}

/** H connects the target, and P's owner confirms on the portal's connect page. */
async function connectedHub(existingHub?: Awaited<ReturnType<typeof seedOrganization>>, options: { beforeConsent?: (targetId: string) => Promise<void> } = {}): Promise<Hub> {
  const registered = await registerTarget();
  const portal = await seedOrganization(deps(), { plan: 'enterprise' });
  const hub = existingHub ?? (await seedOrganization(deps()));
  const link = await api().request('POST', `/api/v1/targets/${registered.targetId}/connect`, { key: hub.secretKey });
  expect(link.status).toBe(201);
  expect(link.body.data).toMatchObject({ target_id: registered.targetId, state: 'pending', url: expect.stringMatching(/^https:\/\/immoflow\.test\/connect\//) });
  await options.beforeConsent?.(registered.targetId);
  const consent = await createConsentService(db(), deps().config).confirm(link.body.data.url.split('/connect/')[1], portal.ownerUserId, portal.organization.id);
  expect(consent.state).toBe('usable');
  await eventually(async () => (await targetOf(hub.secretKey, registered.targetId)).connection.state === 'connected', 30_000, 100);
  return { ...registered, hub, portal };
}

async function targetOf(key: string, targetId: string) {
  const response = await api().request('GET', `/api/v1/targets/${targetId}`, { key });
  expect(response.status).toBe(200);
  return response.body.data;
}

/** What P holds under an external_ref, through P's own API. */
async function onPortal(portalKey: string, externalRef: string) {
  const response = await api().request('GET', `/api/v1/listings?external_ref=${encodeURIComponent(externalRef)}`, { key: portalKey });
  expect(response.status).toBe(200);
  return response.body.data as any[];
}

function publicationEvents(events: { eventName: string; eventPayload: any }[]) {
  return events.filter((event) => event.eventName.startsWith('publication.'));
}

async function oauthCalls(partnerId: string): Promise<number> {
  const rows = await db()('rate_limit_counters').where({ bucket: `crm-oauth:${partnerId}` }).select('count');
  return rows.reduce((sum, row) => sum + Number(row.count), 0);
}

it('connects through the portal\'s partner onboarding and announces target.connected', async () => {
  const { hub, portal, targetId } = await connectedHub();
  const listed = await api().request('GET', '/api/v1/targets', { key: hub.secretKey });
  expect(listed.body.data.find((target: { id: string }) => target.id === targetId)).toMatchObject({ connection: { state: 'connected', connected_at: expect.any(String) } });
  // Another organisation sees the target, not H's connection.
  expect((await targetOf(portal.secretKey, targetId)).connection.state).toBe('not_connected');
  const events = await api().request('GET', '/api/v1/events?limit=100', { key: hub.secretKey });
  expect(events.body.data.filter((event: { eventName: string }) => event.eventName === 'target.connected')).toEqual([
    expect.objectContaining({ eventPayload: expect.objectContaining({ targetId }) }),
  ]);
  // The agency key is stored encrypted, never as plaintext.
  const row = await db()('target_connections').where({ target_id: targetId, org_id: hub.organization.id }).first();
  expect(row.api_key_ciphertext).toMatch(/^v1:/);
  expect(JSON.stringify(row)).not.toMatch(/sk_(live|test)_/);
});

it('publishes an active listing with its image, follows a change, and takes it down when archived', async () => {
  const { hub, portal, targetId } = await connectedHub();
  const body = completeListing({ status: 'active' });
  const created = await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body });
  expect(created.status).toBe(201);
  const id = created.body.data.id;
  const jpeg = await makeJpeg(640, 480);
  const ticket = await api().request('POST', `/api/v1/listings/${id}/images`, { key: hub.secretKey, body: { filename: 'front.jpg', content_type: 'image/jpeg', size: jpeg.length } });
  expect(ticket.status).toBe(201);
  expect((await putUpload(ticket.body.data.upload_url, jpeg, 'image/jpeg')).status).toBe(200);
  await api().request('POST', `/api/v1/listings/${id}/images/${ticket.body.data.image_id}/complete`, { key: hub.secretKey, body: { upload_token: ticket.body.data.upload_token } });

  const remote = await eventually(async () => {
    const [copy] = await onPortal(portal.secretKey, body.external_ref as string);
    return copy?.images.length === 1 && copy.images[0].state === 'ready' ? copy : undefined;
  }, 60_000, 200);
  expect(remote).toMatchObject({ title: body.title, rent_cold: body.rent_cold, status: 'active', images: [expect.objectContaining({ width: 640, height: 480 })] });

  const published = await eventually(async () => {
    const listing = (await api().request('GET', `/api/v1/listings/${id}`, { key: hub.secretKey })).body.data;
    return listing.publications[0]?.state === 'published' ? listing : undefined;
  });
  expect(published.publications).toEqual([{ target_id: targetId, state: 'published', remote_id: remote.id, published_at: expect.any(String), failure_code: null }]);
  const succeeded = publicationEvents(await eventsOf(api(), hub.secretKey, id)).filter((event) => event.eventName === 'publication.succeeded');
  expect(succeeded[0].eventPayload).toEqual({ listingId: id, propertyId: body.external_ref, targetId, type: 'set', failureCode: null, failureMessage: null });

  await api().request('PATCH', `/api/v1/listings/${id}`, { key: hub.secretKey, body: { rent_cold: 1234 } });
  await eventually(async () => (await onPortal(portal.secretKey, body.external_ref as string))[0]?.rent_cold === 1234, 30_000, 200);

  await api().request('PATCH', `/api/v1/listings/${id}`, { key: hub.secretKey, body: { status: 'archived' } });
  await eventually(async () => (await onPortal(portal.secretKey, body.external_ref as string)).length === 0, 30_000, 200);
  const deleted = await eventually(async () => publicationEvents(await eventsOf(api(), hub.secretKey, id)).find((event) => event.eventPayload.type === 'delete'));
  expect(deleted).toMatchObject({ eventName: 'publication.succeeded', eventPayload: { listingId: id, targetId, type: 'delete', failureCode: null } });
  // Exactly one copy ever existed on P: the change was an upsert of the same listing.
  expect(await db()('listings').where({ org_id: portal.organization.id, external_ref: body.external_ref }).count('* as n').first()).toEqual({ n: '1' });
});

/** Workflows of one type for one target, as an operator finds them in the Temporal UI. */
async function workflowsOf(type: string, targetId: string): Promise<string[]> {
  const client = await deps().temporal.get();
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${type}' AND TargetId = '${targetId}'` })) ids.push(execution.workflowId);
  return ids;
}

async function backfillResult(targetId: string, count: number) {
  const ids = await eventually(async () => {
    const found = await workflowsOf('publicationBackfill', targetId);
    return found.length === count ? found : undefined;
  }, 30_000, 200);
  const client = await deps().temporal.get();
  const results = await Promise.all(ids.map((id) => client.workflow.getHandle(id).result()));
  return results as { published: number; deleted: number; unchanged: number; failed: number; handedOver: number; pages: number }[];
}

async function activeListings(hub: Awaited<ReturnType<typeof seedOrganization>>, count: number) {
  const bodies = Array.from({ length: count }, () => completeListing({ status: 'active' }));
  const ids: string[] = [];
  for (const body of bodies) ids.push((await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body })).body.data.id);
  await eventually(async () => {
    const [{ n }] = await db()('listings').whereIn('id', ids).where({ publication_state: 'published' }).count('* as n');
    return Number(n) === count;
  }, 60_000, 200);
  return { bodies, ids };
}

it('backfills a connect from one workflow: every live listing reaches the portal once, and a disconnect takes them down', async () => {
  const hub = await seedOrganization(deps());
  const { bodies, ids } = await activeListings(hub, 7);
  const draft = (await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body: completeListing({ status: 'draft' }) })).body.data;
  // The draft's own pipeline must be over before the connect: a moderation that lands after it
  // rightly owes the new target a sync of its own, which is not what this test is about.
  await eventually(async () => (await db()('listings').where({ id: draft.id }).first()).moderated_at !== null, 60_000, 200);
  const { portal, targetId } = await connectedHub(hub);

  const [connected] = await backfillResult(targetId, 1);
  expect(connected).toEqual({ published: 7, deleted: 0, unchanged: 0, failed: 0, handedOver: 0, pages: 1 });
  for (const body of bodies) expect(await onPortal(portal.secretKey, body.external_ref as string)).toHaveLength(1);
  expect(await onPortal(portal.secretKey, draft.external_ref)).toHaveLength(0);
  const succeeded = (await Promise.all(ids.map((id) => eventsOf(api(), hub.secretKey, id)))).map((events) => publicationEvents(events).map((event) => event.eventName));
  expect(succeeded).toEqual(Array(7).fill(['publication.succeeded']));
  // No listing needed a workflow of its own, and no lease is left behind.
  expect(await workflowsOf('publication', targetId)).toEqual([]);
  expect(await db()('publication_leases').where({ target_id: targetId })).toEqual([]);

  expect((await api().request('DELETE', `/api/v1/targets/${targetId}/connection`, { key: hub.secretKey })).status).toBe(200);
  const results = await backfillResult(targetId, 2);
  expect(results).toEqual(expect.arrayContaining([expect.objectContaining({ deleted: 7, published: 0, handedOver: 0 })]));
  for (const body of bodies) expect(await onPortal(portal.secretKey, body.external_ref as string)).toHaveLength(0);
});

it('hands a backfilled listing to its own workflow when the portal is down, which publishes it once the portal is back', async () => {
  const hub = await seedOrganization(deps());
  const { bodies, ids } = await activeListings(hub, 3);
  // Between the link and the agency's consent, the portal's listings API goes away (every push gets 404).
  let baseUrl = '';
  const { portal, targetId } = await connectedHub(hub, {
    beforeConsent: async (id) => {
      baseUrl = (await db()('targets').where({ id }).first()).base_url;
      await db()('targets').where({ id }).update({ base_url: `${api().baseUrl}/gone/` });
    },
  });
  const [backfill] = await backfillResult(targetId, 1);
  expect(backfill).toMatchObject({ published: 0, handedOver: 3 });
  // Each listing's own workflow retries on the schedule while the portal stays down.
  await eventually(async () => {
    const [{ n }] = await db()('publications').where({ target_id: targetId }).where('attempts', '>=', 2).count('* as n');
    return Number(n) === 3;
  }, 60_000, 200);
  await db()('targets').where({ id: targetId }).update({ base_url: baseUrl });
  await eventually(async () => {
    const [{ n }] = await db()('publications').where({ target_id: targetId, state: 'published' }).count('* as n');
    return Number(n) === 3;
  }, 60_000, 200);
  for (const body of bodies) expect(await onPortal(portal.secretKey, body.external_ref as string)).toHaveLength(1);
  const names = await Promise.all(ids.map(async (id) => publicationEvents(await eventsOf(api(), hub.secretKey, id)).map((event) => event.eventName)));
  expect(names).toEqual(Array(3).fill(['publication.failed', 'publication.succeeded']));
  expect((await workflowsOf('publication', targetId)).sort()).toEqual(ids.map((id) => `publication:${id}:${targetId}`).sort());
});

it('publishes image attachments fetched by URL into the portal\'s gallery, and one added later once it is fetched', async () => {
  const { hub, portal } = await connectedHub();
  const front = files.route(`/gallery/${randomUUID()}/garden.jpg`, serve(await makeJpeg(320, 240), 'image/jpeg'));
  const back = files.route(`/gallery/${randomUUID()}/kitchen.jpg`, serve(await makeJpeg(300, 200), 'image/jpeg'));
  // A title image fetched by URL: the listing is activated once it is ready (moderation says so).
  const body = completeListing({ status: 'draft', attachments: [{ url: front, kind: 'image', sort_order: 1 }] });
  const created = await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body });
  expect(created.status).toBe(201);
  const id = created.body.data.id;
  const listingOf = async () => (await api().request('GET', `/api/v1/listings/${id}`, { key: hub.secretKey })).body.data;
  await eventually(async () => (await listingOf()).attachments[0]?.state === 'ready', 60_000, 200);
  expect((await api().request('PATCH', `/api/v1/listings/${id}`, { key: hub.secretKey, body: { status: 'active' } })).status).toBe(200);
  const gallery = (count: number) =>
    eventually(async () => {
      const [found] = await onPortal(portal.secretKey, body.external_ref as string);
      return found?.images.length === count && found.images.every((image: { state: string }) => image.state === 'ready') ? found.images : undefined;
    }, 60_000, 200);
  expect(await gallery(1)).toEqual([expect.objectContaining({ filename: 'garden.jpg', width: 320, height: 240 })]);

  // A second image while the listing is live: pushed when its fetch completes.
  const attachments = [{ url: front, kind: 'image', sort_order: 1 }, { url: back, kind: 'image', sort_order: 2 }];
  expect((await api().request('PATCH', `/api/v1/listings/${id}`, { key: hub.secretKey, body: { attachments } })).status).toBe(200);
  expect((await gallery(2)).map((image: { filename: string }) => image.filename)).toEqual(['garden.jpg', 'kitchen.jpg']);
});

it('waits while the portal is down and publishes once it is back, with nothing lost and no duplicate', async () => {
  const { hub, portal, targetId } = await connectedHub();
  // The portal switches its listings API off for the agency: every push gets 404.
  await db()('organizations').where({ id: portal.organization.id }).update({ feature_flags: {} });
  const body = completeListing({ status: 'active' });
  const created = await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body });
  const id = created.body.data.id;
  const failed = await eventually(async () => publicationEvents(await eventsOf(api(), hub.secretKey, id)).find((event) => event.eventName === 'publication.failed'), 30_000, 200);
  expect(failed.eventPayload).toMatchObject({ listingId: id, targetId, type: 'set', failureCode: 'target_unavailable' });
  // Retried on the schedule a few times while it stays down.
  await eventually(async () => ((await db()('publications').where({ listing_id: id, target_id: targetId }).first())?.attempts ?? 0) >= 3, 30_000, 200);

  await db()('organizations').where({ id: portal.organization.id }).update({ feature_flags: { LISTINGS_WRITE_API_ENABLED: true, WEBHOOKS_PUBLIC_API_ENABLED: true } });
  await eventually(async () => (await onPortal(portal.secretKey, body.external_ref as string)).length === 1, 30_000, 200);
  const events = publicationEvents(await eventually(async () => {
    const all = await eventsOf(api(), hub.secretKey, id);
    return all.some((event) => event.eventName === 'publication.succeeded') ? all : undefined;
  }));
  // One failure announced for the outage (not one per retry), then one success.
  expect(events.map((event) => event.eventName)).toEqual(['publication.failed', 'publication.succeeded']);
  expect(await db()('listings').where({ org_id: portal.organization.id, external_ref: body.external_ref }).count('* as n').first()).toEqual({ n: '1' });
});

it('refreshes a token the portal dropped early once, and the connect goes through', async () => {
  const { hub, partnerId, targetId } = await connectedHub();
  const callsBefore = await oauthCalls(partnerId);
  const refreshesBefore = (await db()('targets').where({ id: targetId }).first()).token_refreshes;
  // The portal forgets every token it issued (as on a secret rotation): the cached one now gets 401.
  await db()('partner_tokens').where({ partner_id: partnerId }).delete();
  const again = await api().request('POST', `/api/v1/targets/${targetId}/connect`, { key: hub.secretKey });
  expect(again.status).toBe(201);
  expect(again.body.data.state).toBe('connected');
  expect(await oauthCalls(partnerId)).toBe(callsBefore + 1);
  expect((await db()('targets').where({ id: targetId }).first()).token_refreshes).toBe(refreshesBefore + 1);
});

it('calls /crm/oauth once while 100 listings are published and links are asked for again and again', async () => {
  const { hub, portal, partnerId, targetId } = await connectedHub();
  const bodies = Array.from({ length: 100 }, () => completeListing({ status: 'active' }));
  for (const body of bodies) expect((await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body })).status).toBe(201);
  for (let round = 0; round < 5; round += 1) expect((await api().request('POST', `/api/v1/targets/${targetId}/connect`, { key: hub.secretKey })).status).toBe(201);
  await eventually(async () => {
    const [{ n }] = await db()('listings').where({ org_id: portal.organization.id }).whereNull('deleted_at').count('* as n');
    return Number(n) === bodies.length;
  }, 120_000, 500);
  await eventually(async () => {
    const [{ n }] = await db()('publications').where({ target_id: targetId, state: 'published' }).count('* as n');
    return Number(n) === bodies.length;
  }, 60_000, 500);
  expect(await oauthCalls(partnerId)).toBe(1);
});

it('renews, on the token-refresh schedule\'s workflow, every token that would lapse before the next run', async () => {
  const { partnerId, targetId } = await connectedHub();
  // A portal that never answered (no token yet) is reported, and does not stop the others.
  const { target: silent } = await createTargetService(db(), deps().config).create({
    name: 'Silent portal',
    baseUrl: 'https://93.184.215.14',
    clientId: 'crm_silent',
    clientSecret: 'crmsec_silent',
    webhookSecret: `whsec_${Buffer.alloc(24, 1).toString('base64')}`,
  });
  // An hour left, with the next run 5.5 h away: renewed now.
  await db()('targets').where({ id: targetId }).update({ token_expires_at: new Date(Date.now() + 3_600_000) });
  const calls = await oauthCalls(partnerId);
  const client = await deps().temporal.get();
  const run = () => client.workflow.execute('tokenRefresh', { taskQueue: deps().config.TEMPORAL_TASK_QUEUE, workflowId: `token-refresh-test-${randomUUID()}`, args: [] }) as Promise<{ targetId: string; outcome: string }[]>;
  const reports = await run();
  expect(reports.find((report) => report.targetId === targetId)).toMatchObject({ outcome: 'refreshed', expiresAt: expect.any(String) });
  expect(reports.find((report) => report.targetId === silent.id)).toMatchObject({ outcome: 'target_unavailable', expiresAt: null });
  await createTargetService(db(), deps().config).disable(silent.id);
  expect(await oauthCalls(partnerId)).toBe(calls + 1);
  // The fresh 6 h token outlives the next run: left alone.
  expect((await run()).find((report) => report.targetId === targetId)).toMatchObject({ outcome: 'still_valid' });
  expect(await oauthCalls(partnerId)).toBe(calls + 1);

  const options = tokenRefreshScheduleOptions(deps().config);
  try {
    expect(await registerSchedule(client, options)).toBe('created');
    expect(await registerSchedule(client, options)).toBe('updated');
    const schedule = await client.schedule.getHandle(options.scheduleId).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'tokenRefresh' });
    expect(schedule.spec.intervals).toEqual([expect.objectContaining({ every: 19_800_000 })]);
  } finally {
    await client.schedule.getHandle(options.scheduleId).delete();
  }
});

it('honours the portal\'s 429 on /crm/oauth: no refresh storm, and a clear 503 with Retry-After', async () => {
  const registered = await registerTarget();
  const hub = await seedOrganization(deps());
  // Someone else spent the hub's token budget on the portal.
  for (let call = 0; call < OAUTH_LIMIT; call += 1) {
    expect((await oauth(api(), registered.clientId, registered.clientSecret, { 'X-Forwarded-For': `198.51.100.${(ipCounter += 1)}` })).status).toBe(200);
  }
  const first = await api().request('POST', `/api/v1/targets/${registered.targetId}/connect`, { key: hub.secretKey });
  expect(first.status).toBe(503);
  expect(first.body.error.code).toBe('TARGET_RATE_LIMITED');
  expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
  const more = await Promise.all(Array.from({ length: 10 }, () => api().request('POST', `/api/v1/targets/${registered.targetId}/connect`, { key: hub.secretKey })));
  expect(more.map((response) => response.status)).toEqual(Array(10).fill(503));
  // The budget's calls plus the hub's one attempt: the refused token was not asked for again.
  expect(await oauthCalls(registered.partnerId)).toBe(OAUTH_LIMIT + 1);
});

it('repairs drift: a listing deleted on the portal behind the hub\'s back is pushed again by the sweep', async () => {
  const { hub, portal, targetId } = await connectedHub();
  const body = completeListing({ status: 'active' });
  await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body });
  const [copy] = await eventually(async () => {
    const found = await onPortal(portal.secretKey, body.external_ref as string);
    return found.length === 1 ? found : undefined;
  }, 60_000, 200);
  await eventually(async () => (await db()('publications').where({ target_id: targetId, state: 'published' }).first()) !== undefined);
  expect((await api().request('DELETE', `/api/v1/listings/${copy.id}`, { key: portal.secretKey })).status).toBe(200);

  const client = await deps().temporal.get();
  const result = await client.workflow.execute('outboxResync', { taskQueue: deps().config.TEMPORAL_TASK_QUEUE, workflowId: `resync-test-${randomUUID()}`, args: [] });
  expect((result as { drift: any[] }).drift).toEqual(expect.arrayContaining([expect.objectContaining({ targetId, orgId: hub.organization.id, repushed: 1, deleted: 0 })]));
  await eventually(async () => (await onPortal(portal.secretKey, body.external_ref as string)).length === 1, 30_000, 200);
});

it('stops publishing on disconnect and deletes the listings it had pushed there', async () => {
  const { hub, portal, targetId } = await connectedHub();
  const body = completeListing({ status: 'active' });
  const id = (await api().request('POST', '/api/v1/listings', { key: hub.secretKey, body })).body.data.id;
  await eventually(async () => (await onPortal(portal.secretKey, body.external_ref as string)).length === 1, 60_000, 200);
  const disconnected = await api().request('DELETE', `/api/v1/targets/${targetId}/connection`, { key: hub.secretKey });
  expect(disconnected.status).toBe(200);
  expect(disconnected.body.data.connection.state).toBe('disconnected');
  await eventually(async () => (await onPortal(portal.secretKey, body.external_ref as string)).length === 0, 30_000, 200);
  await eventually(async () => publicationEvents(await eventsOf(api(), hub.secretKey, id)).some((event) => event.eventPayload.type === 'delete'));
  // Nothing more is pushed: a change after the disconnect stays on the hub.
  await api().request('PATCH', `/api/v1/listings/${id}`, { key: hub.secretKey, body: { rent_cold: 1111 } });
  expect((await api().request('DELETE', `/api/v1/targets/${targetId}/connection`, { key: hub.secretKey })).status).toBe(404);
});

it('pauses only the target that asked to slow down (Retry-After), while another target goes on', async () => {
  const first = await connectedHub();
  const second = await connectedHub(first.hub);
  // Long enough that the second target's push, which must not wait for it, lands inside it even on a loaded machine.
  const pausedUntil = new Date(Date.now() + 12_000);
  await db()('targets').where({ id: first.targetId }).update({ push_paused_until: pausedUntil });
  const body = completeListing({ status: 'active' });
  const id = (await api().request('POST', '/api/v1/listings', { key: first.hub.secretKey, body })).body.data.id;
  const onSecond = await eventually(async () => (await db()('publications').where({ listing_id: id, target_id: second.targetId, state: 'published' }).first()), 30_000, 50);
  expect(onSecond.published_at.getTime()).toBeLessThan(pausedUntil.getTime());
  const onFirst = await eventually(async () => (await db()('publications').where({ listing_id: id, target_id: first.targetId, state: 'published' }).first()), 30_000, 100);
  expect(onFirst.published_at.getTime()).toBeGreaterThanOrEqual(pausedUntil.getTime());
  expect(await onPortal(first.portal.secretKey, body.external_ref as string)).toHaveLength(1);
});

it('refuses key deliveries that are unsigned, for an unknown target, or for an agency that did not ask', async () => {
  const { targetId, webhookSecret } = await registerTarget();
  const delivery = JSON.stringify({ 'x-api-key': 'sk_test_forged', agencyId: randomUUID() });
  const signed = signedHeaders({ rawBody: delivery, secrets: [webhookSecret], deliveryEventId: 'c', eventName: 'partner.agency_connected', webhookMessageId: 'm', timestampSeconds: Math.floor(Date.now() / 1000) });
  const notAsked = await api().request('POST', `/partner-hooks/${targetId}`, { rawBody: delivery, headers: signed });
  expect(notAsked.status).toBe(404);
  expect(notAsked.body.error.code).toBe('NOT_FOUND');
  const unsigned = await api().request('POST', `/partner-hooks/${targetId}`, { rawBody: delivery });
  expect(unsigned.status).toBe(401);
  expect(unsigned.body.error.code).toBe('UNAUTHENTICATED');
  const forged = await api().request('POST', `/partner-hooks/${targetId}`, { rawBody: delivery, headers: { 'X-Webhook-Signature': `sha256=${'0'.repeat(64)}` } });
  expect(forged.status).toBe(401);
  expect((await api().request('POST', `/partner-hooks/${randomUUID()}`, { rawBody: delivery })).status).toBe(404);
  expect((await api().request('POST', '/partner-hooks/not-a-uuid', { rawBody: delivery })).status).toBe(404);
  const other = await seedOrganization(deps());
  expect((await api().request('POST', `/api/v1/targets/${randomUUID()}/connect`, { key: other.secretKey })).status).toBe(404);
  expect((await api().request('DELETE', `/api/v1/targets/${targetId}/connection`, { key: other.secretKey })).status).toBe(404);
});

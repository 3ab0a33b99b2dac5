import { createHash } from 'node:crypto';
import { runCliCaptured } from '../../support/cli';
import { TestApi, TestContext, createTestContext, startTestApi } from '../../support/context';
import { integrate, oauth, seedPartner } from '../../support/partners';

/** Reference 001 steps 1 and 2 against the real API and Postgres (no worker needed). */
let ctx: TestContext;
let api: TestApi;
let ipCounter = 0;
/** Each test its own client address (trust proxy), so per-IP failure counters stay apart. */
const freshIp = () => ({ 'X-Forwarded-For': `198.51.100.${(ipCounter += 1)}` });
// A public address literal: the guard judges it without DNS, which this machine lacks.
const WEBHOOK = 'https://93.184.215.14/immoflow/keys';

beforeAll(async () => {
  ctx = await createTestContext({ AUTH_FAILURES_PER_IP_PER_HOUR: '3', PUBLIC_BASE_URL: 'https://immoflow.test' });
  api = await startTestApi(ctx.deps);
});

afterAll(async () => {
  await api.close();
  await ctx.close();
});

const cli = (...argv: string[]) => runCliCaptured(ctx.deps, argv);

describe('POST /crm/oauth', () => {
  it('returns an x-crm-token valid for 6 hours, in the body and in a header, and stores only its hash', async () => {
    const { clientId, clientSecret, partner } = await seedPartner(ctx.deps, WEBHOOK);
    const response = await oauth(api, clientId, clientSecret, freshIp());
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ 'x-crm-token': expect.stringMatching(/^crmt_[0-9A-Za-z]{43}$/), token_type: 'Bearer', expires_in: 21600, expires_at: expect.any(String) });
    expect(response.headers.get('x-crm-token')).toBe(response.body['x-crm-token']);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(Math.abs(Date.parse(response.body.expires_at) - Date.now() - 6 * 3600_000)).toBeLessThan(60_000);
    const rows = await ctx.deps.db('partner_tokens').where({ partner_id: partner.id });
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(response.body['x-crm-token']).digest('hex'));
    const stored = await ctx.deps.db('partners').where({ id: partner.id }).first();
    expect(JSON.stringify(stored)).not.toContain(clientSecret);
  });

  it('answers an unknown client id and a wrong secret alike with 401', async () => {
    const { clientId } = await seedPartner(ctx.deps, WEBHOOK);
    const wrongSecret = await oauth(api, clientId, 'crmsec_wrong', freshIp());
    const unknownId = await oauth(api, 'crm_doesnotexist', 'crmsec_wrong', freshIp());
    expect(wrongSecret.status).toBe(401);
    expect(unknownId.status).toBe(401);
    expect(wrongSecret.body.error.code).toBe('UNAUTHENTICATED');
    expect(wrongSecret.body.error.message).toBe(unknownId.body.error.message);
    const missing = await api.request('POST', '/crm/oauth', { headers: freshIp() });
    expect(missing.status).toBe(401);
    expect(missing.body.error.message).toMatch(/x-crm-client-id/);
  });

  it('rate-limits a partner that asks for more than 10 tokens an hour with 429 and Retry-After', async () => {
    const { clientId, clientSecret } = await seedPartner(ctx.deps, WEBHOOK);
    const headers = freshIp();
    for (let i = 0; i < 10; i += 1) expect((await oauth(api, clientId, clientSecret, headers)).status).toBe(200);
    const limited = await oauth(api, clientId, clientSecret, headers);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.body.error.message).toMatch(/Cache the x-crm-token/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    // Another partner keeps its own budget.
    const other = await seedPartner(ctx.deps, WEBHOOK);
    expect((await oauth(api, other.clientId, other.clientSecret, headers)).status).toBe(200);
  });

  it('blocks an address after repeated failures, even with correct credentials, but not other addresses', async () => {
    const { clientId, clientSecret } = await seedPartner(ctx.deps, WEBHOOK);
    const attacker = freshIp();
    for (let i = 0; i < 3; i += 1) expect((await oauth(api, clientId, `crmsec_guess${i}`, attacker)).status).toBe(401);
    const blocked = await oauth(api, clientId, clientSecret, attacker);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
    expect(blocked.headers.get('retry-after')).toBeTruthy();
    expect((await oauth(api, clientId, clientSecret, freshIp())).status).toBe(200);
  });
});

describe('POST /crm/integrate', () => {
  async function token() {
    const seeded = await seedPartner(ctx.deps, WEBHOOK);
    const response = await oauth(api, seeded.clientId, seeded.clientSecret, freshIp());
    return { ...seeded, token: response.body['x-crm-token'] as string };
  }

  it('returns a signed connect link under PUBLIC_BASE_URL and owes the onboarding workflow its signal', async () => {
    const { token: crmToken, partner } = await token();
    const response = await integrate(api, crmToken, { agencyId: 'agency-42' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ url: expect.stringMatching(/^https:\/\/immoflow\.test\/connect\/[0-9a-f-]{36}\.\d+\.[A-Za-z0-9_-]+$/), expires_at: expect.any(String) });
    expect(Math.abs(Date.parse(response.body.expires_at) - Date.now() - 24 * 3600_000)).toBeLessThan(60_000);
    const owed = await ctx.deps.db('outbox').where({ workflow_id: `partner-onboarding:${partner.id}:agency-42` });
    expect(owed).toHaveLength(1);
    expect(owed[0]).toMatchObject({ workflow_type: 'partnerOnboarding', signal_name: 'linkIssued', search_attributes: { PartnerId: [partner.id], AgencyId: ['agency-42'] } });
    expect(Date.parse(owed[0].signal_args[0].expiresAt)).toBe(Date.parse(response.body.expires_at));
  });

  it('supersedes the earlier link for the same agency: only the newest opens', async () => {
    const { token: crmToken } = await token();
    const first = await integrate(api, crmToken, { agencyId: 'agency-7' });
    const second = await integrate(api, crmToken, { agencyId: 'agency-7' });
    const firstPage = await fetch(first.body.url.replace('https://immoflow.test', api.baseUrl));
    const secondPage = await fetch(second.body.url.replace('https://immoflow.test', api.baseUrl));
    expect(firstPage.status).toBe(410);
    expect(await firstPage.text()).toContain('Link replaced');
    expect(secondPage.status).toBe(200);
  });

  it.each([
    [{}, 'agencyId'],
    [{ agencyId: '' }, 'agencyId'],
    [{ agencyId: '   ' }, 'agencyId'],
    [{ agencyId: 'x'.repeat(201) }, 'agencyId'],
    [{ agencyId: 42 }, 'agencyId'],
    [{ agencyId: 'a', extra: true }, 'extra'],
  ])('rejects %j with 400 VALIDATION_ERROR naming %s', async (body, field) => {
    const { token: crmToken } = await token();
    const response = await integrate(api, crmToken, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.details.fields.map((entry: { path: string }) => entry.path)).toContain(field);
  });

  it('accepts an agencyId of exactly 200 characters', async () => {
    const { token: crmToken } = await token();
    expect((await integrate(api, crmToken, { agencyId: 'y'.repeat(200) })).status).toBe(201);
  });

  it('rejects a malformed body, a missing bearer and an unknown token', async () => {
    const { token: crmToken } = await token();
    const malformed = await api.request('POST', '/crm/integrate', { headers: { Authorization: `Bearer ${crmToken}` }, rawBody: '{"agencyId":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
    const missing = await api.request('POST', '/crm/integrate', { body: { agencyId: 'a' } });
    expect(missing.status).toBe(401);
    expect(missing.body.error.message).toMatch(/Bearer/);
    const unknown = await integrate(api, 'crmt_unknown', { agencyId: 'a' });
    expect(unknown.status).toBe(401);
  });

  it('stops accepting the tokens of a partner whose secret was rotated or who was disabled', async () => {
    const rotated = await token();
    const rotation = await cli('partner', 'rotate-secret', rotated.partner.id, '--json');
    expect(rotation.code).toBe(0);
    expect((await integrate(api, rotated.token, { agencyId: 'a' })).status).toBe(401);
    expect((await oauth(api, rotated.clientId, rotated.clientSecret, freshIp())).status).toBe(401);
    expect((await oauth(api, rotated.clientId, rotation.json.client_secret, freshIp())).status).toBe(200);

    const disabled = await token();
    expect((await cli('partner', 'disable', disabled.partner.id)).code).toBe(0);
    expect((await integrate(api, disabled.token, { agencyId: 'a' })).status).toBe(401);
    expect((await oauth(api, disabled.clientId, disabled.clientSecret, freshIp())).status).toBe(401);
  });
});

describe('immoflow partner', () => {
  it('creates a partner, printing its secrets once, and lists it without them', async () => {
    const created = await cli('partner', 'create', '--name', 'Makler CRM', '--webhook-url', WEBHOOK, '--developer-email', 'dev@makler-crm.example', '--json');
    expect(created.code).toBe(0);
    expect(created.json).toMatchObject({
      name: 'Makler CRM',
      client_id: expect.stringMatching(/^crm_[0-9A-Za-z]{24}$/),
      client_secret: expect.stringMatching(/^crmsec_[0-9A-Za-z]{40}$/),
      webhook_secret: expect.stringMatching(/^whsec_/),
      webhook_url: WEBHOOK,
    });
    const listed = await cli('partner', 'list', '--json');
    const entry = listed.json.find((p: { id: string }) => p.id === created.json.id);
    expect(entry).toMatchObject({ name: 'Makler CRM', client_id: created.json.client_id });
    expect(JSON.stringify(listed.json)).not.toContain(created.json.client_secret);
    const row = await ctx.deps.db('partners').where({ id: created.json.id }).first();
    expect(JSON.stringify(row)).not.toContain(created.json.client_secret);
    expect(JSON.stringify(row)).not.toContain(created.json.webhook_secret);
  });

  it.each(['https://127.0.0.1/hook', 'https://169.254.169.254/latest', 'http://crm.example.com/hook', 'https://localhost/hook', 'not a url'])(
    'refuses the webhook URL %s through the SSRF guard',
    async (url) => {
      const created = await cli('partner', 'create', '--name', 'Bad', '--webhook-url', url, '--developer-email', 'dev@x.example');
      expect(created.code).toBe(1);
      expect(created.stderr).toMatch(/webhook URL refused/);
    },
  );

  it('explains usage errors with exit code 2', async () => {
    expect((await cli('partner', 'create', '--name', 'X')).code).toBe(2);
    expect((await cli('partner', 'disable', 'not-a-uuid')).code).toBe(2);
    expect((await cli('partner', 'redeliver', '00000000-0000-4000-8000-000000000000')).code).toBe(1);
  });
});

import { randomUUID } from 'node:crypto';
import { createPartnerService } from '../../../src/partners/service';
import { createSecretBox, generateWebhookSecret } from '../../../src/webhooks/secretCrypto';
import { runCliCaptured } from '../../support/cli';
import { TestContext, createTestContext } from '../../support/context';
import { seedPartner } from '../../support/partners';

/** The operator's `immoflow target …` and `immoflow partner set-webhook-url` against the real Postgres. */
let ctx: TestContext;
// Public address literals: the SSRF guard judges them without DNS, which this machine lacks.
const PORTAL = 'https://93.184.215.14';
const PARTNER_WEBHOOK = 'https://93.184.215.14/immoflow/keys';

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_BASE_URL: 'https://immoflow.test' });
});

afterAll(async () => {
  await ctx.close();
});

const cli = (...argv: string[]) => runCliCaptured(ctx.deps, argv);

/** Fresh credentials as a portal would hand them over, and a name to find the row by. */
function portalCredentials() {
  const suffix = randomUUID().slice(0, 8);
  return { name: `Portal ${suffix}`, clientId: `immoflow-${suffix}`, clientSecret: `portal-secret-${randomUUID()}`, webhookSecret: generateWebhookSecret() };
}

function createArgs(c: ReturnType<typeof portalCredentials>, baseUrl = PORTAL): string[] {
  return ['target', 'create', '--name', c.name, '--base-url', baseUrl, '--client-id', c.clientId, '--client-secret', c.clientSecret, '--webhook-secret', c.webhookSecret];
}

async function targetsNamed(name: string) {
  return ctx.deps.db('targets').where({ name });
}

describe('immoflow target create', () => {
  it('prints the partner hook URL to give the portal, never the secrets', async () => {
    const c = portalCredentials();
    const created = await cli(...createArgs(c));
    expect(created.code).toBe(0);
    const [row] = await targetsNamed(c.name);
    expect(row).toBeDefined();
    expect(created.stdout).toContain(`Partner hook URL: https://immoflow.test/partner-hooks/${row.id}`);
    expect(created.stdout).toMatch(/Give the portal this URL as Immoflow's webhook_url/);
    expect(created.stdout).toContain(row.id);
    expect(created.stdout).toContain(PORTAL);
    expect(created.stdout).not.toContain(c.clientSecret);
    expect(created.stdout).not.toContain(c.webhookSecret);
  });

  it('with --json prints { target, partner_hook_url } without secrets', async () => {
    const c = portalCredentials();
    const created = await cli(...createArgs(c, `${PORTAL}/`), '--json');
    expect(created.code).toBe(0);
    expect(created.json).toEqual({
      target: expect.objectContaining({ id: expect.any(String), name: c.name, base_url: PORTAL, client_id: c.clientId, disabled_at: null, token_expires_at: null }),
      partner_hook_url: `https://immoflow.test/partner-hooks/${created.json.target.id}`,
    });
    expect(created.stdout).not.toContain(c.clientSecret);
    expect(created.stdout).not.toContain(c.webhookSecret);
    expect(created.stdout).not.toMatch(/ciphertext/);
  });

  it('stores the client secret and the webhook secret encrypted, not in plaintext', async () => {
    const c = portalCredentials();
    const created = await cli(...createArgs(c), '--json');
    expect(created.code).toBe(0);
    const row = await ctx.deps.db('targets').where({ id: created.json.target.id }).first();
    expect(JSON.stringify(row)).not.toContain(c.clientSecret);
    expect(JSON.stringify(row)).not.toContain(c.webhookSecret);
    expect(JSON.stringify(row)).not.toContain(c.webhookSecret.slice('whsec_'.length));
    const box = createSecretBox(ctx.deps.config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
    expect(box.decrypt(row.client_secret_ciphertext)).toBe(c.clientSecret);
    expect(box.decrypt(row.webhook_secret_ciphertext)).toBe(c.webhookSecret);
  });

  it.each(['https://10.0.0.1', 'https://127.0.0.1/api', 'https://169.254.169.254', 'http://93.184.215.14', 'not a url'])(
    'refuses the base URL %s through the SSRF guard with exit code 1, storing nothing',
    async (baseUrl) => {
      const c = portalCredentials();
      const created = await cli(...createArgs(c, baseUrl));
      expect(created.code).toBe(1);
      expect(created.stderr).toMatch(/^error: --base-url refused: /);
      expect(await targetsNamed(c.name)).toHaveLength(0);
    },
  );

  it.each(['whsec_short', 'not-a-whsec-secret-at-all-long-enough', 'whsec_has spaces in it and is long'])('refuses the malformed webhook secret %j with exit code 1', async (webhookSecret) => {
    const c = { ...portalCredentials(), webhookSecret };
    const created = await cli(...createArgs(c));
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('--webhook-secret must be the whsec_');
    expect(await targetsNamed(c.name)).toHaveLength(0);
  });

  it('explains a missing option with exit code 2', async () => {
    const missing = await cli('target', 'create', '--name', 'X', '--base-url', PORTAL);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--client-id is required');
  });
});

describe('immoflow target list', () => {
  it('shows a created target with its base URL and token state, without secrets', async () => {
    const c = portalCredentials();
    const created = await cli(...createArgs(c), '--json');
    const refreshedAt = new Date('2026-12-02T12:00:00.000Z');
    const expiresAt = new Date('2026-12-02T18:00:00.000Z');
    await ctx.deps.db('targets').where({ id: created.json.target.id }).update({ token_expires_at: expiresAt, token_refreshed_at: refreshedAt });

    const listed = await cli('target', 'list', '--json');
    expect(listed.code).toBe(0);
    const entry = listed.json.find((t: { id: string }) => t.id === created.json.target.id);
    expect(entry).toMatchObject({
      name: c.name,
      base_url: PORTAL,
      client_id: c.clientId,
      token_expires_at: expiresAt.toISOString(),
      token_refreshed_at: refreshedAt.toISOString(),
      disabled_at: null,
    });
    expect(listed.stdout).not.toContain(c.clientSecret);
    expect(listed.stdout).not.toMatch(/ciphertext/);

    const human = await cli('target', 'list');
    expect(human.code).toBe(0);
    const line = human.stdout.split('\n').find((l) => l.startsWith(created.json.target.id));
    expect(line).toBeDefined();
    expect(line).toContain(c.name);
    expect(line).toContain(PORTAL);
    expect(line).toContain('active');
    expect(line).toContain(`token expires ${expiresAt.toISOString()}, refreshed ${refreshedAt.toISOString()}`);
  });
});

describe('immoflow target disable', () => {
  it('sets disabled_at, and keeps the first one when repeated', async () => {
    const created = await cli(...createArgs(portalCredentials()), '--json');
    const id = created.json.target.id;
    const disabled = await cli('target', 'disable', id, '--json');
    expect(disabled.code).toBe(0);
    expect(disabled.json).toMatchObject({ id, disabled_at: expect.any(String) });
    const row = await ctx.deps.db('targets').where({ id }).first();
    expect(row.disabled_at).toBeInstanceOf(Date);
    expect(row.disabled_at.toISOString()).toBe(disabled.json.disabled_at);

    const again = await cli('target', 'disable', id, '--json');
    expect(again.code).toBe(0);
    expect(again.json.disabled_at).toBe(disabled.json.disabled_at);

    const listed = await cli('target', 'list');
    expect(listed.stdout.split('\n').find((l) => l.startsWith(id))).toContain('disabled');
  });

  it('answers an unknown id with exit code 1 and "not found"', async () => {
    const unknown = randomUUID();
    const result = await cli('target', 'disable', unknown);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: target ${unknown} not found\n`);
  });

  it.each(['not-a-uuid', '123', "x' or '1'='1"])('refuses the ill-formed id %j as a usage error (exit code 2) before Postgres sees it', async (id) => {
    const result = await cli('target', 'disable', id, '--json');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toEqual({ error: { message: `TARGET_ID must be a UUID (got ${JSON.stringify(id)})` } });
  });

  it('explains a missing id with exit code 2', async () => {
    const result = await cli('target', 'disable');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TARGET_ID is required');
  });
});

describe('immoflow partner set-webhook-url', () => {
  const NEW_WEBHOOK = 'https://93.184.215.14:8443/immoflow/keys-v2';

  it('updates the webhook URL and keeps the partner\'s tokens', async () => {
    const { partner } = await seedPartner(ctx.deps, PARTNER_WEBHOOK);
    await createPartnerService(ctx.deps.db, ctx.deps.config).issueToken(partner);
    const updated = await cli('partner', 'set-webhook-url', partner.id, '--webhook-url', NEW_WEBHOOK, '--json');
    expect(updated.code).toBe(0);
    expect(updated.json).toMatchObject({ id: partner.id, webhook_url: NEW_WEBHOOK });
    expect(updated.json).not.toHaveProperty('client_secret_hash');
    expect(updated.json).not.toHaveProperty('webhook_secret_ciphertext');
    const row = await ctx.deps.db('partners').where({ id: partner.id }).first();
    expect(row.webhook_url).toBe(NEW_WEBHOOK);
    expect(row.updated_at.getTime()).toBeGreaterThan(partner.updated_at.getTime());
    expect(await ctx.deps.db('partner_tokens').where({ partner_id: partner.id })).toHaveLength(1);

    const human = await cli('partner', 'set-webhook-url', partner.id, '--webhook-url', PARTNER_WEBHOOK);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`is now ${PARTNER_WEBHOOK}`);
    expect((await ctx.deps.db('partners').where({ id: partner.id }).first()).webhook_url).toBe(PARTNER_WEBHOOK);
  });

  it.each(['https://10.0.0.1/hook', 'https://127.0.0.1/hook', 'http://93.184.215.14/hook'])('refuses %s through the SSRF guard with exit code 1, changing nothing', async (url) => {
    const { partner } = await seedPartner(ctx.deps, PARTNER_WEBHOOK);
    const refused = await cli('partner', 'set-webhook-url', partner.id, '--webhook-url', url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: webhook URL refused: /);
    expect((await ctx.deps.db('partners').where({ id: partner.id }).first()).webhook_url).toBe(PARTNER_WEBHOOK);
  });

  it('answers an unknown id with exit code 1, an ill-formed id and a missing URL with 2', async () => {
    const unknown = randomUUID();
    const missing = await cli('partner', 'set-webhook-url', unknown, '--webhook-url', NEW_WEBHOOK);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: partner ${unknown} not found\n`);

    const illFormed = await cli('partner', 'set-webhook-url', 'not-a-uuid', '--webhook-url', NEW_WEBHOOK);
    expect(illFormed.code).toBe(2);
    expect(illFormed.stderr).toMatch(/^error: PARTNER_ID must be a UUID \(got "not-a-uuid"\)\n\nusage:\n  immoflow partner set-webhook-url PARTNER_ID --webhook-url URL\n$/);

    const noUrl = await cli('partner', 'set-webhook-url', unknown);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('--webhook-url is required');
  });
});

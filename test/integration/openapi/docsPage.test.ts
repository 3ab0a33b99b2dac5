import type { Browser, Page } from 'playwright-core';
import { meSchema } from '../../../src/openapi/paths/identity';
import { launchBrowser } from '../../support/browser';
import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';

/**
 * /docs in headless Chromium against the real app: the reference renders from our own assets with
 * nothing fetched from another origin, and its "try it" client sends a real request to the API.
 */
jest.setTimeout(120_000);

let ctx: TestContext;
let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  [ctx, browser] = await Promise.all([createTestContext(), launchBrowser()]);
  api = await startTestApi(ctx.deps);
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await ctx?.close();
});

/** A page that refuses (and records) every request off the API's origin, as an air-gapped network would. */
async function offlinePage(): Promise<{ page: Page; offsite: string[]; cspViolations: string[] }> {
  const page = await browser.newPage();
  const offsite: string[] = [];
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${api.baseUrl}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    offsite.push(url);
    return route.abort();
  });
  return { page, offsite, cspViolations };
}

it('serves the page with its scripts from our origin under a self-only CSP', async () => {
  const page = await api.request('GET', '/docs');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
  const scripts = [...page.text.matchAll(/<script[^>]*src="([^"]+)"/g)].map((match) => match[1]);
  expect(scripts).toEqual(['/docs/assets/scalar.js', '/docs/assets/init.js']);
  expect(page.text).not.toMatch(/<script>(?!<\/script>)/); // no inline script: the CSP would refuse it
  for (const script of scripts) {
    const asset = await api.request('GET', script);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
  }
});

it('renders every tag and operation, fetching nothing from another origin', async () => {
  const { page, offsite, cspViolations } = await offlinePage();
  try {
    await page.goto(`${api.baseUrl}/docs`);
    await page.getByText('Who am I').first().waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: /Open Group - Listings/ }).or(page.getByText('Listings', { exact: true })).first().click();
    await page.getByText('Create or update a listing').first().waitFor();
    for (const tag of ['Images', 'Events', 'Webhooks', 'Webhook events', 'Targets', 'Partners', 'Contact requests']) {
      await page.getByText(tag, { exact: true }).first().waitFor();
    }
    expect(offsite).toEqual([]);
    expect(cspViolations).toEqual([]);
  } finally {
    await page.close();
  }
});

it('sends a request from the page to the API ("try it") and shows the answer', async () => {
  const seeded = await seedOrganization(ctx.deps);
  const { page, offsite } = await offlinePage();
  try {
    const meRequests: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/api/v1/me')) meRequests.push(request.headers()['x-api-key'] ?? '');
    });
    await page.goto(`${api.baseUrl}/docs`);
    await page.getByText('Who am I').first().waitFor({ timeout: 60_000 });
    // The reference's authentication panel: the value is kept for every request the client sends.
    await page.locator('input[placeholder="QUxMIFlPVVIgQkFTRSBBUkUgQkVMT05HIFRPIFVT"]').first().fill(seeded.secretKey);
    await page.getByText('Who am I').first().click();
    await page.getByRole('button', { name: /Test Request.*get \/api\/v1\/me/ }).click();
    const client = page.getByRole('dialog');
    await client.getByRole('button', { name: /^Send/ }).first().click();

    await client.getByText('200 OK').first().waitFor({ timeout: 30_000 });
    await client.getByText(seeded.organization.id).first().waitFor();
    expect(meRequests).toEqual([seeded.secretKey]);
    expect(offsite).toEqual([]);

    // What the page showed is what the reference documents for this operation, field for field.
    const me = (await api.request('GET', '/api/v1/me', { key: seeded.secretKey })).body.data;
    expect(() => meSchema.strict().parse(me)).not.toThrow();
    expect(() => meSchema.shape.api_key.strict().parse(me.api_key)).not.toThrow();
  } finally {
    await page.close();
  }
});

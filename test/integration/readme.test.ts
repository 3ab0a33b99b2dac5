import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { seedOrganization } from '../support/context';
import { makeJpeg } from '../support/images';
import { TestStack, startTestStack } from '../support/workers';

/**
 * The README's "Using the API" runs as written: every shell block marked
 * `<!-- readme-test:run -->` runs, top to bottom in one bash, against a test stack, and so does
 * the SDK example marked `<!-- readme-test:run-ts -->`. Only the values a reader copies from
 * `make dev` (BASE, KEY; IMMOFLOW_URL, IMMOFLOW_API_KEY) are set to the test stack's.
 */
jest.setTimeout(180_000);

const README = path.resolve(__dirname, '../../README.md');
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
});

function runnableBlocks(markdown: string, marker = 'run', language = 'sh'): string[] {
  return [...markdown.matchAll(new RegExp(`<!-- readme-test:${marker} -->\\s*\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1]);
}

it('runs the README quickstart, from creating a listing to its being live with an image', async () => {
  const blocks = runnableBlocks(fs.readFileSync(README, 'utf8'));
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const org = await seedOrganization(stack.ctx.deps);
  const script = blocks
    .join('\n')
    .replace(/^BASE=.*$/m, `BASE=${stack.api.baseUrl}`)
    .replace(/^KEY=.*$/m, `KEY=${org.secretKey}`);
  expect(script).toContain(`KEY=${org.secretKey}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-readme-'));
  fs.writeFileSync(path.join(dir, 'living-room.jpg'), await makeJpeg(1600, 1200));
  try {
    const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\n${script}`], { cwd: dir, timeout: 150_000 });
    const listingId = /created listing ([0-9a-f-]{36})/.exec(stdout)?.[1];
    expect(listingId).toBeDefined();
    expect(stdout).toContain(`listing ${listingId} is live`);

    const listing = await stack.api.request('GET', `/api/v1/listings/${listingId}`, { key: org.secretKey });
    expect(listing.body.data).toMatchObject({ external_ref: 'CRM-48217', status: 'active', publication: { state: 'published' } });
    expect(listing.body.data.images).toEqual([expect.objectContaining({ state: 'ready' })]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('runs the README SDK example, which creates a listing and pages through them', async () => {
  const [example] = runnableBlocks(fs.readFileSync(README, 'utf8'), 'run-ts', 'ts');
  expect(example).toContain("from '@immoflow/sdk'");
  const org = await seedOrganization(stack.ctx.deps);
  // Inside the checkout, so that '@immoflow/sdk' resolves through the workspace link as it does for a user.
  const file = path.resolve(__dirname, `../../.readme-sdk-${process.pid}.ts`);
  fs.writeFileSync(file, example);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', file], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, IMMOFLOW_URL: stack.api.baseUrl, IMMOFLOW_API_KEY: org.secretKey },
      timeout: 60_000,
    });
    const listingId = /created listing ([0-9a-f-]{36})/.exec(stdout)?.[1];
    expect(listingId).toBeDefined();
    expect(stdout).toContain('CRM-48218 draft unpublished');
    const listing = await stack.api.request('GET', `/api/v1/listings/${listingId}`, { key: org.secretKey });
    expect(listing.body.data).toMatchObject({ external_ref: 'CRM-48218', status: 'draft' });
  } finally {
    fs.rmSync(file, { force: true });
  }
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { COMMAND_NAMES } from '../../src/cli/run';
import { runCliCaptured } from '../support/cli';
import { TestApi, TestContext, createTestContext, startTestApi } from '../support/context';

const exec = promisify(execFile);
let ctx: TestContext;
let api: TestApi;

beforeAll(async () => {
  ctx = await createTestContext();
  api = await startTestApi(ctx.deps);
});

afterAll(async () => {
  await api.close();
  await ctx.close();
});

const cli = (...argv: string[]) => runCliCaptured(ctx.deps, argv);

it('creates an organisation, a member and keys that authenticate, then revokes a key', async () => {
  const org = await cli('org', 'create', '--name', 'Makler Nord', '--plan', 'free', '--flag', 'WEBHOOKS_PUBLIC_API_ENABLED', '--owner-email', 'chefin@makler-nord.de', '--json');
  expect(org.code).toBe(0);
  expect(org.json).toMatchObject({ name: 'Makler Nord', plan: 'free', active_listing_cap: 25, feature_flags: { WEBHOOKS_PUBLIC_API_ENABLED: true } });
  const orgId = org.json.id;

  const member = await cli('user', 'add', '--org', orgId, '--email', 'agent@makler-nord.de', '--role', 'member', '--json');
  expect(member.code).toBe(0);
  const membership = await ctx.deps.db('memberships').where({ org_id: orgId, user_id: member.json.user_id }).first();
  expect(membership.role).toBe('member');

  const key = await cli('key', 'create', '--org', orgId, '--kind', 'secret', '--mode', 'live', '--scope', 'listings:write', '--scope', 'listings:read', '--json');
  expect(key.code).toBe(0);
  expect(key.json.key).toMatch(/^sk_live_[0-9A-Za-z]{32}$/);
  // write implies read, so the stored list is minimal.
  expect(key.json.scopes).toEqual(['listings:write']);
  const stored = await ctx.deps.db('api_keys').where({ id: key.json.id }).first();
  expect(JSON.stringify(stored)).not.toContain(key.json.key);
  // Owned by the org's owner when no creator is named: listings default to the key's creator.
  expect(stored.created_by).toBe(org.json.owner_user_id);

  const me = await api.request('GET', '/api/v1/me', { key: key.json.key });
  expect(me.status).toBe(200);
  expect(me.body.data.organization.id).toBe(orgId);

  const revoked = await cli('key', 'revoke', key.json.id, '--json');
  expect(revoked.code).toBe(0);
  expect(revoked.json.revoked_at).toEqual(expect.any(String));
  expect((await api.request('GET', '/api/v1/me', { key: key.json.key })).status).toBe(401);
});

it('switches a feature flag on and off', async () => {
  const org = await cli('org', 'create', '--name', 'Flags GmbH', '--plan', 'pro', '--owner-email', 'flags@example.com', '--json');
  const on = await cli('org', 'flags', 'set', org.json.id, 'LISTINGS_WRITE_API_ENABLED=on', '--json');
  expect(on.json.feature_flags).toEqual({ LISTINGS_WRITE_API_ENABLED: true });
  const off = await cli('org', 'flags', 'set', org.json.id, 'LISTINGS_WRITE_API_ENABLED=off', '--json');
  expect(off.json.feature_flags).toEqual({ LISTINGS_WRITE_API_ENABLED: false });
});

it('rejects bad input with exit code 2 and a clear message, touching nothing', async () => {
  const before = await ctx.deps.db('organizations').count<{ count: string }[]>('* as count');
  const badPlan = await cli('org', 'create', '--name', 'X', '--plan', 'gold', '--owner-email', 'x@example.com');
  expect(badPlan.code).toBe(2);
  expect(badPlan.stderr).toContain('--plan must be one of free, pro, enterprise');
  const badScope = await cli('key', 'create', '--org', '00000000-0000-4000-8000-000000000000', '--scope', 'listings:own');
  expect(badScope.code).toBe(2);
  expect(badScope.stderr).toContain('invalid scope');
  const badFlag = await cli('org', 'flags', 'set', '00000000-0000-4000-8000-000000000000', 'NOPE=on');
  expect(badFlag.code).toBe(2);
  const unknown = await cli('frobnicate');
  expect(unknown.code).toBe(2);
  const missingOrg = await cli('key', 'create', '--org', '00000000-0000-4000-8000-000000000000', '--scope', 'listings:read');
  expect(missingOrg.code).toBe(1);
  expect(missingOrg.stderr).toContain('not found');
  const after = await ctx.deps.db('organizations').count<{ count: string }[]>('* as count');
  expect(after).toEqual(before);
});

it('works as the immoflow bin with --json output', async () => {
  const bin = path.resolve(__dirname, '../../bin/immoflow');
  const { stdout } = await exec(bin, ['org', 'create', '--name', 'Bin KG', '--plan', 'enterprise', '--owner-email', 'bin@example.com', '--json'], { env: process.env });
  const parsed = JSON.parse(stdout);
  expect(parsed).toMatchObject({ name: 'Bin KG', plan: 'enterprise', active_listing_cap: null });
});

describe('--help and exit codes', () => {
  it.each(COMMAND_NAMES)('prints the usage of `%s` for --help and -h (exit 0), running nothing', async (name) => {
    const before = await ctx.deps.db('organizations').count<{ count: string }[]>('* as count');
    for (const flag of ['--help', '-h']) {
      const help = await cli(...name.split(' '), flag);
      expect(help.code).toBe(0);
      expect(help.stderr).toBe('');
      expect(help.stdout).toMatch(new RegExp(`^usage:\\n  immoflow ${name}( |\\n)`));
      expect(help.stdout).toContain('Exit codes: 0 ok, 1 not found or failed, 2 usage error.');
    }
    // Also after other arguments: help wins over running the command.
    const late = await cli(...name.split(' '), '--name', 'Should Not Exist', '--help');
    expect(late.code).toBe(0);
    expect(await ctx.deps.db('organizations').count<{ count: string }[]>('* as count')).toEqual(before);
  });

  it('prints every command of a group for `key --help`, and asks which for a bare `key` (exit 2)', async () => {
    const help = await cli('key', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('immoflow key create');
    expect(help.stdout).toContain('immoflow key revoke');
    expect(help.stdout).not.toContain('immoflow org create');
    const bare = await cli('key');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('immoflow key revoke KEY_ID');
    expect((await cli('frobnicate', '--help')).code).toBe(2);
  });

  it('answers a usage error with 2 and the command usage, a missing thing with 1', async () => {
    const usage = await cli('key', 'revoke', 'not-a-uuid');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage:\n  immoflow key revoke KEY_ID');
    const unknownOption = await cli('partner', 'list', '--frobnicate');
    expect(unknownOption.code).toBe(2);
    const missingKey = await cli('key', 'revoke', '00000000-0000-4000-8000-000000000000');
    expect(missingKey.code).toBe(1);
    expect(missingKey.stderr).toContain('not found');
    const missingListing = await cli('listing', 'review', '00000000-0000-4000-8000-000000000000', '--approve', '--reason', 'ok');
    expect(missingListing.code).toBe(1);
    expect(missingListing.stderr).toContain('not found');
  });

  it('exits with those codes as the immoflow bin', async () => {
    const bin = path.resolve(__dirname, '../../bin/immoflow');
    const help = await exec(bin, ['target', 'create', '--help'], { env: process.env });
    expect(help.stdout).toContain('immoflow target create --name N');
    await expect(exec(bin, ['target', 'disable', 'not-a-uuid'], { env: process.env })).rejects.toMatchObject({ code: 2 });
    await expect(exec(bin, ['target', 'disable', '00000000-0000-4000-8000-000000000000'], { env: process.env })).rejects.toMatchObject({ code: 1 });
  });
});

import { parseArgs } from 'node:util';
import { z } from 'zod';
import { API_KEY_KINDS, API_KEY_MODES } from '../domain/apiKeys';
import { FEATURE_FLAGS, FeatureFlag, isFeatureFlag, parseFlagAssignment } from '../domain/featureFlags';
import { PLANS, effectiveActiveListingCap } from '../domain/plans';
import { MEMBERSHIP_ROLES } from '../domain/roles';
import { ALL_SCOPES, Scope, isValidScope } from '../domain/scopes';
import { toApiKeyDto } from '../identity/dto';
import type { IdentityService } from '../identity/service';
import { CliFailure, CliOutput, UsageError, emit, oneOf, requireOption } from './io';

const uuid = z.uuid();

function requireId(value: string | undefined, what: string): string {
  if (!value || !uuid.safeParse(value).success) throw new UsageError(`${what} must be a UUID (got ${JSON.stringify(value ?? '')})`);
  return value;
}

export async function orgCreate(args: string[], identity: IdentityService, out: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      plan: { type: 'string', default: 'free' },
      flag: { type: 'string', multiple: true, default: [] },
      'owner-email': { type: 'string' },
      'developer-email': { type: 'string' },
      'listing-cap': { type: 'string' },
    },
  });
  const name = requireOption(values, 'name');
  const plan = oneOf(values.plan ?? 'free', PLANS, 'plan');
  const ownerEmail = requireOption(values, 'owner-email');
  if (!z.email().safeParse(ownerEmail).success) throw new UsageError(`--owner-email is not an e-mail address: ${ownerEmail}`);
  const flags = (values.flag ?? []).map((flag) => {
    if (!isFeatureFlag(flag)) throw new UsageError(`unknown flag ${flag}; known flags: ${FEATURE_FLAGS.join(', ')}`);
    return flag as FeatureFlag;
  });
  const cap = values['listing-cap'] === undefined ? null : Number(values['listing-cap']);
  if (cap !== null && (!Number.isInteger(cap) || cap < 0)) throw new UsageError('--listing-cap must be a non-negative integer');

  const { organization, ownerUserId } = await identity.createOrganization({
    name,
    plan,
    flags,
    ownerEmail,
    developerContactEmail: values['developer-email'],
    activeListingCapOverride: cap,
  });
  const data = {
    id: organization.id,
    name: organization.name,
    plan: organization.plan,
    active_listing_cap: effectiveActiveListingCap(organization.plan, organization.active_listing_cap_override),
    feature_flags: organization.feature_flags,
    owner_user_id: ownerUserId,
  };
  emit(out, data, `Created organization ${data.name} (${data.id}), plan ${data.plan}, flags: ${flags.join(', ') || 'none'}`);
}

export async function orgFlagsSet(args: string[], identity: IdentityService, out: CliOutput): Promise<void> {
  const [orgId, assignment] = args;
  requireId(orgId, 'ORG');
  if (!assignment) throw new UsageError('usage: immoflow org flags set ORG FLAG=on|off');
  let parsed: ReturnType<typeof parseFlagAssignment>;
  try {
    parsed = parseFlagAssignment(assignment);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const flags = await identity.setFeatureFlag(orgId, parsed.flag, parsed.enabled);
  emit(out, { org_id: orgId, feature_flags: flags }, `${parsed.flag} is now ${parsed.enabled ? 'on' : 'off'} for ${orgId}`);
}

export async function keyCreate(args: string[], identity: IdentityService, out: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      org: { type: 'string' },
      kind: { type: 'string', default: 'secret' },
      mode: { type: 'string', default: 'test' },
      scope: { type: 'string', multiple: true, default: [] },
      name: { type: 'string' },
    },
  });
  const orgId = requireId(values.org, '--org');
  const kind = oneOf(values.kind ?? 'secret', API_KEY_KINDS, 'kind');
  const mode = oneOf(values.mode ?? 'test', API_KEY_MODES, 'mode');
  const scopes = (values.scope ?? []).flatMap((entry) => entry.split(',')).filter(Boolean);
  const invalid = scopes.filter((scope) => !isValidScope(scope));
  if (invalid.length) throw new UsageError(`invalid scope(s) ${invalid.join(', ')}; use resource:read|write|delete, e.g. ${ALL_SCOPES.slice(0, 2).join(', ')}`);
  if (scopes.length === 0) throw new UsageError('at least one --scope is required, e.g. --scope listings:write');

  const { key, record } = await identity.createApiKey({ orgId, kind, mode, scopes: scopes as Scope[], name: values.name });
  emit(
    out,
    { ...toApiKeyDto(record), key },
    `Created ${kind} key ${record.id}\n\n  ${key}\n\nStore it now: it is shown only once. Scopes: ${record.scopes.join(' ')}`,
  );
}

export async function keyRevoke(args: string[], identity: IdentityService, out: CliOutput): Promise<void> {
  const keyId = requireId(args[0], 'KEY_ID');
  const record = await identity.revokeApiKey(keyId);
  if (!record) throw new CliFailure(`no API key ${keyId} (not found)`);
  emit(out, toApiKeyDto(record), `Revoked key ${record.id} (${record.key_hint}) at ${record.revoked_at?.toISOString()}`);
}

export async function userAdd(args: string[], identity: IdentityService, out: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, options: { org: { type: 'string' }, email: { type: 'string' }, role: { type: 'string', default: 'member' } } });
  const orgId = requireId(values.org, '--org');
  const email = requireOption(values, 'email');
  if (!z.email().safeParse(email).success) throw new UsageError(`--email is not an e-mail address: ${email}`);
  const role = oneOf(values.role ?? 'member', MEMBERSHIP_ROLES, 'role');
  const { userId } = await identity.addMember(orgId, email, role);
  emit(out, { org_id: orgId, user_id: userId, email, role }, `${email} is now ${role} of ${orgId} (user ${userId})`);
}

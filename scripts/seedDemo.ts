import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../src/db/knex';
import { FEATURE_FLAGS } from '../src/domain/featureFlags';
import { ALL_SCOPES } from '../src/domain/scopes';
import { createIdentityService } from '../src/identity/service';

export interface DemoCredentials {
  organizationId: string;
  organizationName: string;
  ownerEmail: string;
  secretKey: string;
  secretKeyId: string;
  publishableKey: string;
  publishableKeyId: string;
}

const DEMO_ORG_NAME = 'Demo Immobilien GmbH';
const DEMO_OWNER = 'owner@demo.immoflow.dev';

/**
 * Seeds the demo organisation once. The database stores only key hashes, so the plaintext demo
 * keys are kept in a local, git-ignored file under .data/ to print them again on the next start.
 * A missing file or a key that no longer exists yields new keys.
 */
export async function seedDemo(db: Db, credentialsFile: string): Promise<{ credentials: DemoCredentials; created: boolean }> {
  const identity = createIdentityService(db);
  const saved = readSaved(credentialsFile);
  if (saved && (await identity.authenticate(saved.secretKey)) && (await identity.authenticate(saved.publishableKey))) {
    return { credentials: saved, created: false };
  }
  const existing = await db('organizations').where({ name: DEMO_ORG_NAME }).first('id');
  const organizationId =
    existing?.id ??
    (await identity.createOrganization({ name: DEMO_ORG_NAME, plan: 'pro', flags: [...FEATURE_FLAGS], ownerEmail: DEMO_OWNER })).organization.id;
  for (const flag of FEATURE_FLAGS) await identity.setFeatureFlag(organizationId, flag, true);

  const secret = await identity.createApiKey({ orgId: organizationId, kind: 'secret', mode: 'test', scopes: ALL_SCOPES, name: 'demo secret key' });
  const publishable = await identity.createApiKey({
    orgId: organizationId,
    kind: 'publishable',
    mode: 'test',
    scopes: ['listings:read'],
    name: 'demo publishable key',
  });
  const credentials: DemoCredentials = {
    organizationId,
    organizationName: DEMO_ORG_NAME,
    ownerEmail: DEMO_OWNER,
    secretKey: secret.key,
    secretKeyId: secret.record.id,
    publishableKey: publishable.key,
    publishableKeyId: publishable.record.id,
  };
  fs.mkdirSync(path.dirname(credentialsFile), { recursive: true });
  fs.writeFileSync(credentialsFile, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return { credentials, created: true };
}

function readSaved(file: string): DemoCredentials | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DemoCredentials;
  } catch {
    return undefined;
  }
}

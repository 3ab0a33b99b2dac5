import { createPartnerService } from '../../src/partners/service';
import type { AppDeps } from '../../src/http/app';
import type { TestApi } from './context';

/** A partner registered the way `immoflow partner create` does it, with its one-time secrets. */
export async function seedPartner(deps: Pick<AppDeps, 'db' | 'config'>, webhookUrl: string, name = `CRM ${Math.random().toString(36).slice(2, 8)}`) {
  const { partner, clientSecret, webhookSecret } = await createPartnerService(deps.db, deps.config).create({
    name,
    webhookUrl,
    developerEmail: `dev-${partnerSuffix()}@crm.example`,
  });
  return { partner, clientId: partner.client_id, clientSecret, webhookSecret };
}

function partnerSuffix(): string {
  return Math.random().toString(36).slice(2, 10);
}

/** Reference 001 step 1, as a partner's server calls it. */
export function oauth(api: TestApi, clientId: string, clientSecret: string, headers: Record<string, string> = {}) {
  return api.request('POST', '/crm/oauth', { headers: { 'x-crm-client-id': clientId, 'x-crm-client-secret': clientSecret, ...headers } });
}

/** Reference 001 step 2. */
export function integrate(api: TestApi, token: string, body: unknown) {
  return api.request('POST', '/crm/integrate', { headers: { Authorization: `Bearer ${token}` }, body });
}

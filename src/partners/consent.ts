import type { Db } from '../db/knex';
import { createIdentityService } from '../identity/service';
import { createLinkSigner } from './connectLinks';
import { oweOnboarding } from './onboardingStarts';
import type { PartnerConfig } from './service';

export type UnusableLink = 'tampered' | 'expired' | 'used' | 'superseded' | 'partner_disabled';

export interface UsableLink {
  state: 'usable';
  linkId: string;
  agencyId: string;
  partnerId: string;
  partnerName: string;
  expiresAt: Date;
}

export type LinkState = UsableLink | { state: UnusableLink };

interface LinkRow {
  id: string;
  agency_id: string;
  expires_at: Date;
  used_at: Date | null;
  superseded_at: Date | null;
  partner_id: string;
  partner_name: string;
  partner_disabled_at: Date | null;
}

/**
 * The agency's side of a connect link: what the page may show, and the consent itself. Postgres
 * decides whether a link is still usable (single use, superseded); the signature only spares a
 * lookup for links that were never ours.
 */
export function createConsentService(db: Db, config: PartnerConfig) {
  const signer = createLinkSigner(config.PARTNER_LINK_SIGNING_KEY as string);

  async function inspect(trx: Db, token: string, lock: boolean): Promise<LinkState> {
    const verdict = signer.verify(token, Date.now());
    if (!verdict.ok) return { state: verdict.reason };
    const row: LinkRow | undefined = await trx('connect_links as l')
      .join('partners as p', 'p.id', 'l.partner_id')
      .where('l.id', verdict.linkId)
      .modify((query) => {
        if (lock) query.forUpdate();
      })
      .first('l.id', 'l.agency_id', 'l.expires_at', 'l.used_at', 'l.superseded_at', 'p.id as partner_id', 'p.name as partner_name', 'p.disabled_at as partner_disabled_at');
    if (!row) return { state: 'tampered' };
    if (row.used_at) return { state: 'used' };
    if (row.superseded_at) return { state: 'superseded' };
    if (row.expires_at.getTime() <= Date.now()) return { state: 'expired' };
    if (row.partner_disabled_at) return { state: 'partner_disabled' };
    return { state: 'usable', linkId: row.id, agencyId: row.agency_id, partnerId: row.partner_id, partnerName: row.partner_name, expiresAt: row.expires_at };
  }

  return {
    inspect: (token: string) => inspect(db, token, false),

    /**
     * Uses the link for `orgId` on behalf of `userId`, who must own or administer it: marks it
     * used, lets the organisation's keys push listings, and owes the onboarding workflow the
     * consent, all in one transaction, so a link is consumed exactly when its key will be issued.
     */
    async confirm(token: string, userId: string, orgId: string): Promise<LinkState | { state: 'not_admin' }> {
      return db.transaction(async (trx) => {
        const link = await inspect(trx, token, true);
        if (link.state !== 'usable') return link;
        const membership = await trx('memberships').where({ org_id: orgId, user_id: userId }).whereIn('role', ['owner', 'admin']).first('role');
        if (!membership) return { state: 'not_admin' as const };
        await trx('connect_links').where({ id: link.linkId }).update({ used_at: trx.fn.now(), consented_org_id: orgId, consented_user_id: userId });
        // The agency key pushes listings, which this flag gates.
        await createIdentityService(trx).setFeatureFlag(orgId, 'LISTINGS_WRITE_API_ENABLED', true);
        await oweOnboarding.consent(trx, config, { partnerId: link.partnerId, agencyId: link.agencyId, orgId }, { linkId: link.linkId, orgId, userId });
        return link;
      });
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;

/** A consent normally becomes a connection within seconds; after this long, no run acted on it. */
const CONSENT_REPAIR_AFTER = "interval '2 minutes'";

/**
 * The resync sweep's repair of consents no run acted on. A signal that reaches an onboarding in the
 * instant its run completes is dropped with the run (Temporal delivers it, the finished code never
 * reads it), and a used link would then never get its key. Each such consent of the last week, whose
 * signal was relayed but which has no connection, is owed once more, to a fresh run if need be;
 * issuing is idempotent per link, so a consent that was merely slow costs nothing.
 */
export async function reoweUnansweredConsents(db: Db, config: PartnerConfig): Promise<number> {
  const lost: { id: string; partner_id: string; agency_id: string; consented_org_id: string; consented_user_id: string }[] = await db('connect_links as l')
    .whereNotNull('l.used_at')
    .whereNotNull('l.consented_org_id')
    .whereNotNull('l.consented_user_id')
    .whereRaw(`l.used_at < now() - ${CONSENT_REPAIR_AFTER}`)
    .whereRaw("l.used_at > now() - interval '7 days'")
    .whereNotExists(db('partner_connections as c').whereRaw('c.connect_link_id = l.id'))
    .whereNotExists(db('outbox as o').whereRaw("o.start_key = 'consent:' || l.id::text").where('o.status', 'pending'))
    .select('l.id', 'l.partner_id', 'l.agency_id', 'l.consented_org_id', 'l.consented_user_id')
    .limit(100);
  for (const link of lost) {
    const orgId = link.consented_org_id;
    // Once per link: the repair row's own key keeps a second sweep from owing it again.
    await oweOnboarding.consent(db, config, { partnerId: link.partner_id, agencyId: link.agency_id, orgId }, { linkId: link.id, orgId, userId: link.consented_user_id }, { repair: true });
  }
  return lost.length;
}

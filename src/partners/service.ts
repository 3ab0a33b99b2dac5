import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { checkUrl, resolverFromConfig } from '../http/ssrfGuard';
import { hashToken, randomBase62 } from '../identity/apiKeySecrets';
import { createSecretBox, generateWebhookSecret } from '../webhooks/secretCrypto';
import { createLinkSigner } from './connectLinks';
import { oweOnboarding } from './onboardingStarts';

export interface PartnerRow {
  id: string;
  name: string;
  client_id: string;
  client_secret_hash: string;
  webhook_url: string;
  webhook_secret_ciphertext: string;
  developer_email: string;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A refusal the operator (CLI) or the partner (HTTP) can act on; never an unexpected failure. */
export class PartnerError extends Error {
  constructor(
    message: string,
    readonly reason: 'invalid_webhook_url' | 'not_found' | 'invalid_input',
  ) {
    super(message);
  }
}

export type PartnerConfig = Pick<
  Config,
  | 'NODE_ENV'
  | 'PUBLIC_BASE_URL'
  | 'TEMPORAL_TASK_QUEUE'
  | 'WEBHOOK_ALLOW_TARGETS'
  | 'SSRF_DNS_SERVERS'
  | 'WEBHOOK_SECRET_ENCRYPTION_KEY'
  | 'PARTNER_LINK_SIGNING_KEY'
  | 'CONNECT_LINK_TTL'
  | 'CRM_TOKEN_TTL'
  | 'PARTNER_KEY_RETRY_SCHEDULE'
  | 'PARTNER_KEY_REDELIVERY_WINDOW'
>;

const CLIENT_ID_PREFIX = 'crm_';
const CLIENT_SECRET_PREFIX = 'crmsec_';
const TOKEN_PREFIX = 'crmt_';

export const PARTNER_PUBLIC_COLUMNS = ['id', 'name', 'client_id', 'webhook_url', 'developer_email', 'disabled_at', 'created_at', 'updated_at'] as const;

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * CRM partners (reference 001) from the platform's side: the operator's partner records, the
 * `/crm/oauth` token and the `/crm/integrate` link. Client secrets and tokens are stored as
 * SHA-256 hashes; the webhook signing secret, which the worker must read to sign, is encrypted.
 */
export function createPartnerService(db: Db, config: PartnerConfig) {
  const secrets = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
  const links = createLinkSigner(config.PARTNER_LINK_SIGNING_KEY as string);

  async function guardWebhookUrl(url: string): Promise<void> {
    const verdict = await checkUrl(url, { allowTargets: config.WEBHOOK_ALLOW_TARGETS, resolve: resolverFromConfig(config) });
    if (!verdict.ok) throw new PartnerError(`webhook URL refused: ${verdict.reason}`, 'invalid_webhook_url');
  }

  /** Updates the partner and drops every token it holds, in one transaction. */
  async function updateAndDropTokens(partnerId: string, changes: (trx: Db) => Record<string, unknown>): Promise<PartnerRow> {
    return db.transaction(async (trx) => {
      const [partner]: PartnerRow[] = await trx('partners').where({ id: partnerId }).update({ ...changes(trx), updated_at: trx.fn.now() }).returning('*');
      if (!partner) throw new PartnerError(`partner ${partnerId} not found`, 'not_found');
      await trx('partner_tokens').where({ partner_id: partnerId }).delete();
      return partner;
    });
  }

  return {
    /** Returns the client secret and the webhook signing secret in full, this once. */
    async create(input: { name: string; webhookUrl: string; developerEmail: string }) {
      await guardWebhookUrl(input.webhookUrl);
      const clientSecret = CLIENT_SECRET_PREFIX + randomBase62(40);
      const webhookSecret = generateWebhookSecret();
      const [partner]: PartnerRow[] = await db('partners')
        .insert({
          name: input.name,
          client_id: CLIENT_ID_PREFIX + randomBase62(24),
          client_secret_hash: hashToken(clientSecret),
          webhook_url: input.webhookUrl,
          webhook_secret_ciphertext: secrets.encrypt(webhookSecret),
          developer_email: input.developerEmail,
        })
        .returning('*');
      return { partner, clientSecret, webhookSecret };
    },

    async list(): Promise<Pick<PartnerRow, (typeof PARTNER_PUBLIC_COLUMNS)[number]>[]> {
      return db('partners').orderBy('created_at').select(PARTNER_PUBLIC_COLUMNS);
    },

    /** A new client secret; the old one and every token issued with it stop working at once. */
    async rotateSecret(partnerId: string): Promise<{ partner: PartnerRow; clientSecret: string }> {
      const clientSecret = CLIENT_SECRET_PREFIX + randomBase62(40);
      const partner = await updateAndDropTokens(partnerId, () => ({ client_secret_hash: hashToken(clientSecret) }));
      return { partner, clientSecret };
    },

    /** A new webhook URL, through the same SSRF guard as create; the partner's tokens stay valid. */
    async updateWebhookUrl(partnerId: string, webhookUrl: string): Promise<PartnerRow> {
      await guardWebhookUrl(webhookUrl);
      const [partner]: PartnerRow[] = await db('partners').where({ id: partnerId }).update({ webhook_url: webhookUrl, updated_at: db.fn.now() }).returning('*');
      if (!partner) throw new PartnerError(`partner ${partnerId} not found`, 'not_found');
      return partner;
    },

    /** A disabled partner cannot get tokens, its tokens stop working, and no key is sent to it. */
    async disable(partnerId: string): Promise<PartnerRow> {
      return updateAndDropTokens(partnerId, (trx) => ({ disabled_at: trx.raw('coalesce(disabled_at, now())') }));
    },

    /** The partner these credentials belong to, or null: unknown id and wrong secret look alike. */
    async verifyCredentials(clientId: string, clientSecret: string): Promise<PartnerRow | null> {
      const partner: PartnerRow | undefined = await db('partners').where({ client_id: clientId }).first();
      const presented = hashToken(clientSecret);
      // Compare even for an unknown id, so timing does not tell ids apart.
      const matches = sameHash(presented, partner?.client_secret_hash ?? hashToken(''));
      return partner && matches && !partner.disabled_at ? partner : null;
    },

    /** An opaque x-crm-token, valid CRM_TOKEN_TTL; only its hash is kept. */
    async issueToken(partner: PartnerRow): Promise<{ token: string; expiresAt: Date }> {
      const token = TOKEN_PREFIX + randomBase62(43);
      const expiresAt = new Date(Date.now() + config.CRM_TOKEN_TTL);
      await db('partner_tokens').insert({ partner_id: partner.id, token_hash: hashToken(token), expires_at: expiresAt });
      // Expired tokens are useless; dropping them here keeps the table at one row per live token.
      await db('partner_tokens').where({ partner_id: partner.id }).where('expires_at', '<', db.fn.now()).delete();
      return { token, expiresAt };
    },

    async authenticateToken(token: string): Promise<PartnerRow | null> {
      if (!token.startsWith(TOKEN_PREFIX)) return null;
      const partner: PartnerRow | undefined = await db('partner_tokens as t')
        .join('partners as p', 'p.id', 't.partner_id')
        .where('t.token_hash', hashToken(token))
        .where('t.expires_at', '>', db.fn.now())
        .whereNull('p.disabled_at')
        .first('p.*');
      return partner ?? null;
    },

    /**
     * A single-use signed link for one agency. It supersedes the partner's earlier unused links
     * for the same agency and owes the onboarding workflow the news, in the same transaction.
     */
    async createConnectLink(partner: PartnerRow, agencyId: string): Promise<{ url: string; expiresAt: Date; linkId: string }> {
      // The webhook is checked again at connect time by the delivery's guarded connection.
      const expiresAt = new Date(Date.now() + config.CONNECT_LINK_TTL);
      const linkId = await db.transaction(async (trx) => {
        await trx('connect_links')
          .where({ partner_id: partner.id, agency_id: agencyId })
          .whereNull('used_at')
          .whereNull('superseded_at')
          .update({ superseded_at: trx.fn.now() });
        const [link] = await trx('connect_links').insert({ partner_id: partner.id, agency_id: agencyId, expires_at: expiresAt }).returning('id');
        await oweOnboarding.linkIssued(trx, config, { partnerId: partner.id, agencyId }, { linkId: link.id, expiresAt: expiresAt.toISOString() });
        return link.id as string;
      });
      const base = config.PUBLIC_BASE_URL.replace(/\/+$/, '');
      return { url: `${base}/connect/${links.sign(linkId, expiresAt)}`, expiresAt, linkId };
    },
  };
}

export type PartnerService = ReturnType<typeof createPartnerService>;

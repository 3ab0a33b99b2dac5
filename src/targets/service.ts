import type { Config } from '../config';
import type { Db } from '../db/knex';
import { checkUrl, resolverFromConfig } from '../http/ssrfGuard';
import { createSecretBox } from '../webhooks/secretCrypto';
import { TargetError, TargetRow } from './targetRows';

export type TargetConfig = Pick<Config, 'PUBLIC_BASE_URL' | 'WEBHOOK_ALLOW_TARGETS' | 'SSRF_DNS_SERVERS' | 'WEBHOOK_SECRET_ENCRYPTION_KEY'>;

/** An operator's input the CLI can explain; never an unexpected failure. */
export class TargetInputError extends Error {
  override name = 'TargetInputError';
}

export interface NewTarget {
  name: string;
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The `whsec_…` secret the portal signs its key deliveries with. */
  webhookSecret: string;
}

export const TARGET_PUBLIC_COLUMNS = ['id', 'name', 'base_url', 'client_id', 'token_expires_at', 'token_refreshed_at', 'oauth_blocked_until', 'disabled_at', 'created_at'] as const;
export type TargetSummary = Pick<TargetRow, (typeof TARGET_PUBLIC_COLUMNS)[number]>;

/** Where a portal delivers the agency keys for a target: give this URL to the portal. */
export function partnerHookUrl(config: Pick<Config, 'PUBLIC_BASE_URL'>, targetId: string): string {
  return `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/partner-hooks/${targetId}`;
}

/**
 * The operator's register of targets: portals Immoflow publishes to as their CRM partner. The
 * client secret and the webhook secret are encrypted (AES-256-GCM) because Immoflow presents
 * the one and verifies with the other.
 */
export function createTargetService(db: Db, config: TargetConfig) {
  const box = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);

  return {
    async create(input: NewTarget): Promise<{ target: TargetSummary; partnerHookUrl: string }> {
      const name = input.name.trim();
      if (!name || name.length > 200) throw new TargetInputError('--name must be 1 to 200 characters');
      if (!input.clientId.trim() || !input.clientSecret.trim()) throw new TargetInputError('--client-id and --client-secret are required (the portal sends them)');
      if (!/^whsec_[A-Za-z0-9+/=]{16,}$/.test(input.webhookSecret.trim())) {
        throw new TargetInputError('--webhook-secret must be the whsec_… secret the portal signs its key deliveries with');
      }
      const verdict = await checkUrl(input.baseUrl, { allowTargets: config.WEBHOOK_ALLOW_TARGETS, resolve: resolverFromConfig(config) });
      if (!verdict.ok) throw new TargetInputError(`--base-url refused: ${verdict.reason}`);
      const [target]: TargetSummary[] = await db('targets')
        .insert({
          name,
          base_url: verdict.url.toString().replace(/\/+$/, ''),
          client_id: input.clientId.trim(),
          client_secret_ciphertext: box.encrypt(input.clientSecret.trim()),
          webhook_secret_ciphertext: box.encrypt(input.webhookSecret.trim()),
        })
        .returning([...TARGET_PUBLIC_COLUMNS]);
      return { target, partnerHookUrl: partnerHookUrl(config, target.id) };
    },

    list(): Promise<TargetSummary[]> {
      return db('targets').orderBy('created_at').select([...TARGET_PUBLIC_COLUMNS]);
    },

    /** Stops every push to the target; its listings stay where they are. */
    async disable(targetId: string): Promise<TargetSummary> {
      const [target]: TargetSummary[] = await db('targets')
        .where({ id: targetId })
        .update({ disabled_at: db.raw('coalesce(disabled_at, now())'), updated_at: db.fn.now() })
        .returning([...TARGET_PUBLIC_COLUMNS]);
      if (!target) throw new TargetError('not_found', `target ${targetId} not found`);
      return target;
    },
  };
}

export type TargetService = ReturnType<typeof createTargetService>;

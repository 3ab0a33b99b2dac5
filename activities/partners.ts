import nodemailer from 'nodemailer';
import type { Db } from '../src/db/knex';
import { AGENCY_KEY_SCOPES, describeDeliveryFailure, isKeyDeliveryAccepted } from '../src/domain/partners';
import { createGuardedDispatcher, guardedFetch, resolverFromConfig } from '../src/http/ssrfGuard';
import { createIdentityService } from '../src/identity/service';
import { ConnectionRow, revokeConnection } from '../src/partners/connections';
import { partnerMetrics } from '../src/partners/metrics';
import type { PartnerRow } from '../src/partners/service';
import { createSecretBox } from '../src/webhooks/secretCrypto';
import { signedHeaders } from '../src/webhooks/signing';
import type { ActivityDeps } from './deps';

/** The agency key as the workflow holds it: AES-256-GCM ciphertext, never the key itself. */
export interface HeldAgencyKey {
  connectionId: string;
  keyCiphertext: string;
}

export type IssueResult = ({ status: 'issued' } & HeldAgencyKey) | { status: 'already_delivered' | 'revoked'; connectionId: string };

export interface KeyDeliveryResult {
  outcome: 'delivered' | 'failed' | 'revoked' | 'partner_disabled';
  statusCode: number | null;
}

const ERROR_TEXT_LIMIT = 500;

/**
 * The agency key's life in partnerOnboarding: issued on consent (only its hash is stored), held
 * by the workflow encrypted, POSTed to the partner's webhook through the SSRF guard, and the
 * partner's developer told when every attempt failed.
 */
export function createPartnerActivities({ db, config, logger, metrics }: ActivityDeps) {
  const box = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
  const mailer = nodemailer.createTransport(config.SMTP_URL);
  const policy = { allowTargets: config.WEBHOOK_ALLOW_TARGETS, resolve: resolverFromConfig(config) };
  const dispatcher = createGuardedDispatcher(policy);
  const counters = metrics ? partnerMetrics(metrics) : undefined;

  /** Revokes `connection`'s current key and gives it a fresh one, in `trx`. */
  async function replaceKey(trx: Db, connection: Pick<ConnectionRow, 'id' | 'org_id' | 'agency_id' | 'api_key_id'>, partnerName: string, createdBy: string | null, keyMode: 'live' | 'test') {
    if (connection.api_key_id) await trx('api_keys').where({ id: connection.api_key_id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
    const { key, record } = await createIdentityService(trx).createApiKey({
      orgId: connection.org_id,
      kind: 'secret',
      mode: keyMode,
      scopes: AGENCY_KEY_SCOPES,
      name: `${partnerName} (agency ${connection.agency_id})`.slice(0, 200),
      createdBy,
    });
    await trx('partner_connections')
      .where({ id: connection.id })
      .update({ api_key_id: record.id, status: 'delivering', last_error: null, last_status_code: null, updated_at: trx.fn.now() });
    return box.encrypt(key);
  }

  return {
    /**
     * One key per consent (connect link). A retry after a crash finds the connection of its link:
     * the key it made then reached nobody (it lived only in the lost activity), so it is revoked
     * and replaced. A reconnect of the same agency revokes the previous connection and its key.
     */
    async issueAgencyKey(input: { linkId: string; partnerId: string; agencyId: string; orgId: string; userId: string; keyMode: 'live' | 'test' }): Promise<IssueResult> {
      return db.transaction(async (trx) => {
        const partner: PartnerRow = await trx('partners').where({ id: input.partnerId }).first();
        let connection: ConnectionRow | undefined = await trx('partner_connections').where({ connect_link_id: input.linkId }).forUpdate().first();
        if (connection?.status === 'delivered' || connection?.status === 'revoked') return { status: connection.status === 'delivered' ? 'already_delivered' : 'revoked', connectionId: connection.id };
        if (!connection) {
          const previous: ConnectionRow[] = await trx('partner_connections')
            .where({ partner_id: input.partnerId, agency_id: input.agencyId })
            .whereNull('revoked_at')
            .forUpdate()
            .select('*');
          for (const old of previous) await revokeConnection(trx, old);
          [connection] = await trx('partner_connections')
            .insert({ partner_id: input.partnerId, org_id: input.orgId, agency_id: input.agencyId, connect_link_id: input.linkId, created_by: input.userId })
            .returning('*');
        }
        const keyCiphertext = await replaceKey(trx, connection as ConnectionRow, partner.name, input.userId, input.keyMode);
        return { status: 'issued', connectionId: (connection as ConnectionRow).id, keyCiphertext };
      });
    },

    /** For a re-send the workflow no longer holds a key for: a fresh key replaces the old one. */
    async reissueAgencyKey(input: { connectionId: string; keyMode: 'live' | 'test' }): Promise<IssueResult> {
      return db.transaction(async (trx) => {
        const connection: (ConnectionRow & { partner_name: string }) | undefined = await trx('partner_connections as c')
          .join('partners as p', 'p.id', 'c.partner_id')
          .where('c.id', input.connectionId)
          .forUpdate('c')
          .first('c.*', 'p.name as partner_name');
        if (!connection || connection.status === 'revoked') return { status: 'revoked', connectionId: input.connectionId };
        const keyCiphertext = await replaceKey(trx, connection, connection.partner_name, connection.created_by, input.keyMode);
        return { status: 'issued', connectionId: connection.id, keyCiphertext };
      });
    },

    /** One signed POST of `{"x-api-key", "agencyId"}`; only 200 counts. */
    async deliverAgencyKey(input: HeldAgencyKey & { attempt: number }): Promise<KeyDeliveryResult> {
      const target = await db('partner_connections as c')
        .join('partners as p', 'p.id', 'c.partner_id')
        .where('c.id', input.connectionId)
        .first('c.agency_id', 'c.status', 'p.webhook_url', 'p.webhook_secret_ciphertext', 'p.disabled_at');
      if (!target || target.status === 'revoked') return { outcome: 'revoked', statusCode: null };
      if (target.disabled_at) return { outcome: 'partner_disabled', statusCode: null };
      const rawBody = JSON.stringify({ 'x-api-key': box.decrypt(input.keyCiphertext), agencyId: target.agency_id });
      const headers = signedHeaders({
        rawBody,
        secrets: [box.decrypt(target.webhook_secret_ciphertext)],
        deliveryEventId: input.connectionId,
        eventName: 'partner.agency_connected',
        webhookMessageId: `partner-key-${input.connectionId}`,
        timestampSeconds: Math.floor(Date.now() / 1000),
      });
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const response = await guardedFetch(target.webhook_url, { method: 'POST', headers, body: rawBody }, { ...policy, timeoutMs: config.WEBHOOK_TIMEOUT, dispatcher });
        statusCode = response.status;
        await response.body?.cancel().catch(() => undefined);
      } catch (caught) {
        error = caught instanceof Error ? `${caught.name}: ${caught.message}`.slice(0, ERROR_TEXT_LIMIT) : String(caught);
      }
      const delivered = isKeyDeliveryAccepted(statusCode);
      await db('partner_connections')
        .where({ id: input.connectionId })
        .whereNot({ status: 'revoked' })
        .update({
          delivery_attempts: input.attempt,
          last_status_code: statusCode,
          last_error: delivered ? null : describeDeliveryFailure(statusCode, error),
          ...(delivered ? { status: 'delivered', delivered_at: db.fn.now() } : {}),
          updated_at: db.fn.now(),
        });
      if (delivered) counters?.connectionsCompleted.inc();
      logger.info({ connectionId: input.connectionId, attempt: input.attempt, statusCode, delivered }, 'partner key delivery attempt');
      return { outcome: delivered ? 'delivered' : 'failed', statusCode };
    },

    /** Every attempt failed: the connection says so, and the partner's developer is told why. */
    async notifyKeyDeliveryFailed(input: { connectionId: string }): Promise<void> {
      const row = await db('partner_connections as c')
        .join('partners as p', 'p.id', 'c.partner_id')
        .where('c.id', input.connectionId)
        .first('c.agency_id', 'c.delivery_attempts', 'c.last_error', 'c.status', 'p.name', 'p.webhook_url', 'p.developer_email');
      if (!row || row.status === 'revoked' || row.status === 'delivered') return;
      await mailer.sendMail({
        from: config.MAIL_FROM,
        to: row.developer_email,
        subject: `Immoflow could not deliver the API key for agency ${row.agency_id}`,
        text: [
          `Hello ${row.name} team,`,
          '',
          `An agency connected its Immoflow account to ${row.name} (your agencyId: ${row.agency_id}), but your webhook did not accept its API key.`,
          `Webhook: ${row.webhook_url}`,
          `Attempts: ${row.delivery_attempts}`,
          `Last failure: ${row.last_error ?? 'unknown'}.`,
          '',
          'Your endpoint must answer 200 OK to a POST of {"x-api-key": "...", "agencyId": "..."}.',
          `Once it does, ask Immoflow's operators to re-send the key (immoflow partner redeliver ${input.connectionId}). The key stays valid meanwhile.`,
        ].join('\n'),
      });
      await db('partner_connections').where({ id: input.connectionId }).where({ status: 'delivering' }).update({ status: 'delivery_failed', updated_at: db.fn.now() });
      counters?.deliveriesFailed.inc();
    },
  };
}

export type PartnerActivities = ReturnType<typeof createPartnerActivities>;

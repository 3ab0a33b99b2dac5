import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { validateEventPatterns } from '../domain/eventPatterns';
import { EVENT_NAMES } from '../domain/events';
import { ApiError } from '../http/errors';
import { checkUrl, resolverFromConfig } from '../http/ssrfGuard';
import type { AuthContext } from '../identity/authContext';
import { createCircuit } from './circuit';
import { oweDeliveries } from './deliveries';
import { AttemptRow, DeliveryRow, WebhookRow, toDeliveryDetailDto, toDeliverySummaryDto, toWebhookDto } from './dto';
import type { CreateWebhookInput, PatchWebhookInput } from './schema';
import { createSecretBox, generateWebhookSecret } from './secretCrypto';

export const MAX_WEBHOOKS_PER_ORG = 100;
const NOT_FOUND = 'No webhook with this id in your organization.';

export type WebhookConfig = Pick<
  Config,
  'WEBHOOK_SECRET_ENCRYPTION_KEY' | 'WEBHOOK_ALLOW_TARGETS' | 'SSRF_DNS_SERVERS' | 'WEBHOOK_SECRET_ROTATION_GRACE' | 'WEBHOOK_RETRY_SCHEDULE' | 'TEMPORAL_TASK_QUEUE' | 'WEBHOOK_CIRCUIT_THRESHOLD' | 'WEBHOOK_CIRCUIT_OPEN_AFTER'
>;

/** Webhook subscriptions of reference 002: CRUD, secret rotation, deliveries and redelivery. */
export function createWebhookService(db: Db, config: WebhookConfig) {
  const secrets = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
  const circuit = createCircuit(config);

  async function validateUrl(url: string): Promise<string> {
    const verdict = await checkUrl(url, { allowTargets: config.WEBHOOK_ALLOW_TARGETS, resolve: resolverFromConfig(config) });
    if (!verdict.ok) throw ApiError.validation([{ path: 'url', message: verdict.reason }]);
    return verdict.url.toString();
  }

  function validateEvents(events: string[]): string[] {
    const { invalid } = validateEventPatterns(events, EVENT_NAMES);
    if (invalid.length) {
      throw ApiError.validation(invalid.map((name) => ({ path: `events.${events.indexOf(name)}`, message: `unknown event ${JSON.stringify(name)}; see the event whitelist` })));
    }
    return [...new Set(events)];
  }

  async function find(executor: Db, auth: AuthContext, id: string, lock = false): Promise<WebhookRow> {
    const query = executor('webhooks').where({ id, org_id: auth.orgId }).whereNull('deleted_at').first();
    // NO KEY UPDATE: nothing here changes the id, and FOR UPDATE would block the foreign-key checks
    // of deliveries an event fans out to this webhook meanwhile (a deadlock with the listing cap's lock).
    if (lock) query.forNoKeyUpdate();
    const row: WebhookRow | undefined = await query;
    if (!row) throw ApiError.notFound(NOT_FOUND);
    return row;
  }

  async function findDelivery(auth: AuthContext, webhookId: string, deliveryId: string): Promise<DeliveryRow> {
    const row: DeliveryRow | undefined = await db('webhook_deliveries').where({ id: deliveryId, webhook_id: webhookId, org_id: auth.orgId }).first();
    if (!row) throw ApiError.notFound('No delivery with this id for this webhook.');
    return row;
  }

  return {
    async create(auth: AuthContext, input: CreateWebhookInput) {
      const url = await validateUrl(input.url);
      const events = validateEvents(input.events);
      const [{ count }] = await db('webhooks').where({ org_id: auth.orgId }).whereNull('deleted_at').count<{ count: string }[]>('* as count');
      if (Number(count) >= MAX_WEBHOOKS_PER_ORG) throw ApiError.forbidden(`An organization can have at most ${MAX_WEBHOOKS_PER_ORG} webhooks.`, { limit: MAX_WEBHOOKS_PER_ORG });
      const secret = generateWebhookSecret();
      const [row]: WebhookRow[] = await db('webhooks')
        .insert({ org_id: auth.orgId, url, events, description: input.description ?? null, active: input.active ?? true, secret_ciphertext: secrets.encrypt(secret) })
        .returning('*');
      return { ...toWebhookDto(row), secret };
    },

    async list(auth: AuthContext) {
      const rows: WebhookRow[] = await db('webhooks').where({ org_id: auth.orgId }).whereNull('deleted_at').orderBy('created_at').limit(MAX_WEBHOOKS_PER_ORG);
      return rows.map(toWebhookDto);
    },

    async get(auth: AuthContext, id: string) {
      return toWebhookDto(await find(db, auth, id));
    },

    async patch(auth: AuthContext, id: string, input: PatchWebhookInput) {
      const changes: Record<string, unknown> = {};
      if (input.url !== undefined) changes.url = await validateUrl(input.url);
      if (input.events !== undefined) changes.events = validateEvents(input.events);
      if (input.description !== undefined) changes.description = input.description;
      if (input.active !== undefined) {
        changes.active = input.active;
        // Re-enabling starts a fresh failure count: the policy judges the endpoint from now on.
        // Its circuit closes too: the next delivery is attempted.
        if (input.active) Object.assign(changes, { disabled_reason: null, consecutive_failures: 0, failed_attempts_in_a_row: 0, failing_since: null, probe_delivery_id: null });
        else changes.disabled_reason = 'disabled via API';
      }
      return db.transaction(async (trx) => {
        await find(trx, auth, id, true);
        const [row]: WebhookRow[] = await trx('webhooks').where({ id }).update({ ...changes, updated_at: trx.fn.now() }).returning('*');
        // Deliveries parked behind its circuit go on: attempted when re-enabled, failed when disabled.
        if (input.active !== undefined) await circuit.releaseParked(trx, id);
        return toWebhookDto(row);
      });
    },

    async remove(auth: AuthContext, id: string) {
      await db.transaction(async (trx) => {
        await find(trx, auth, id, true);
        await trx('webhooks').where({ id }).update({ deleted_at: trx.fn.now(), active: false, updated_at: trx.fn.now() });
        await circuit.releaseParked(trx, id);
      });
      return { id, deleted: true as const };
    },

    /** A new secret, shown once; the old one keeps signing for the grace period. */
    async rotateSecret(auth: AuthContext, id: string) {
      const secret = generateWebhookSecret();
      const row = await db.transaction(async (trx) => {
        const current = await find(trx, auth, id, true);
        const [updated]: WebhookRow[] = await trx('webhooks')
          .where({ id })
          .update({
            secret_ciphertext: secrets.encrypt(secret),
            previous_secret_ciphertext: current.secret_ciphertext,
            previous_secret_expires_at: new Date(Date.now() + config.WEBHOOK_SECRET_ROTATION_GRACE),
            updated_at: trx.fn.now(),
          })
          .returning('*');
        return updated;
      });
      return { ...toWebhookDto(row), secret, previous_secret_expires_at: row.previous_secret_expires_at?.toISOString() ?? null };
    },

    async listDeliveries(auth: AuthContext, id: string, query: { status?: DeliveryRow['status']; page: number; per_page: number }) {
      await find(db, auth, id);
      const base = db('webhook_deliveries').where({ webhook_id: id, org_id: auth.orgId }).modify((q) => {
        if (query.status) q.where('status', query.status);
      });
      const [{ count }] = await base.clone().count<{ count: string }[]>('* as count');
      const rows: DeliveryRow[] = await base
        .clone()
        .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page);
      const total = Number(count);
      return {
        data: rows.map(toDeliverySummaryDto),
        pagination: { page: query.page, per_page: query.per_page, total, total_pages: Math.ceil(total / query.per_page) },
      };
    },

    async getDelivery(auth: AuthContext, id: string, deliveryId: string) {
      await find(db, auth, id);
      const delivery = await findDelivery(auth, id, deliveryId);
      const attempts: AttemptRow[] = await db('delivery_attempts').where({ delivery_id: deliveryId }).orderBy(['attempt_number', 'try_number']);
      return toDeliveryDetailDto(delivery, attempts);
    },

    /** A new delivery of the same event; 409 WEBHOOK_INACTIVE while the subscription is disabled. */
    async redeliver(auth: AuthContext, id: string, deliveryId: string): Promise<{ redelivery_id: string; status: 'pending' }> {
      return db.transaction(async (trx) => {
        const webhook = await find(trx, auth, id, true);
        if (!webhook.active) throw new ApiError(409, 'WEBHOOK_INACTIVE', 'This webhook is disabled. Re-enable it with PATCH {"active": true}, then redeliver.');
        const original = await findDelivery(auth, id, deliveryId);
        const [copy]: DeliveryRow[] = await trx('webhook_deliveries')
          .insert({ org_id: auth.orgId, webhook_id: id, event_id: original.event_id, event_name: original.event_name, envelope: original.envelope, redelivery_of: original.id })
          .returning('*');
        await oweDeliveries(trx, config, [copy.id]);
        return { redelivery_id: copy.id, status: 'pending' };
      });
    },

    /** Sends a `webhook.test` envelope through the normal delivery path (signed, retried, logged). */
    async sendTest(auth: AuthContext, id: string): Promise<{ delivery_id: string; status: 'pending' }> {
      return db.transaction(async (trx) => {
        const webhook = await find(trx, auth, id, true);
        if (!webhook.active) throw new ApiError(409, 'WEBHOOK_INACTIVE', 'This webhook is disabled. Re-enable it with PATCH {"active": true} first.');
        const eventId = randomUUID();
        const envelope = { eventId, eventName: 'webhook.test', eventPayload: { webhookId: id, message: 'This is a test event from Immoflow.' }, eventTime: new Date().toISOString() };
        const [delivery]: DeliveryRow[] = await trx('webhook_deliveries')
          .insert({ org_id: auth.orgId, webhook_id: id, event_id: eventId, event_name: 'webhook.test', envelope })
          .returning('*');
        await oweDeliveries(trx, config, [delivery.id]);
        return { delivery_id: delivery.id, status: 'pending' };
      });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

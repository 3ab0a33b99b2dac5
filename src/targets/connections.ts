import type { Config } from '../config';
import type { Db } from '../db/knex';
import { appendEvent } from '../events/service';
import { ApiError } from '../http/errors';
import { uuidParamOr404 } from '../http/params';
import { createSecretBox } from '../webhooks/secretCrypto';
import { verifySignedDelivery } from '../webhooks/signing';
import { PortalClient, PortalUnreachableError } from './portalClient';
import { PublicationStartConfig, oweConnectionBackfill } from './publicationStarts';
import { TargetDto, agencyKeyDeliverySchema } from './schema';
import { TargetConnectionRow, TargetError, TargetRow } from './targetRows';
import { createTargetTokens } from './tokens';

export type TargetConnectionConfig = PublicationStartConfig & Pick<Config, 'WEBHOOK_SECRET_ENCRYPTION_KEY' | 'WEBHOOK_RETRY_SCHEDULE'>;

const TARGET_NOT_FOUND = 'No target with this id.';
const NO_PENDING_CONNECTION = 'No connection of this agency is waiting for a key from this portal.';

const iso = (date: Date | null) => date?.toISOString() ?? null;

function connectionDto(row: Partial<TargetConnectionRow> | undefined): TargetDto['connection'] {
  return {
    state: row?.status ?? 'not_connected',
    connect_url: row?.connect_url ?? null,
    connect_url_expires_at: iso(row?.connect_url_expires_at ?? null),
    connected_at: iso(row?.connected_at ?? null),
    disconnected_at: iso(row?.disconnected_at ?? null),
  };
}

/** A target's refusal as the API answers it: never a 500 for a portal's trouble. */
function portalProblem(error: unknown): never {
  if (error instanceof PortalUnreachableError) throw new ApiError(502, 'TARGET_UNAVAILABLE', `The portal did not answer: ${error.message}`);
  if (error instanceof TargetError) {
    if (error.code === 'not_found') throw ApiError.notFound(TARGET_NOT_FOUND);
    if (error.code === 'rate_limited') {
      throw new ApiError(503, 'TARGET_RATE_LIMITED', error.message, undefined, { 'Retry-After': String(Math.max(1, Math.ceil((error.retryAfterMs ?? 60_000) / 1000))) });
    }
    if (error.code === 'unauthorized') throw new ApiError(502, 'TARGET_REFUSED', error.message);
    throw new ApiError(502, 'TARGET_UNAVAILABLE', error.message);
  }
  throw error;
}

/**
 * An organisation's side of its targets: the connect link (reference 001 step 2 with Immoflow as
 * the partner), the key the portal delivers to the partner hook (step 4), and the disconnect.
 */
export function createTargetConnections(db: Db, config: TargetConnectionConfig, portal: PortalClient) {
  const box = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
  const tokens = createTargetTokens(db, box, portal);

  async function enabledTarget(targetId: string): Promise<TargetRow> {
    const target: TargetRow | undefined = await db('targets').where({ id: uuidParamOr404(targetId, TARGET_NOT_FOUND) }).whereNull('disabled_at').first();
    if (!target) throw ApiError.notFound(TARGET_NOT_FOUND);
    return target;
  }

  /** The enabled targets (or the one named) with this organisation's connection and counts. */
  async function targetsOf(orgId: string, targetId?: string): Promise<TargetDto[]> {
    const rows: (Partial<TargetConnectionRow> & { id: string; name: string; published: number; failed: number })[] = await db('targets as t')
      .leftJoin('target_connections as c', (join) => join.on('c.target_id', 't.id').andOnVal('c.org_id', orgId))
      .whereNull('t.disabled_at')
      .modify((query) => {
        if (targetId) query.where('t.id', targetId);
      })
      .orderBy('t.created_at')
      .select(
        't.id',
        't.name',
        'c.status',
        'c.connect_url',
        'c.connect_url_expires_at',
        'c.connected_at',
        'c.disconnected_at',
        db.raw(`(select count(*) from publications p where p.target_id = t.id and p.org_id = ? and p.remote_id is not null)::int as published`, [orgId]),
        db.raw(`(select count(*) from publications p where p.target_id = t.id and p.org_id = ? and p.state = 'failed')::int as failed`, [orgId]),
      );
    return rows.map((row) => ({ id: row.id, name: row.name, connection: connectionDto(row.status ? row : undefined), publications: { published: row.published, failed: row.failed } }));
  }

  return {
    list: (orgId: string): Promise<TargetDto[]> => targetsOf(orgId),

    async get(orgId: string, targetId: string): Promise<TargetDto> {
      const [target] = await targetsOf(orgId, uuidParamOr404(targetId, TARGET_NOT_FOUND));
      if (!target) throw ApiError.notFound(TARGET_NOT_FOUND);
      return target;
    },

    /** Asks the portal for a signed link for this organisation, with the cached x-crm-token. */
    async connect(orgId: string, targetId: string) {
      const target = await enabledTarget(targetId);
      let answer;
      try {
        answer = await tokens.withToken(target, (token) =>
          portal.json(target.base_url, 'POST', 'crm/integrate', { headers: { Authorization: `Bearer ${token}` }, body: { agencyId: orgId } }),
        );
      } catch (error) {
        portalProblem(error);
      }
      const body = answer.body as { url?: unknown; expires_at?: unknown } | undefined;
      if (answer.status === 429) portalProblem(new TargetError('rate_limited', 'The portal rate-limits /crm/integrate.', answer.retryAfterMs));
      if (answer.status === 401 || answer.status === 403) portalProblem(new TargetError('unauthorized', `The portal refused Immoflow's token even after a refresh (HTTP ${answer.status}).`));
      if ((answer.status !== 200 && answer.status !== 201) || typeof body?.url !== 'string') {
        portalProblem(new TargetError('target_unavailable', `The portal's /crm/integrate answered HTTP ${answer.status} without a link.`));
      }
      const expiresAt = typeof body.expires_at === 'string' && !Number.isNaN(Date.parse(body.expires_at)) ? new Date(body.expires_at) : null;
      const [row]: TargetConnectionRow[] = await db.raw(
        `insert into target_connections (target_id, org_id, status, connect_url, connect_url_expires_at)
         values (?, ?, 'pending', ?, ?)
         on conflict (target_id, org_id) do update
           set connect_url = excluded.connect_url, connect_url_expires_at = excluded.connect_url_expires_at, updated_at = now(),
               status = case when target_connections.status = 'connected' then 'connected' else 'pending' end
         returning *`,
        [target.id, orgId, body.url, expiresAt],
      ).then((result: { rows: TargetConnectionRow[] }) => result.rows);
      return { target_id: target.id, state: row.status, url: body.url, expires_at: iso(expiresAt) };
    },

    /** Stops publishing to the target; every listing there is deleted by its publication workflow. */
    async disconnect(orgId: string, targetId: string): Promise<TargetDto> {
      const target = await enabledTarget(targetId);
      await db.transaction(async (trx) => {
        const connection: TargetConnectionRow | undefined = await trx('target_connections').where({ target_id: target.id, org_id: orgId }).forUpdate().first();
        if (!connection || connection.status === 'disconnected') throw ApiError.notFound('This organisation is not connected to this target.');
        await trx('target_connections').where({ id: connection.id }).update({ status: 'disconnected', disconnected_at: trx.fn.now(), updated_at: trx.fn.now() });
        const event = await appendEvent(trx, orgId, 'target.disconnected', { targetId: target.id, targetName: target.name }, config);
        await oweConnectionBackfill(trx, config, orgId, target.id, event.event_id);
      });
      return this.get(orgId, targetId);
    },

    /**
     * The portal's POST of `{"x-api-key", "agencyId"}` to /partner-hooks/{targetId}: verified with
     * the target's webhook secret, stored encrypted, announced as `target.connected`, and every
     * published listing of the organisation is owed to the target.
     */
    async acceptKeyDelivery(targetId: string, rawBody: string, header: (name: string) => string | undefined): Promise<{ connected: boolean }> {
      const target = await enabledTarget(targetId);
      if (!verifySignedDelivery(rawBody, header, box.decrypt(target.webhook_secret_ciphertext))) {
        throw new ApiError(401, 'UNAUTHENTICATED', 'The delivery is not signed with this target\'s webhook secret.');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        throw ApiError.validation([{ path: '(body)', message: 'is not JSON' }]);
      }
      const delivery = agencyKeyDeliverySchema.parse(parsed);
      // Immoflow asked for the link with the organisation's id as agencyId.
      const orgId = uuidParamOr404(delivery.agencyId, NO_PENDING_CONNECTION);
      return db.transaction(async (trx) => {
        const connection: TargetConnectionRow | undefined = await trx('target_connections').where({ target_id: target.id, org_id: orgId }).forUpdate().first();
        if (!connection || connection.status === 'disconnected') throw ApiError.notFound(NO_PENDING_CONNECTION);
        if (connection.status === 'connected' && connection.api_key_ciphertext && box.decrypt(connection.api_key_ciphertext) === delivery['x-api-key']) {
          return { connected: true };
        }
        await trx('target_connections')
          .where({ id: connection.id })
          .update({ status: 'connected', api_key_ciphertext: box.encrypt(delivery['x-api-key']), connected_at: trx.fn.now(), disconnected_at: null, updated_at: trx.fn.now() });
        const event = await appendEvent(trx, orgId, 'target.connected', { targetId: target.id, targetName: target.name }, config);
        await oweConnectionBackfill(trx, config, orgId, target.id, event.event_id);
        return { connected: true };
      });
    },
  };
}

export type TargetConnections = ReturnType<typeof createTargetConnections>;

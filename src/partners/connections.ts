import type { Db } from '../db/knex';
import { ApiError } from '../http/errors';
import { oweOnboarding } from './onboardingStarts';
import { PartnerError, type PartnerConfig } from './service';

export interface ConnectionRow {
  id: string;
  partner_id: string;
  partner_name: string;
  org_id: string;
  agency_id: string;
  connect_link_id: string;
  api_key_id: string | null;
  created_by: string | null;
  status: 'delivering' | 'delivered' | 'delivery_failed' | 'revoked';
  delivery_attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

export function toConnectionDto(row: ConnectionRow) {
  return {
    id: row.id,
    partner: { id: row.partner_id, name: row.partner_name },
    agency_id: row.agency_id,
    status: row.status,
    api_key_id: row.api_key_id,
    delivery_attempts: row.delivery_attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    delivered_at: row.delivered_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

/**
 * Ends a connection and revokes its agency key in `trx`: an organisation's DELETE, and a reconnect
 * that replaces it. Every API replica forgets the key on the identity tables' NOTIFY.
 */
export async function revokeConnection(trx: Db, connection: Pick<ConnectionRow, 'id' | 'api_key_id'>): Promise<void> {
  if (connection.api_key_id) await trx('api_keys').where({ id: connection.api_key_id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
  await trx('partner_connections')
    .where({ id: connection.id })
    .update({ status: 'revoked', revoked_at: trx.raw('coalesce(revoked_at, now())'), updated_at: trx.fn.now() });
}

/** An organisation's connections to CRM partners, and the operator's re-send of a key. */
export function createConnectionService(db: Db, config: PartnerConfig) {
  const rows = (scope: Db = db) =>
    scope('partner_connections as c')
      .join('partners as p', 'p.id', 'c.partner_id')
      .select('c.*', 'p.name as partner_name');

  return {
    async list(orgId: string): Promise<ConnectionRow[]> {
      return rows().where('c.org_id', orgId).orderBy('c.created_at', 'desc');
    },

    /** Revokes the connection and its agency key at once. */
    async revoke(orgId: string, connectionId: string): Promise<ConnectionRow> {
      return db.transaction(async (trx) => {
        const current: ConnectionRow | undefined = await rows(trx).where({ 'c.id': connectionId, 'c.org_id': orgId }).forUpdate('c').first();
        if (!current) throw ApiError.notFound('No partner connection with this id in your organization.');
        await revokeConnection(trx, current);
        return (await rows(trx).where('c.id', connectionId).first()) as ConnectionRow;
      });
    },

    /** Owes the onboarding workflow a re-send of the connection's key (`immoflow partner redeliver`). */
    async redeliver(connectionId: string): Promise<ConnectionRow> {
      return db.transaction(async (trx) => {
        const current: ConnectionRow | undefined = await rows(trx).where('c.id', connectionId).first();
        if (!current) throw new PartnerError(`connection ${connectionId} not found`, 'not_found');
        if (current.status === 'revoked') throw new PartnerError(`connection ${connectionId} is revoked; the agency must connect again`, 'invalid_input');
        await oweOnboarding.redeliver(trx, config, { partnerId: current.partner_id, agencyId: current.agency_id, orgId: current.org_id }, { connectionId });
        return current;
      });
    },
  };
}

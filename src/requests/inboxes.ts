import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { inboxAddress } from '../domain/contactRequests';

export interface InboxRow {
  id: string;
  org_id: string;
  address: string;
  created_at: Date;
  retired_at: Date | null;
}

export function toInboxDto(inbox: InboxRow) {
  return { id: inbox.id, address: inbox.address, created_at: inbox.created_at.toISOString() };
}

/** 10 base32 characters: 50 bits, so an inbox cannot be guessed from the organisation's name. */
function randomLocalSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...randomBytes(10)].map((byte) => alphabet[byte % 32]).join('');
}

/**
 * Each organisation has one active inbox. It is made on first use (GET /me, the HTTP ingress),
 * so organisations created before contact requests existed get one too. Rotating retires the old
 * address: mail to it is refused from then on.
 */
export function createInboxService(db: Db, config: Pick<Config, 'INBOUND_MAIL_DOMAIN'>) {
  async function active(orgId: string, trx: Db = db): Promise<InboxRow | undefined> {
    return trx('inboxes').where({ org_id: orgId }).whereNull('retired_at').first();
  }

  async function insertFor(trx: Db, orgId: string): Promise<void> {
    const org = await trx('organizations').where({ id: orgId }).first('name');
    // Two first uses at once: the partial unique index keeps one, the other reads it below.
    await trx.raw('insert into inboxes (org_id, address) values (?, ?) on conflict do nothing', [
      orgId,
      inboxAddress(org?.name ?? 'org', randomLocalSuffix(), config.INBOUND_MAIL_DOMAIN),
    ]);
  }

  return {
    async current(orgId: string): Promise<InboxRow> {
      const existing = await active(orgId);
      if (existing) return existing;
      await insertFor(db, orgId);
      return (await active(orgId)) as InboxRow;
    },

    /** A new address; the old one is retired in the same transaction. */
    async rotate(orgId: string): Promise<InboxRow> {
      return db.transaction(async (trx) => {
        await trx('inboxes').where({ org_id: orgId }).whereNull('retired_at').update({ retired_at: trx.fn.now() });
        await insertFor(trx, orgId);
        return (await active(orgId, trx)) as InboxRow;
      });
    },

    /** The inbox an address names, active or retired; addresses compare lower-cased. */
    async byAddress(address: string): Promise<InboxRow | undefined> {
      return db('inboxes').where({ address: address.trim().toLowerCase() }).first();
    },
  };
}

export type InboxService = ReturnType<typeof createInboxService>;

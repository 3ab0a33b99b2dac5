import type { Client as StorageClient } from 'minio';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { ContactRequestRow, PERSONAL_FIELDS, toRequestDto } from './dto';

export interface RequestFilter {
  afterSeq?: string;
  listingId?: string;
  since?: string;
  email?: string;
  limit: number;
}

/** Contact requests of one organisation: read, list, and erase (GDPR Art. 17). */
export function createRequestService(db: Db, storage: StorageClient, config: Pick<Config, 'S3_BUCKET_MAIL'>) {
  async function get(orgId: string, id: string): Promise<ContactRequestRow | undefined> {
    return db('contact_requests').where({ org_id: orgId, id }).first();
  }

  return {
    get,

    async list(orgId: string, filter: RequestFilter): Promise<ContactRequestRow[]> {
      return db('contact_requests')
        .where({ org_id: orgId })
        .modify((query) => {
          if (filter.afterSeq) query.where('seq', '>', filter.afterSeq);
          if (filter.listingId) query.where({ listing_id: filter.listingId });
          if (filter.since) query.where('created_at', '>=', new Date(filter.since));
          if (filter.email) query.where({ email_key: filter.email.trim().toLowerCase() });
        })
        .orderBy('seq', 'asc')
        .limit(filter.limit + 1);
    },

    /**
     * Clears every personal field and deletes the raw mails (the request's and any duplicate's),
     * keeping a tombstone: ids, listing, portal and times. The copies the event log and pending
     * webhook deliveries hold are replaced by the tombstone too, so nothing we keep still names
     * the prospect. Objects go first: a failure after that leaves the erase to be repeated, never
     * a tombstone over a mail that is still stored.
     */
    async erase(orgId: string, id: string): Promise<ContactRequestRow | undefined> {
      const row = await get(orgId, id);
      if (!row) return undefined;
      const mails: { id: string; object_key: string | null }[] = await db('inbound_mails')
        .where({ org_id: orgId })
        .where((query) => query.where({ id: row.mail_id }).orWhere({ request_id: id }))
        .select('id', 'object_key');
      const keys = mails.flatMap((mail) => (mail.object_key ? [mail.object_key] : []));
      if (keys.length) await storage.removeObjects(config.S3_BUCKET_MAIL, keys);

      return db.transaction(async (trx) => {
        const [erased]: ContactRequestRow[] = await trx('contact_requests')
          .where({ org_id: orgId, id })
          .update({ ...Object.fromEntries(PERSONAL_FIELDS.map((field) => [field, null])), erased_at: trx.raw('coalesce(erased_at, now())') })
          .returning('*');
        await trx('inbound_mails')
          .whereIn('id', mails.map((mail) => mail.id))
          .update({ sender: null, subject: null, object_key: null });
        const tombstone = JSON.stringify(toRequestDto(erased));
        const events: { event_id: string }[] = await trx('events')
          .where({ org_id: orgId, name: 'request.created' })
          .whereRaw("payload->>'id' = ?", [id])
          .update({ payload: trx.raw('?::jsonb', [tombstone]) })
          .returning('event_id');
        if (events.length) {
          await trx('webhook_deliveries')
            .whereIn('event_id', events.map((event) => event.event_id))
            .update({ envelope: trx.raw("jsonb_set(envelope, '{eventPayload}', ?::jsonb)", [tombstone]) });
        }
        return erased;
      });
    },
  };
}

export type RequestService = ReturnType<typeof createRequestService>;

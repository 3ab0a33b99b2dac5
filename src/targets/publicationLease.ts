import type { Db } from '../db/knex';
import { PUBLICATION_LEASE_MS, leaseBusyWait } from '../domain/publications';

export type LeaseClaim = { claimed: true } | { claimed: false; retryAfterMs: number };

const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The (listing, target) lease every push holds (migration publication_leases): a connection's
 * backfill and the listing's own `publication` workflow never push the same pair at once. The
 * holder is the caller's workflow id, so a retried activity of the same caller takes its lease
 * back at once instead of waiting for it to expire.
 */
export function createPublicationLeases(db: Db) {
  return {
    /** Takes the pair's lease, or says how long to wait; `gone` when the listing no longer exists. */
    async claim(listingId: string, targetId: string, holder: string): Promise<LeaseClaim | { gone: true }> {
      try {
        const { rows } = await db.raw<{ rows: { holder: string }[] }>(
          `insert into publication_leases as lease (listing_id, target_id, holder, expires_at)
           values (?, ?, ?, now() + make_interval(secs => ?))
           on conflict (listing_id, target_id) do update
             set holder = excluded.holder, expires_at = excluded.expires_at
             where lease.expires_at < now() or lease.holder = excluded.holder
           returning holder`,
          [listingId, targetId, holder, PUBLICATION_LEASE_MS / 1000],
        );
        if (rows.length > 0) return { claimed: true };
      } catch (error) {
        if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) return { gone: true };
        throw error;
      }
      const held: { remaining_ms: number } | undefined = await db('publication_leases')
        .where({ listing_id: listingId, target_id: targetId })
        .first(db.raw('greatest(0, extract(epoch from expires_at - now()) * 1000)::float8 as remaining_ms'));
      return { claimed: false, retryAfterMs: leaseBusyWait(held?.remaining_ms ?? 0) };
    },

    async release(listingId: string, targetId: string, holder: string): Promise<void> {
      await db('publication_leases').where({ listing_id: listingId, target_id: targetId, holder }).delete();
    },
  };
}

export type PublicationLeases = ReturnType<typeof createPublicationLeases>;

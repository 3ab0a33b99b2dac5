import type { Db } from '../db/knex';
import {
  BackfillInput,
  BackfillPage,
  SyncOutcome,
  addBackfillTotals,
  backfillDisposition,
  emptyBackfillTotals,
} from '../domain/publications';
import { PublicationStartConfig, owePublicationSyncs } from './publicationStarts';
import { Publisher, pushPausedMs } from './publisher';
import { TargetRow } from './targetRows';

export type BackfillConfig = PublicationStartConfig & { TARGET_CONCURRENCY: number };

/** Listings per page: one activity, one heartbeat each, a bounded re-run after a crash. */
export const BACKFILL_PAGE_SIZE = 50;

/**
 * A connection's backfill: after a connect or a disconnect, every listing the target should now
 * hold or give up is pushed from one activity per page, TARGET_CONCURRENCY at a time, under each
 * pair's lease. A listing whose push must wait is handed to its own `publication` workflow, which
 * owns the waiting and the retries; the rest cost no workflow of their own.
 */
export function createConnectionBackfill(deps: { db: Db; config: BackfillConfig; publisher: Publisher }) {
  const { db, config, publisher } = deps;

  /**
   * The organisation's listings the target may have to change for, in id order: the live ones
   * while the organisation is connected (after a disconnect none of them is owed a push), those
   * Immoflow pushed there, and those a push holds right now (a push in flight when a disconnect
   * committed has not recorded its remote id yet).
   */
  async function pageOfListings(input: BackfillInput): Promise<string[]> {
    const { rows } = await db.raw<{ rows: { id: string }[] }>(
      `select id from (
         select id from listings
          where org_id = ? and deleted_at is null and status = 'active' and publication_state = 'published'
            and exists (select 1 from target_connections c where c.org_id = listings.org_id and c.target_id = ? and c.status = 'connected')
         union
         select listing_id from publications where org_id = ? and target_id = ? and remote_id is not null
         union
         select lease.listing_id from publication_leases lease join listings l on l.id = lease.listing_id where l.org_id = ? and lease.target_id = ?
       ) owed
       where ?::uuid is null or id > ?::uuid
       order by id limit ?`,
      [input.orgId, input.targetId, input.orgId, input.targetId, input.orgId, input.targetId, input.after ?? null, input.after ?? null, BACKFILL_PAGE_SIZE],
    );
    return rows.map((row) => row.id);
  }

  return {
    async pushPage(input: BackfillInput, holder: string, onProgress: (done: number) => void = () => undefined): Promise<BackfillPage> {
      const target: TargetRow | undefined = await db('targets').where({ id: input.targetId }).first();
      if (!target || target.disabled_at) return { totals: emptyBackfillTotals(), next: null };
      const pausedMs = pushPausedMs(target);
      if (pausedMs > 0) return { totals: emptyBackfillTotals(), next: input.after ?? null, pausedMs };

      const listingIds = await pageOfListings(input);
      const outcomes = new Map<string, SyncOutcome>();
      let nextIndex = 0;
      const pushNext = async (): Promise<void> => {
        while (nextIndex < listingIds.length) {
          const listingId = listingIds[nextIndex++];
          outcomes.set(listingId, await publisher.sync({ orgId: input.orgId, listingId, targetId: input.targetId, retryScheduleMs: input.retryScheduleMs }, {}, holder));
          onProgress(outcomes.size);
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.TARGET_CONCURRENCY, listingIds.length) }, pushNext));

      let totals = emptyBackfillTotals();
      const handedOver: string[] = [];
      for (const listingId of listingIds) {
        const disposition = backfillDisposition(outcomes.get(listingId) as SyncOutcome);
        totals = addBackfillTotals(totals, { ...emptyBackfillTotals(), [disposition]: 1 });
        if (disposition === 'handedOver') handedOver.push(listingId);
      }
      if (handedOver.length > 0) {
        await db.transaction((trx) => owePublicationSyncs(trx, config, input.orgId, handedOver.map((listingId) => ({ listingId, targetId: input.targetId }))));
      }
      return { totals, next: listingIds.length < BACKFILL_PAGE_SIZE ? null : listingIds[listingIds.length - 1] };
    },
  };
}

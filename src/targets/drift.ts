import type { Config } from '../config';
import type { Db } from '../db/knex';
import { DriftReport, PushedListing, RemoteListing, listingFingerprint, planDriftRepair } from '../domain/publications';
import type { ListingRow } from '../listings/dto';
import { createSecretBox } from '../webhooks/secretCrypto';
import { PortalClient, PortalUnreachableError, pushIdempotencyKey } from './portalClient';
import { PublicationStartConfig, owePublicationSyncs } from './publicationStarts';
import { pushedListingBody } from './publisher';
import { TargetConnectionRow, TargetRow } from './targetRows';

export type DriftConfig = PublicationStartConfig & Pick<Config, 'WEBHOOK_SECRET_ENCRYPTION_KEY' | 'TARGET_DRIFT_SWEEP_INTERVAL'>;


const PAGE_SIZE = 100;
/** A portal listing more than this is not paged through in one sweep. */
const MAX_PAGES = 1000;

type RemoteItem = { id: string; external_ref: string; status: string } & Record<string, unknown>;

/**
 * Drift repair: compares what each connected target reports through its listings API with what
 * Immoflow last pushed, re-pushes what differs or is missing and deletes what Immoflow no longer
 * wants there. A connection is swept at most every TARGET_DRIFT_SWEEP_INTERVAL, since a sweep
 * pages through the whole agency on the portal.
 */
export function createDriftRepair(db: Db, config: DriftConfig, portal: PortalClient) {
  const box = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);

  async function remoteListings(target: TargetRow, apiKey: string): Promise<RemoteListing[]> {
    const found: RemoteListing[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const query: string = `api/v1/listings?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const answer = await portal.json(target.base_url, 'GET', query, { headers: { 'X-API-Key': apiKey } });
      if (answer.status !== 200) throw new Error(`the target's listings API answered HTTP ${answer.status}`);
      const body = answer.body as { data?: RemoteItem[]; pagination?: { next_cursor?: string | null; has_more?: boolean } };
      for (const item of body.data ?? []) found.push({ id: item.id, external_ref: item.external_ref, status: item.status, fingerprint: listingFingerprint(item as Record<string, unknown>) });
      cursor = body.pagination?.has_more ? (body.pagination.next_cursor ?? null) : null;
      if (!cursor) break;
    }
    return found;
  }

  async function ourListings(connection: TargetConnectionRow): Promise<PushedListing[]> {
    const rows: (ListingRow & { remote_id: string | null; pushed_revision: number | null; publication_state: string | null; pushed_state: string | null })[] = await db('listings as l')
      .leftJoin('publications as p', (join) => join.on('p.listing_id', 'l.id').andOnVal('p.target_id', connection.target_id))
      .where('l.org_id', connection.org_id)
      .where((q) => q.whereNull('l.deleted_at').orWhereNotNull('p.remote_id'))
      // A live listing wins over a deleted one that had the same external_ref.
      .orderByRaw('l.deleted_at is null')
      .select('l.*', 'p.remote_id', 'p.pushed_revision', 'p.state as pushed_state');
    const byRef = new Map<string, PushedListing>();
    for (const row of rows) {
      const present = !row.deleted_at && row.status === 'active' && row.publication_state === 'published';
      byRef.set(row.external_ref, {
        listingId: row.id,
        externalRef: row.external_ref,
        present,
        fingerprint: present ? listingFingerprint(pushedListingBody(row)) : null,
        inSync: row.pushed_state === 'published' && row.pushed_revision === row.revision,
        remoteId: row.remote_id,
      });
    }
    return [...byRef.values()];
  }

  async function sweep(target: TargetRow, connection: TargetConnectionRow, repairId: string): Promise<DriftReport> {
    const report: DriftReport = { targetId: target.id, orgId: connection.org_id, remote: 0, repushed: 0, resynced: 0, deleted: 0, foreign: 0 };
    const apiKey = box.decrypt(connection.api_key_ciphertext as string);
    try {
      const remote = await remoteListings(target, apiKey);
      const plan = planDriftRepair(remote, await ourListings(connection));
      Object.assign(report, { remote: remote.length, foreign: plan.foreign });
      for (const stray of plan.deleteRemote) {
        const answer = await portal.json(target.base_url, 'DELETE', `api/v1/listings/${stray.remoteId}`, {
          headers: { 'X-API-Key': apiKey, 'Idempotency-Key': pushIdempotencyKey({ listingId: stray.remoteId, revision: 0, targetId: target.id, step: `drift-delete:${repairId}` }) },
        });
        if (answer.status < 300 || answer.status === 404) report.deleted += 1;
      }
      await db.transaction(async (trx) => {
        await owePublicationSyncs(trx, config, connection.org_id, plan.repush.map((listingId) => ({ listingId, targetId: target.id })), { repair: repairId });
        await owePublicationSyncs(trx, config, connection.org_id, plan.resync.map((listingId) => ({ listingId, targetId: target.id })));
        await trx('target_connections').where({ id: connection.id }).update({ last_swept_at: trx.fn.now() });
      });
      report.repushed = plan.repush.length;
      report.resynced = plan.resync.length;
    } catch (error) {
      report.error = error instanceof PortalUnreachableError ? `the target did not answer: ${error.message}` : (error as Error).message;
    }
    return report;
  }

  return {
    /** Sweeps every connection due for it; `repairId` keys this sweep's pushes. */
    async sweepDue(repairId: string): Promise<DriftReport[]> {
      const due: (TargetConnectionRow & { target: TargetRow })[] = await db('target_connections as c')
        .join('targets as t', 't.id', 'c.target_id')
        .whereNull('t.disabled_at')
        .where('c.status', 'connected')
        .whereNotNull('c.api_key_ciphertext')
        .where((q) => q.whereNull('c.last_swept_at').orWhereRaw('c.last_swept_at <= now() - make_interval(secs => ?)', [config.TARGET_DRIFT_SWEEP_INTERVAL / 1000]))
        .select('c.*', db.raw('row_to_json(t.*) as target'));
      const reports: DriftReport[] = [];
      for (const connection of due) {
        const target = { ...connection.target, disabled_at: null } as TargetRow;
        reports.push(await sweep(target, connection, repairId));
      }
      return reports;
    },
  };
}

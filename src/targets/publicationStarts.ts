import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { WorkflowStart } from '../domain/outbox';
import { BackfillInput, PUBLICATION_SIGNALS, PublicationInput, SyncRequest } from '../domain/publications';
import { parseRetrySchedule } from '../domain/webhookRetry';
import { workflowIds } from '../domain/workflowIds';
import { enqueueWorkflowStarts } from '../outbox/service';
import { taskQueues } from '../temporal/taskQueues';

export type PublicationStartConfig = Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'PUBLICATION_RETRY_SCHEDULE'>;

export interface PublicationPair {
  listingId: string;
  targetId: string;
}

/** Outbox rows are written this many at a time: a connect may owe every listing of an agency. */
const INSERT_CHUNK = 500;

/**
 * The outbox row that tells `publication:<listingId>:<targetId>` to bring the target up to date,
 * starting it when no run holds the id. Each is its own row (a fresh start key): the workflow
 * reads the listing as it is then, so two owed syncs cost at most one extra look.
 */
function syncStart(config: PublicationStartConfig, orgId: string, pair: PublicationPair, request: SyncRequest): WorkflowStart {
  const input: PublicationInput = { orgId, ...pair, retryScheduleMs: parseRetrySchedule(config.PUBLICATION_RETRY_SCHEDULE) };
  return {
    workflowType: 'publication',
    workflowId: workflowIds.publication(pair.listingId, pair.targetId),
    taskQueue: taskQueues(config).main,
    args: [input],
    searchAttributes: { OrgId: [orgId], ListingId: [pair.listingId], TargetId: [pair.targetId] },
    signal: { name: PUBLICATION_SIGNALS.sync, args: [request] },
    startKey: `sync:${randomUUID()}`,
  };
}

/** Owes, in the caller's transaction, one sync of each (listing, target) pair. */
export async function owePublicationSyncs(trx: Db, config: PublicationStartConfig, orgId: string, pairs: PublicationPair[], request: SyncRequest = {}): Promise<void> {
  for (let index = 0; index < pairs.length; index += INSERT_CHUNK) {
    await enqueueWorkflowStarts(trx, pairs.slice(index, index + INSERT_CHUNK).map((pair) => syncStart(config, orgId, pair, request)), orgId);
  }
}

/**
 * After a listing changed on Immoflow: a sync for every target the organisation is connected to,
 * and for every target still holding the listing (a disconnected one deletes it there).
 */
export async function oweSyncsForListings(trx: Db, config: PublicationStartConfig, orgId: string, listingIds: string[]): Promise<void> {
  if (listingIds.length === 0) return;
  const { rows } = await trx.raw<{ rows: { listing_id: string; target_id: string }[] }>(
    `select l.id as listing_id, c.target_id
       from unnest(?::uuid[]) as l(id)
       cross join target_connections c
       join targets t on t.id = c.target_id and t.disabled_at is null
      where c.org_id = ? and c.status = 'connected'
     union
     select p.listing_id, p.target_id from publications p
      where p.org_id = ? and p.listing_id = any(?::uuid[]) and p.remote_id is not null`,
    [listingIds, orgId, orgId, listingIds],
  );
  await owePublicationSyncs(trx, config, orgId, rows.map((row) => ({ listingId: row.listing_id, targetId: row.target_id })));
}

/**
 * After a connect or a disconnect (`eventId`: its `target.*` event): one backfill workflow brings
 * every listing of the organisation to the target (src/targets/backfill.ts).
 */
export async function oweConnectionBackfill(trx: Db, config: PublicationStartConfig, orgId: string, targetId: string, eventId: string): Promise<void> {
  const input: BackfillInput = { orgId, targetId, retryScheduleMs: parseRetrySchedule(config.PUBLICATION_RETRY_SCHEDULE) };
  await enqueueWorkflowStarts(
    trx,
    [
      {
        workflowType: 'publicationBackfill',
        workflowId: workflowIds.publicationBackfill(targetId, orgId, eventId),
        taskQueue: taskQueues(config).main,
        args: [input],
        searchAttributes: { OrgId: [orgId], TargetId: [targetId] },
      },
    ],
    orgId,
  );
}

import { withAttachments } from '../attachments/service';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { withImages } from '../images/service';
import type { ListingPublicDto, ListingPublicationDto } from './dto';

/** Fills in each listing's publications (one query for all of them), in target creation order. */
async function withPublications<T extends Pick<ListingPublicDto, 'id' | 'publications'>>(executor: Db, listings: T[]): Promise<T[]> {
  if (listings.length === 0) return listings;
  const rows: (ListingPublicationDto & { listing_id: string; published_at: Date | null })[] = await executor('publications as p')
    .join('targets as t', 't.id', 'p.target_id')
    .whereIn('p.listing_id', listings.map((listing) => listing.id))
    .orderBy('t.created_at')
    .select('p.listing_id', 'p.target_id', 'p.state', 'p.remote_id', 'p.published_at', 'p.failure_code');
  const byListing = new Map<string, ListingPublicationDto[]>();
  for (const row of rows) {
    const dto: ListingPublicationDto = { target_id: row.target_id, state: row.state, remote_id: row.remote_id, published_at: row.published_at?.toISOString() ?? null, failure_code: row.failure_code };
    byListing.set(row.listing_id, [...(byListing.get(row.listing_id) ?? []), dto]);
  }
  return listings.map((listing) => ({ ...listing, publications: byListing.get(listing.id) ?? [] }));
}

/** A listing DTO as every read answers it: with its gallery, its publications and its attachments. */
export async function withRelations<T extends ListingPublicDto>(executor: Db, config: Pick<Config, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT' | 'S3_BUCKET_IMAGES'>, listings: T[]): Promise<T[]> {
  return withAttachments(executor, config, await withPublications(executor, await withImages(executor, config, listings)));
}

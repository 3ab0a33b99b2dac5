import type { Db } from '../db/knex';
import type { GeoPrecision, GeocodeResult } from './types';

/** A cache entry: `result` is null when the provider found nothing for this address. */
export interface CachedGeocode {
  result: GeocodeResult | null;
  provider: string;
  createdAt: Date;
  hitCount: number;
}

interface GeocodeCacheRow {
  normalized_address: string;
  found: boolean;
  lat: number | null;
  lng: number | null;
  precision: GeoPrecision | null;
  provider: string;
  created_at: Date;
  hit_count: number;
}

export interface GeocodeCache {
  /** undefined: never geocoded. A hit counts itself in hit_count. */
  get(normalizedAddress: string): Promise<CachedGeocode | undefined>;
  /** Stores (or replaces) the answer for this address; null stores "not found". */
  put(normalizedAddress: string, result: GeocodeResult | null, provider: string): Promise<void>;
}

/** The Postgres table geocode_cache, keyed by normalizeAddress(address). */
export function createGeocodeCache(db: Db): GeocodeCache {
  return {
    async get(normalizedAddress) {
      const [row]: GeocodeCacheRow[] = await db('geocode_cache')
        .where({ normalized_address: normalizedAddress })
        .increment('hit_count', 1)
        .returning('*');
      if (!row) return undefined;
      const result: GeocodeResult | null =
        row.found && row.lat !== null && row.lng !== null && row.precision !== null
          ? { lat: row.lat, lng: row.lng, precision: row.precision, provider: row.provider }
          : null;
      return { result, provider: row.provider, createdAt: row.created_at, hitCount: row.hit_count };
    },

    async put(normalizedAddress, result, provider) {
      await db('geocode_cache')
        .insert({
          normalized_address: normalizedAddress,
          found: result !== null,
          lat: result?.lat ?? null,
          lng: result?.lng ?? null,
          precision: result?.precision ?? null,
          provider: result?.provider ?? provider,
        })
        .onConflict('normalized_address')
        .merge(['found', 'lat', 'lng', 'precision', 'provider']);
    },
  };
}

import { normalizeAddress, postalAddressOf, type PostalAddress } from '../src/domain/address';
import { createGeocodeCache } from '../src/geocoding/cache';
import { createGeocodingProvider } from '../src/geocoding';
import type { GeocodeResult, GeocodingProvider } from '../src/geocoding/types';
import type { ActivityDeps } from './deps';

/** An answer found without a request to a remote provider; `result` null is "not found". */
export interface KnownGeocode {
  result: GeocodeResult | null;
}

/**
 * The Postgres cache answers repeats (also "not found"), so a remote provider sees one request
 * per distinct normalised address. Provider errors propagate: GeocoderUnavailableError is
 * retried by Temporal, GeocoderRequestRejected is not.
 */
export function createGeocoder(deps: Pick<ActivityDeps, 'config' | 'db' | 'logger'> & { geocoder?: GeocodingProvider }) {
  const provider = deps.geocoder ?? createGeocodingProvider(deps.config);
  const cache = createGeocodeCache(deps.db);

  async function cached(key: string): Promise<KnownGeocode | undefined> {
    const entry = await cache.get(key);
    // Another provider's answer (e.g. offline city centroids before GEOCODER_URL was set) is not reused.
    if (!entry || entry.provider !== provider.name) return undefined;
    deps.logger.debug({ address: key, found: entry.result !== null, provider: entry.provider }, 'geocode cache hit');
    return { result: entry.result };
  }

  async function ask(postal: PostalAddress, key: string): Promise<GeocodeResult | null> {
    const result = await provider.geocode(postal);
    await cache.put(key, result, provider.name);
    deps.logger.debug({ address: key, found: result !== null, provider: provider.name }, 'geocoded');
    return result;
  }

  return {
    async geocode(address: PostalAddress): Promise<GeocodeResult | null> {
      const postal = postalAddressOf(address);
      const key = normalizeAddress(postal);
      const hit = await cached(key);
      return hit ? hit.result : ask(postal, key);
    },

    /**
     * The cache's answer, or an in-memory provider's: undefined when only a request to a remote
     * provider can tell, which then belongs on the rate-limited geocoding queue.
     */
    async geocodeWithoutRequest(address: PostalAddress): Promise<KnownGeocode | undefined> {
      const postal = postalAddressOf(address);
      const key = normalizeAddress(postal);
      const hit = await cached(key);
      if (hit || !provider.inMemory) return hit;
      return { result: await ask(postal, key) };
    },
  };
}

/** Runs on the rate-limited geocoding task queue. */
export function createGeocodingActivities(deps: Pick<ActivityDeps, 'config' | 'db' | 'logger'> & { geocoder?: GeocodingProvider }) {
  const geocoder = createGeocoder(deps);
  return {
    async geocodeAddress(address: PostalAddress): Promise<GeocodeResult | null> {
      return geocoder.geocode(address);
    },
  };
}

export type GeocodingActivities = ReturnType<typeof createGeocodingActivities>;

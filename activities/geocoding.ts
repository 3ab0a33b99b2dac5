import { normalizeAddress, postalAddressOf, type PostalAddress } from '../src/domain/address';
import { createGeocodeCache } from '../src/geocoding/cache';
import { createGeocodingProvider } from '../src/geocoding';
import type { GeocodeResult, GeocodingProvider } from '../src/geocoding/types';
import type { ActivityDeps } from './deps';

/**
 * Runs on the rate-limited geocoding task queue. The Postgres cache answers repeats (also "not
 * found"), so the provider sees one request per distinct normalised address. Provider errors
 * propagate: GeocoderUnavailableError is retried by Temporal, GeocoderRequestRejected is not.
 */
export function createGeocodingActivities(deps: Pick<ActivityDeps, 'config' | 'db' | 'logger'> & { geocoder?: GeocodingProvider }) {
  const geocoder = deps.geocoder ?? createGeocodingProvider(deps.config);
  const cache = createGeocodeCache(deps.db);
  return {
    async geocodeAddress(address: PostalAddress): Promise<GeocodeResult | null> {
      const postal = postalAddressOf(address);
      const key = normalizeAddress(postal);
      const cached = await cache.get(key);
      // Another provider's answer (e.g. offline city centroids before GEOCODER_URL was set) is not reused.
      if (cached && cached.provider === geocoder.name) {
        deps.logger.debug({ address: key, found: cached.result !== null, provider: cached.provider }, 'geocode cache hit');
        return cached.result;
      }
      const result = await geocoder.geocode(postal);
      await cache.put(key, result, geocoder.name);
      deps.logger.debug({ address: key, found: result !== null, provider: geocoder.name }, 'geocoded');
      return result;
    },
  };
}

export type GeocodingActivities = ReturnType<typeof createGeocodingActivities>;

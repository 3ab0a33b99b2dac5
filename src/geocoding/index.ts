import type { Config } from '../config';
import { createNominatimProvider } from './nominatimProvider';
import { createOfflineProvider } from './offlineProvider';
import type { GeocodingProvider } from './types';

export { createGeocodeCache } from './cache';
export type { CachedGeocode, GeocodeCache } from './cache';
export { NominatimProvider, createNominatimProvider } from './nominatimProvider';
export { OfflineGeocodingProvider, createOfflineProvider } from './offlineProvider';
export { GEOCODER_REQUEST_REJECTED, GeocoderRequestRejected, GeocoderUnavailableError } from './types';
export type { GeoPrecision, GeocodeResult, GeocodingProvider } from './types';

/** GEOCODER_URL set: that Nominatim-compatible server. Unset: the offline GeoNames town centroids. */
export function createGeocodingProvider(config: Pick<Config, 'GEOCODER_URL' | 'GEOCODER_USER_AGENT'>): GeocodingProvider {
  return config.GEOCODER_URL ? createNominatimProvider(config) : createOfflineProvider();
}

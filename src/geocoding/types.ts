import type { PostalAddress } from '../domain/address';

/** How exactly a coordinate locates the address: the building, the street, the postcode area or the town. */
export type GeoPrecision = 'rooftop' | 'street' | 'postcode' | 'city';

export const GEO_PRECISIONS: readonly GeoPrecision[] = ['rooftop', 'street', 'postcode', 'city'];

export interface GeocodeResult {
  lat: number;
  lng: number;
  precision: GeoPrecision;
  provider: string;
}

export interface GeocodingProvider {
  readonly name: string;
  /**
   * Answers from memory, with no request and no rate limit: its answers need neither the
   * rate-limited geocoding queue nor a separate activity.
   */
  readonly inMemory: boolean;
  /** null: the provider knows no such place. Throws GeocoderUnavailableError for transient failures. */
  geocode(address: PostalAddress): Promise<GeocodeResult | null>;
}

/**
 * Transient: HTTP 5xx, 429, a timeout or a network error. The activity fails and Temporal
 * retries it with backoff. Its class name is the failure type Temporal records.
 */
export class GeocoderUnavailableError extends Error {
  override name = 'GeocoderUnavailableError';
}

/**
 * The provider refused the request (HTTP 4xx other than 429): retrying it cannot help, so the
 * workflow lists this name in nonRetryableErrorTypes. It is a class of that exact name, not a
 * plain Error with `name` set: Temporal (1.24, ensureApplicationFailure) takes an activity
 * error's failure type from `error.constructor.name` before `error.name`, so a plain Error
 * would be recorded as type 'Error' and be retried like any other failure.
 */
export const GEOCODER_REQUEST_REJECTED = 'GeocoderRequestRejected';

export class GeocoderRequestRejected extends Error {
  override name = GEOCODER_REQUEST_REJECTED;
}

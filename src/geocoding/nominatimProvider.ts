import type { Config } from '../config';
import type { PostalAddress } from '../domain/address';
import { GeoPrecision, GeocodeResult, GeocoderRequestRejected, GeocoderUnavailableError, GeocodingProvider } from './types';

/**
 * A Nominatim-compatible HTTP geocoder (nominatim.openstreetmap.org, a self-hosted Nominatim,
 * or anything speaking its /search API). One structured query per call, no sleeps: the
 * provider's rate limit is enforced by the geocoding task queue (maxTaskQueueActivitiesPerSecond).
 */
export interface NominatimProviderOptions {
  baseUrl: string;
  /** Nominatim's usage policy requires an identifying User-Agent. */
  userAgent: string;
  timeoutMs?: number;
}

/** The fields of a jsonv2 search hit this provider reads. */
interface NominatimHit {
  lat?: string | number;
  lon?: string | number;
  category?: string;
  class?: string;
  type?: string;
  addresstype?: string;
}

export const NOMINATIM_TIMEOUT_MS = 10_000;

const clean = (text: string | null | undefined): string => (text ?? '').trim().replace(/\s+/g, ' ');

/** The query parameters of a structured search; empty address parts are left out. */
export function nominatimSearchParams(address: PostalAddress): URLSearchParams | null {
  const street = clean(address.street);
  const houseNumber = clean(address.house_number);
  const postcode = clean(address.zip_code);
  const city = clean(address.city);
  if (!street && !postcode && !city) return null;
  const params = new URLSearchParams({ format: 'jsonv2', limit: '1', addressdetails: '0' });
  // Nominatim's structured `street` is "<housenumber> <streetname>".
  if (street) params.set('street', houseNumber ? `${houseNumber} ${street}` : street);
  if (postcode) params.set('postalcode', postcode);
  if (city) params.set('city', city);
  const country = clean(address.country).toLowerCase();
  if (country) params.set('countrycodes', country);
  return params;
}

const BUILDING_TYPES = new Set(['house', 'building']);
const STREET_TYPES = new Set(['road', 'street']);

/** How exact a hit is, from Nominatim's addresstype (newer servers) or type/category. */
export function nominatimPrecision(hit: NominatimHit, address: PostalAddress): GeoPrecision {
  const kinds = [hit.addresstype, hit.type].filter((kind): kind is string => typeof kind === 'string');
  const category = hit.category ?? hit.class;
  if (kinds.some((kind) => BUILDING_TYPES.has(kind)) || category === 'building') {
    // A building only counts as the address's rooftop when a house number was asked for.
    return clean(address.house_number) ? 'rooftop' : 'street';
  }
  if (kinds.some((kind) => STREET_TYPES.has(kind)) || category === 'highway') return 'street';
  if (kinds.includes('postcode')) return 'postcode';
  return 'city';
}

export class NominatimProvider implements GeocodingProvider {
  readonly name = 'nominatim';
  readonly inMemory = false;
  private readonly searchUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: NominatimProviderOptions) {
    this.searchUrl = `${options.baseUrl.replace(/\/+$/, '')}/search`;
    this.timeoutMs = options.timeoutMs ?? NOMINATIM_TIMEOUT_MS;
  }

  async geocode(address: PostalAddress): Promise<GeocodeResult | null> {
    const params = nominatimSearchParams(address);
    if (!params) return null;
    const url = `${this.searchUrl}?${params}`;

    let response: Response;
    try {
      response = await fetch(url, {
        headers: { 'User-Agent': this.options.userAgent, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // Timeout (AbortSignal), refused connection, DNS, reset: all worth a retry.
      throw new GeocoderUnavailableError(`geocoder unreachable: ${describe(error)}`, { cause: error });
    }

    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      throw new GeocoderUnavailableError(`geocoder answered HTTP ${response.status}`);
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, 200);
      throw new GeocoderRequestRejected(`geocoder rejected the request with HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
    }

    let hits: unknown;
    try {
      hits = await response.json();
    } catch (error) {
      // A proxy's HTML error page or a cut-off body: the provider misbehaved, try again later.
      throw new GeocoderUnavailableError(`geocoder sent a body that is not JSON: ${describe(error)}`, { cause: error });
    }
    if (!Array.isArray(hits)) throw new GeocoderUnavailableError('geocoder sent JSON that is not a result array');
    if (hits.length === 0) return null;

    const hit = hits[0] as NominatimHit;
    const lat = Number(hit.lat);
    const lng = Number(hit.lon);
    if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) {
      throw new GeocoderUnavailableError(`geocoder sent a hit without valid coordinates: ${JSON.stringify(hit).slice(0, 200)}`);
    }
    return { lat, lng, precision: nominatimPrecision(hit, address), provider: this.name };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : `${error.name}: ${error.message}`;
  }
  return String(error);
}

export function createNominatimProvider(config: Pick<Config, 'GEOCODER_URL' | 'GEOCODER_USER_AGENT'>, timeoutMs?: number): NominatimProvider {
  if (!config.GEOCODER_URL) throw new Error('GEOCODER_URL is not set');
  return new NominatimProvider({ baseUrl: config.GEOCODER_URL, userAgent: config.GEOCODER_USER_AGENT, timeoutMs });
}

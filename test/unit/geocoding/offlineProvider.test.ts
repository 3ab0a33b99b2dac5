import { OfflineGeocodingProvider, buildCountryIndex, normalizePlaceName } from '../../../src/geocoding/offlineProvider';
import { createGeocodingProvider } from '../../../src/geocoding';
import { NominatimProvider } from '../../../src/geocoding/nominatimProvider';
import type { GeocodeResult } from '../../../src/geocoding/types';

/** Great-circle distance in km. */
function distanceKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = (deg: number) => (deg * Math.PI) / 180;
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lng - a.lng) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

function expectNear(result: GeocodeResult | null, expected: { lat: number; lng: number }, km: number): void {
  expect(result).not.toBeNull();
  expect(distanceKm(result!, expected)).toBeLessThan(km);
}

describe('the offline provider on the real GeoNames dataset', () => {
  const provider = new OfflineGeocodingProvider();

  it('resolves 10115 Berlin to the centre of Berlin with precision city and never reaches the network', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    try {
      const result = await provider.geocode({ street: 'Invalidenstraße', house_number: '117', zip_code: '10115', city: 'Berlin', country: 'DE' });
      expectNear(result, { lat: 52.53, lng: 13.38 }, 5);
      expect(result).toMatchObject({ precision: 'city', provider: 'offline-geonames' });
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('matches town names whatever their case, umlauts or transliteration', async () => {
    const munich = { lat: 48.137, lng: 11.575 };
    for (const city of ['München', 'MÜNCHEN', 'muenchen', ' Munchen ']) {
      expectNear(await provider.geocode({ city, country: 'DE' }), munich, 3);
    }
    expectNear(await provider.geocode({ city: 'Köln', country: 'de' }), { lat: 50.94, lng: 6.96 }, 3);
  });

  it('finds a town by an alternate name and prefers the larger of two homonyms', async () => {
    // "Frankfurt" is an alternate name of both Frankfurt am Main and Frankfurt (Oder).
    expectNear(await provider.geocode({ city: 'Frankfurt', country: 'DE' }), { lat: 50.11, lng: 8.68 }, 5);
    expectNear(await provider.geocode({ city: 'Frankfurt (Oder)', country: 'DE' }), { lat: 52.35, lng: 14.55 }, 5);
  });

  it('falls back from "Town-District" to the town only when that name is unambiguous', async () => {
    expectNear(await provider.geocode({ city: 'Hamburg-Xyzzy', country: 'DE' }), { lat: 53.55, lng: 10.0 }, 5);
    expectNear(await provider.geocode({ city: 'Potsdam / Babelsberg', country: 'DE' }), { lat: 52.4, lng: 13.07 }, 5);
    // A dozen German towns are called Neustadt-something: no guess.
    expect(await provider.geocode({ city: 'Neustadt-Xyzzy', country: 'DE' })).toBeNull();
  });

  it('answers null for an unknown place, a place in another country or no town at all', async () => {
    expect(await provider.geocode({ city: 'Xyzzyhausen', zip_code: '99999', country: 'DE' })).toBeNull();
    expect(await provider.geocode({ city: 'Berlin', country: 'FR' })).toBeNull();
    expect(await provider.geocode({ street: 'Invalidenstraße', zip_code: '10115', city: null, country: 'DE' })).toBeNull();
    expect(await provider.geocode({ city: 'Berlin', country: 'Germany' })).toBeNull();
  });
});

describe('the offline index', () => {
  // Columns of GeoNames' geoname table; only id, names, coordinates, feature code, country and population matter.
  const row = (id: number, name: string, ascii: string, alternates: string, lat: number, lng: number, featureCode: string, country: string, population: number, altCountry = '') =>
    [id, name, ascii, alternates, lat, lng, 'P', featureCode, country, altCountry, '', '', '', '', population, '', '', 'Europe/Berlin', '2013-01-01'].join('\t');
  const text = [
    row(1, 'Großstadt an der Spree', 'Grossstadt an der Spree', 'Grossstadt,Großstadt/Spree', 52, 13, 'PPL', 'DE', 500_000),
    row(2, 'Großstadt', 'Grossstadt', '', 50, 10, 'PPL', 'DE', 2_000),
    row(3, 'Altstadt', 'Altstadt', 'Grossstadt', 51, 11, 'PPLX', 'DE', 900_000),
    row(4, 'Dorf', 'Dorf', 'Kleinort', 49, 9, 'PPL', 'DE', 1_500),
    row(5, 'Dorf', 'Dorf', '', 48, 8, 'PPL', 'DE', 3_000),
    row(6, 'Dorf', 'Dorf', '', 47, 7, 'PPL', 'AT', 90_000),
    // Its second country code is DE; it is still an Austrian place.
    row(7, 'Grenzort', 'Grenzort', '', 47.5, 12, 'PPL', 'AT', 5_000, 'DE'),
    '',
  ].join('\n');
  const places = buildCountryIndex(text, 'DE');

  it('keeps only the requested country', () => {
    expect(places.get('dorf')).toMatchObject({ lat: 48, lng: 8, population: 3_000 });
    expect(places.get('grenzort')).toBeUndefined();
    expect(buildCountryIndex(text, 'AT').get('grenzort')).toMatchObject({ lat: 47.5, lng: 12 });
  });

  it('prefers a town named so over a town that only has it as an alternate name, and towns over districts', () => {
    expect(places.get('grossstadt')).toMatchObject({ lat: 50, lng: 10, tier: 0, ambiguous: true });
    expect(places.get('grossstadt spree')).toMatchObject({ lat: 52, tier: 1, ambiguous: false });
    expect(places.get('altstadt')).toMatchObject({ lat: 51, tier: 2 });
  });

  it('marks a name two places answer to as ambiguous, and a name one place has twice as not', () => {
    expect(places.get('dorf')!.ambiguous).toBe(true);
    expect(places.get('kleinort')!.ambiguous).toBe(false);
    expect(places.get('grossstadt an der spree')!.ambiguous).toBe(false);
  });

  it('normalises names the way people type them', () => {
    expect(normalizePlaceName('  Großstadt/Spree ')).toBe('grossstadt spree');
    expect(normalizePlaceName('Frankfurt (Oder)')).toBe('frankfurt oder');
    expect(normalizePlaceName('Zwönitz')).toBe('zwonitz');
    expect(normalizePlaceName('Берлин')).toBe('');
  });
});

describe('createGeocodingProvider', () => {
  it('uses Nominatim when GEOCODER_URL is set and the offline dataset otherwise', () => {
    expect(createGeocodingProvider({ GEOCODER_URL: 'http://127.0.0.1:9/', GEOCODER_USER_AGENT: 'Test/1.0' })).toBeInstanceOf(NominatimProvider);
    expect(createGeocodingProvider({ GEOCODER_URL: undefined, GEOCODER_USER_AGENT: 'Test/1.0' })).toBeInstanceOf(OfflineGeocodingProvider);
  });
});

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureApplicationFailure } from '@temporalio/common';
import { createGeocoder, createGeocodingActivities } from '../../activities/geocoding';
import type { PostalAddress } from '../../src/domain/address';
import { normalizeAddress } from '../../src/domain/address';
import { createGeocodeCache } from '../../src/geocoding/cache';
import { NominatimProvider } from '../../src/geocoding/nominatimProvider';
import { GEOCODER_REQUEST_REJECTED, GeocoderRequestRejected, GeocoderUnavailableError } from '../../src/geocoding/types';
import { TestContext, createTestContext } from '../support/context';

/**
 * The geocoding activity against a fake Nominatim on loopback and the real Postgres cache:
 * what is sent, how answers map to precision, which failures are retryable, and that the
 * cache spares the provider a second request for the same address however it is spelled.
 */

interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  userAgent: string | undefined;
}

/** body is sent as JSON, raw as it is. */
type Reply = { status: number; body?: unknown; raw?: string; delayMs?: number };

interface FakeGeocoder {
  url: string;
  requests: RecordedRequest[];
  /** How the next requests are answered. */
  reply: (request: RecordedRequest) => Reply;
  close(): Promise<void>;
}

const BUILDING_HIT = { lat: '52.5321', lon: '13.3849', category: 'building', type: 'yes', addresstype: 'building', display_name: 'Beispielstraße 12, Berlin' };
const hit = (fields: Record<string, string>) => ({ lat: '52.5', lon: '13.4', display_name: 'x', ...fields });

async function startFakeGeocoder(): Promise<FakeGeocoder> {
  const fake: Omit<FakeGeocoder, 'url' | 'close'> = { requests: [], reply: () => ({ status: 200, body: [BUILDING_HIT] }) };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const request = { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), userAgent: req.headers['user-agent'] };
    fake.requests.push(request);
    const { status, body, raw, delayMs } = fake.reply(request);
    const timer = setTimeout(() => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(raw ?? (body === undefined ? '' : JSON.stringify(body)));
    }, delayMs ?? 0);
    // A client that gave up (timeout) closes the connection: no answer, no timer left behind.
    res.on('close', () => clearTimeout(timer));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const USER_AGENT = 'ImmoflowTest/1.0 (+mailto:geo-test@example.com)';
let fake: FakeGeocoder;
let ctx: TestContext;
let activities: ReturnType<typeof createGeocodingActivities>;

beforeAll(async () => {
  fake = await startFakeGeocoder();
  ctx = await createTestContext({ GEOCODER_URL: `${fake.url}/`, GEOCODER_USER_AGENT: USER_AGENT });
  // No geocoder injected: the activity builds the Nominatim provider from GEOCODER_URL itself.
  activities = createGeocodingActivities(ctx.deps);
});

afterAll(async () => {
  await ctx.close();
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
  fake.reply = () => ({ status: 200, body: [BUILDING_HIT] });
});

/** An address no other test uses, so the shared cache table starts empty for it. */
function uniqueAddress(overrides: Partial<PostalAddress> = {}): PostalAddress {
  const tag = randomUUID().slice(0, 8);
  return { street: `Beispiel${tag}straße`, house_number: '12', zip_code: '10115', city: 'Berlin', country: 'DE', ...overrides };
}

const cacheRow = (address: PostalAddress) => ctx.deps.db('geocode_cache').where({ normalized_address: normalizeAddress(address) }).first();

it('sends one structured jsonv2 search with the identifying User-Agent and maps a building to rooftop', async () => {
  const address = uniqueAddress();
  const result = await activities.geocodeAddress(address);

  expect(result).toEqual({ lat: 52.5321, lng: 13.3849, precision: 'rooftop', provider: 'nominatim' });
  expect(fake.requests).toEqual([
    {
      method: 'GET',
      path: '/search',
      query: {
        format: 'jsonv2',
        limit: '1',
        addressdetails: '0',
        street: `12 ${address.street}`,
        postalcode: '10115',
        city: 'Berlin',
        countrycodes: 'de',
      },
      userAgent: USER_AGENT,
    },
  ]);
  expect(await cacheRow(address)).toMatchObject({ found: true, lat: 52.5321, lng: 13.3849, precision: 'rooftop', provider: 'nominatim', hit_count: 0 });
});

it('answers the same address spelled differently from the cache: the provider sees exactly one request', async () => {
  const tag = randomUUID().slice(0, 8);
  const first = await activities.geocodeAddress({ street: `Beispiel${tag}straße`, house_number: '12', zip_code: '10115', city: 'Berlin', country: 'DE' });
  const second = await activities.geocodeAddress({ street: `BEISPIEL${tag.toUpperCase()}STR.`, house_number: ' 12 ', zip_code: '10115', city: 'berlin', country: 'de' });
  const third = await activities.geocodeAddress({ street: `beispiel${tag}str`, house_number: '12', zip_code: '10115', city: 'BERLIN', country: 'DE' });

  expect(fake.requests).toHaveLength(1);
  expect(second).toEqual(first);
  expect(third).toEqual(first);
  const row = await cacheRow({ street: `Beispiel${tag}straße`, house_number: '12', zip_code: '10115', city: 'Berlin', country: 'DE' });
  expect(row.hit_count).toBe(2);
});

it('maps Nominatim address types to precision', async () => {
  const provider = new NominatimProvider({ baseUrl: fake.url, userAgent: USER_AGENT });
  const cases: [Record<string, string>, Partial<PostalAddress>, string][] = [
    [{ category: 'building', type: 'apartments', addresstype: 'building' }, {}, 'rooftop'],
    [{ category: 'place', type: 'house', addresstype: 'place' }, {}, 'rooftop'],
    // A building found for a street without a house number locates the street, not the address.
    [{ category: 'building', type: 'yes', addresstype: 'building' }, { house_number: null }, 'street'],
    [{ category: 'highway', type: 'residential', addresstype: 'road' }, {}, 'street'],
    [{ category: 'place', type: 'postcode', addresstype: 'postcode' }, {}, 'postcode'],
    [{ category: 'boundary', type: 'administrative', addresstype: 'city' }, {}, 'city'],
    [{ category: 'place', type: 'suburb', addresstype: 'suburb' }, {}, 'city'],
  ];
  for (const [fields, overrides, precision] of cases) {
    fake.reply = () => ({ status: 200, body: [hit(fields)] });
    const result = await provider.geocode(uniqueAddress(overrides));
    expect({ fields, precision: result?.precision }).toEqual({ fields, precision });
  }
  expect(fake.requests).toHaveLength(cases.length);
  // Without a house number the street is sent alone.
  expect(fake.requests[2].query.street).toMatch(/^Beispiel\w+straße$/);
});

it('leaves out empty address parts and does not ask at all when there is nothing to search for', async () => {
  const provider = new NominatimProvider({ baseUrl: fake.url, userAgent: USER_AGENT });
  await provider.geocode({ street: null, house_number: '5', zip_code: '10115', city: '', country: 'DE' });
  expect(fake.requests[0].query).toEqual({ format: 'jsonv2', limit: '1', addressdetails: '0', postalcode: '10115', countrycodes: 'de' });

  await provider.geocode({ street: 'Invalidenstraße', house_number: null, zip_code: '  ', city: 'Berlin', country: 'DE' });
  expect(fake.requests[1].query).toEqual({ format: 'jsonv2', limit: '1', addressdetails: '0', street: 'Invalidenstraße', city: 'Berlin', countrycodes: 'de' });

  expect(await provider.geocode({ street: ' ', house_number: '5', zip_code: null, city: null, country: 'DE' })).toBeNull();
  expect(fake.requests).toHaveLength(2);
});

it('caches "not found" too, so an unknown address is asked only once', async () => {
  fake.reply = () => ({ status: 200, body: [] });
  const address = uniqueAddress({ city: 'Nirgendwo' });

  expect(await activities.geocodeAddress(address)).toBeNull();
  expect(await cacheRow(address)).toMatchObject({ found: false, lat: null, lng: null, precision: null, provider: 'nominatim' });
  expect(await activities.geocodeAddress({ ...address, city: 'NIRGENDWO' })).toBeNull();
  expect(fake.requests).toHaveLength(1);
});

it('throws GeocoderUnavailableError on 503, 429 and a broken body, caches nothing, and asks again next time', async () => {
  const address = uniqueAddress();
  const replies: Reply[] = [
    { status: 503, body: { error: 'overloaded' } },
    { status: 429 },
    { status: 200, raw: '<html>Bad gateway</html>' },
    { status: 200, body: { error: 'not a result array' } },
  ];
  for (const reply of replies) {
    fake.reply = () => reply;
    const error = await activities.geocodeAddress(address).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GeocoderUnavailableError);
    // Temporal records the class name as the failure type: retryable, not in nonRetryableErrorTypes.
    expect(ensureApplicationFailure(error)).toMatchObject({ type: 'GeocoderUnavailableError', nonRetryable: false });
  }
  expect(fake.requests).toHaveLength(4);
  expect(await cacheRow(address)).toBeUndefined();

  fake.reply = () => ({ status: 200, body: [BUILDING_HIT] });
  expect(await activities.geocodeAddress(address)).toMatchObject({ precision: 'rooftop' });
  expect(fake.requests).toHaveLength(5);
});

it('throws GeocoderUnavailableError when the provider is unreachable or too slow', async () => {
  const closed = await startFakeGeocoder();
  const closedUrl = closed.url;
  await closed.close();
  await expect(new NominatimProvider({ baseUrl: closedUrl, userAgent: USER_AGENT }).geocode(uniqueAddress())).rejects.toBeInstanceOf(GeocoderUnavailableError);

  fake.reply = () => ({ status: 200, body: [BUILDING_HIT], delayMs: 2_000 });
  const slow = new NominatimProvider({ baseUrl: fake.url, userAgent: USER_AGENT, timeoutMs: 200 });
  const started = Date.now();
  await expect(slow.geocode(uniqueAddress())).rejects.toBeInstanceOf(GeocoderUnavailableError);
  expect(Date.now() - started).toBeLessThan(1_500);
});

it('throws a non-retryable GeocoderRequestRejected on 400 and caches nothing', async () => {
  fake.reply = () => ({ status: 400, body: { error: { code: 400, message: 'Parameter countrycodes invalid' } } });
  const address = uniqueAddress();
  const error = await activities.geocodeAddress(address).catch((caught: unknown) => caught);

  expect(error).toBeInstanceOf(GeocoderRequestRejected);
  expect(error).not.toBeInstanceOf(GeocoderUnavailableError);
  expect((error as Error).name).toBe('GeocoderRequestRejected');
  expect((error as Error).message).toContain('400');
  // The type Temporal's worker records for this error is what the workflow's nonRetryableErrorTypes lists.
  expect(ensureApplicationFailure(error).type).toBe(GEOCODER_REQUEST_REJECTED);
  expect(await cacheRow(address)).toBeUndefined();
});

it('uses the offline dataset when GEOCODER_URL is unset, through the same cache', async () => {
  const offline = createGeocodingActivities({ ...ctx.deps, config: { ...ctx.deps.config, GEOCODER_URL: undefined } });
  const address = uniqueAddress({ city: 'Hamburg', zip_code: '20095' });

  const result = await offline.geocodeAddress(address);
  expect(result).toMatchObject({ precision: 'city', provider: 'offline-geonames' });
  expect(result!.lat).toBeCloseTo(53.55, 1);
  expect(result!.lng).toBeCloseTo(10.0, 1);
  expect(await cacheRow(address)).toMatchObject({ found: true, provider: 'offline-geonames' });
  expect(fake.requests).toHaveLength(0);
});

it('prefers an injected provider and geocodes only the address fields of a whole listing', async () => {
  const seen: PostalAddress[] = [];
  const activitiesWithStub = createGeocodingActivities({
    ...ctx.deps,
    geocoder: { name: 'stub', inMemory: false, geocode: async (address) => (seen.push(address), { lat: 1, lng: 2, precision: 'street', provider: 'stub' }) },
  });
  const listing = { ...uniqueAddress(), id: randomUUID(), title: 'Helle Wohnung', rent_cold: 980 };
  expect(await activitiesWithStub.geocodeAddress(listing)).toEqual({ lat: 1, lng: 2, precision: 'street', provider: 'stub' });
  expect(seen).toEqual([{ street: listing.street, house_number: '12', zip_code: '10115', city: 'Berlin', country: 'DE' }]);
  expect(fake.requests).toHaveLength(0);
});

it('the cache replaces an earlier answer for the same address and keeps its hit count', async () => {
  const cache = createGeocodeCache(ctx.deps.db);
  const key = normalizeAddress(uniqueAddress());
  expect(await cache.get(key)).toBeUndefined();

  await cache.put(key, null, 'nominatim');
  expect(await cache.get(key)).toMatchObject({ result: null, provider: 'nominatim', hitCount: 1 });

  const found = { lat: 52.1, lng: 13.2, precision: 'street' as const, provider: 'nominatim' };
  await cache.put(key, found, 'nominatim');
  expect(await cache.get(key)).toMatchObject({ result: found, provider: 'nominatim', hitCount: 2 });
  expect(await ctx.deps.db('geocode_cache').where({ normalized_address: key }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
});

describe('geocodeWithoutRequest (the listing pipeline asks it first)', () => {
  it('answers a remote provider\'s cached address, "not found" included, and leaves a miss to the geocoding queue', async () => {
    const geocoder = createGeocoder(ctx.deps);
    const address = uniqueAddress();
    expect(await geocoder.geocodeWithoutRequest(address)).toBeUndefined();
    expect(fake.requests).toHaveLength(0);

    fake.reply = () => ({ status: 200, body: [] });
    expect(await geocoder.geocode(address)).toBeNull();
    expect(await geocoder.geocodeWithoutRequest(address)).toEqual({ result: null });
    expect(fake.requests).toHaveLength(1);
  });

  it('asks an in-memory provider directly and caches its answer', async () => {
    const offline = createGeocoder({ ...ctx.deps, config: { ...ctx.deps.config, GEOCODER_URL: undefined } });
    const address = uniqueAddress({ city: 'Köln', zip_code: '50667' });
    expect(await offline.geocodeWithoutRequest(address)).toEqual({ result: expect.objectContaining({ precision: 'city', provider: 'offline-geonames' }) });
    expect(await cacheRow(address)).toMatchObject({ found: true, provider: 'offline-geonames' });
    expect(fake.requests).toHaveLength(0);
  });
});

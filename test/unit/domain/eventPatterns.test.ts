import { matchesEventPattern, patternsMatching, validateEventPatterns } from '../../../src/domain/eventPatterns';
import { EVENT_NAMES } from '../../../src/domain/events';

describe('matchesEventPattern', () => {
  it('matches an exact name only against itself', () => {
    expect(matchesEventPattern('listing.created', 'listing.created')).toBe(true);
    expect(matchesEventPattern('listing.created', 'listing.updated')).toBe(false);
    expect(matchesEventPattern('listing.created', 'listing.created.extra')).toBe(false);
    expect(matchesEventPattern('listing', 'listing.created')).toBe(false);
  });

  it('* matches every known event', () => {
    for (const name of EVENT_NAMES) expect(matchesEventPattern('*', name)).toBe(true);
  });

  it('prefix.* matches direct and nested children', () => {
    expect(matchesEventPattern('listing.*', 'listing.created')).toBe(true);
    expect(matchesEventPattern('listing.*', 'listing.image.uploaded')).toBe(true);
    expect(matchesEventPattern('listing.image.*', 'listing.image.uploaded')).toBe(true);
  });

  it('prefix.* matches exactly the known events in that namespace', () => {
    expect(EVENT_NAMES.filter((name) => matchesEventPattern('listing.*', name))).toEqual([
      'listing.created',
      'listing.updated',
      'listing.published',
      'listing.deleted',
      'listing.moderated',
      'listing.image.uploaded',
      'listing.image.deleted',
    ]);
    expect(EVENT_NAMES.filter((name) => matchesEventPattern('publication.*', name))).toEqual([
      'publication.succeeded',
      'publication.failed',
    ]);
  });

  it('prefix.* does not match the bare prefix, a longer sibling namespace, or other namespaces', () => {
    expect(matchesEventPattern('listing.*', 'listing')).toBe(false);
    expect(matchesEventPattern('listing.*', 'listing.')).toBe(false);
    expect(matchesEventPattern('listing.*', 'listings.created')).toBe(false);
    expect(matchesEventPattern('listing.*', 'property.processing_failed')).toBe(false);
    expect(matchesEventPattern('listing.image.*', 'listing.created')).toBe(false);
  });

  it('does not treat other wildcard positions as wildcards', () => {
    expect(matchesEventPattern('*.created', 'listing.created')).toBe(false);
    expect(matchesEventPattern('listing*', 'listing.created')).toBe(false);
    expect(matchesEventPattern('listing.*.uploaded', 'listing.image.uploaded')).toBe(false);
    expect(matchesEventPattern('.*', 'listing.created')).toBe(false);
    expect(matchesEventPattern('*.*', 'listing.created')).toBe(false);
  });

  it('is case-sensitive and does not trim', () => {
    expect(matchesEventPattern('Listing.created', 'listing.created')).toBe(false);
    expect(matchesEventPattern('LISTING.*', 'listing.created')).toBe(false);
    expect(matchesEventPattern(' listing.created', 'listing.created')).toBe(false);
  });
});

describe('validateEventPatterns', () => {
  it('accepts *, every known name and namespaces that exist', () => {
    expect(
      validateEventPatterns(['*', ...EVENT_NAMES, 'listing.*', 'listing.image.*', 'request.*', 'appointment.*'], EVENT_NAMES),
    ).toEqual({ invalid: [] });
  });

  it('accepts an empty list', () => {
    expect(validateEventPatterns([], EVENT_NAMES)).toEqual({ invalid: [] });
  });

  it('reports unknown names and namespaces in input order', () => {
    expect(
      validateEventPatterns(['listing.created', 'listing.exploded', 'foo.*', 'listing.*', 'listing.created.*'], EVENT_NAMES),
    ).toEqual({ invalid: ['listing.exploded', 'foo.*', 'listing.created.*'] });
  });

  it('rejects unsupported wildcard shapes and near-misses', () => {
    const patterns = ['', ' ', '**', '.*', '*.*', '*.created', 'listing*', 'listing.', 'listing', 'listings.*', 'Listing.*', 'listing.created ', 'listing.*.uploaded'];
    expect(validateEventPatterns(patterns, EVENT_NAMES)).toEqual({ invalid: patterns });
  });

  it('reports a repeated invalid pattern once', () => {
    expect(validateEventPatterns(['nope', 'listing.created', 'nope'], EVENT_NAMES)).toEqual({ invalid: ['nope'] });
  });

  it('checks against the list it is given', () => {
    expect(validateEventPatterns(['listing.*', 'custom.thing'], ['custom.thing'])).toEqual({ invalid: ['listing.*'] });
    expect(validateEventPatterns(['custom.*'], ['custom.thing'])).toEqual({ invalid: [] });
  });
});

describe('patternsMatching', () => {
  it('lists *, the name and each prefix wildcard', () => {
    expect(patternsMatching('listing.image.uploaded')).toEqual(['*', 'listing.image.uploaded', 'listing.*', 'listing.image.*']);
    expect(patternsMatching('listing.created')).toEqual(['*', 'listing.created', 'listing.*']);
  });

  it('agrees with matchesEventPattern for every known event and every valid pattern', () => {
    const candidates = new Set<string>(['*', 'listing', 'listings.*', '*.created', 'listing*']);
    for (const name of EVENT_NAMES) {
      candidates.add(name);
      const segments = name.split('.');
      for (let index = 1; index <= segments.length; index += 1) candidates.add(`${segments.slice(0, index).join('.')}.*`);
    }
    for (const name of EVENT_NAMES) {
      const listed = new Set(patternsMatching(name));
      for (const pattern of candidates) expect([pattern, name, listed.has(pattern)]).toEqual([pattern, name, matchesEventPattern(pattern, name)]);
    }
  });
});

import {
  ALL_SCOPES,
  effectiveScopes,
  SCOPE_ACTIONS,
  SCOPE_RESOURCES,
  isValidScope,
  normalizeScopes,
  scopeGrants,
  type Scope,
} from '../../../src/domain/scopes';

describe('isValidScope', () => {
  it.each(['listings:read', 'listings:write', 'listings:delete', 'webhooks:write', 'api_keys:delete', 'requests:read', '*:read', '*:delete'])(
    'accepts %s',
    (text) => {
      expect(isValidScope(text)).toBe(true);
    },
  );

  it('accepts every resource with every action', () => {
    for (const resource of SCOPE_RESOURCES) {
      for (const action of SCOPE_ACTIONS) expect(isValidScope(`${resource}:${action}`)).toBe(true);
    }
  });

  it.each([
    '',
    'listings',
    'listings:',
    ':read',
    'listings:admin',
    'listings:READ',
    'Listings:read',
    'LISTINGS:read',
    'listing:read', // singular: not a known resource
    'unknown:read', // matches the shape but names no resource
    'users:delete',
    ' listings:read',
    'listings:read ',
    'listings:read\n',
    'listings :read',
    'listings:read:write',
    'listings:read,listings:write',
    '**:read',
    '*:*',
    'listings:*',
    'api-keys:read',
  ])('rejects %j', (text) => {
    expect(isValidScope(text)).toBe(false);
  });
});

describe('ALL_SCOPES', () => {
  it('is the delete scope of every resource, and nothing else', () => {
    expect(ALL_SCOPES).toEqual([
      'listings:delete',
      'webhooks:delete',
      'events:delete',
      'api_keys:delete',
      'partners:delete',
      'requests:delete',
      'targets:delete',
    ]);
  });

  it('grants every action on every resource', () => {
    for (const resource of SCOPE_RESOURCES) {
      for (const action of SCOPE_ACTIONS) expect(scopeGrants(ALL_SCOPES, `${resource}:${action}`)).toBe(true);
    }
  });
});

describe('scopeGrants', () => {
  describe('action order: delete ⊃ write ⊃ read', () => {
    it.each<[string, Scope, boolean]>([
      ['listings:read', 'listings:read', true],
      ['listings:read', 'listings:write', false],
      ['listings:read', 'listings:delete', false],
      ['listings:write', 'listings:read', true],
      ['listings:write', 'listings:write', true],
      ['listings:write', 'listings:delete', false],
      ['listings:delete', 'listings:read', true],
      ['listings:delete', 'listings:write', true],
      ['listings:delete', 'listings:delete', true],
    ])('%s grants %s: %s', (granted, required, expected) => {
      expect(scopeGrants([granted], required)).toBe(expected);
    });
  });

  describe('resources', () => {
    it('never crosses resources, whatever the action', () => {
      expect(scopeGrants(['listings:delete'], 'webhooks:read')).toBe(false);
      expect(scopeGrants(['webhooks:delete'], 'listings:read')).toBe(false);
      expect(scopeGrants(['api_keys:delete'], 'partners:read')).toBe(false);
    });

    it('does not treat a resource as a prefix of another', () => {
      expect(scopeGrants(['events:delete'], 'requests:read')).toBe(false);
      expect(scopeGrants(['api_keys:write'], 'api_keys:write')).toBe(true);
    });

    it('lets `*` stand for every resource, still respecting the action order', () => {
      for (const resource of SCOPE_RESOURCES) {
        expect(scopeGrants(['*:read'], `${resource}:read`)).toBe(true);
        expect(scopeGrants(['*:read'], `${resource}:write`)).toBe(false);
        expect(scopeGrants(['*:read'], `${resource}:delete`)).toBe(false);
        expect(scopeGrants(['*:write'], `${resource}:write`)).toBe(true);
        expect(scopeGrants(['*:write'], `${resource}:delete`)).toBe(false);
        expect(scopeGrants(['*:delete'], `${resource}:delete`)).toBe(true);
      }
    });

    it('treats `*` as a grant, not as a requirement any scope satisfies', () => {
      expect(scopeGrants(['listings:delete'], '*:read')).toBe(false);
      expect(scopeGrants(['*:read'], '*:read')).toBe(true);
      expect(scopeGrants(['*:write'], '*:read')).toBe(true);
      expect(scopeGrants(['*:read'], '*:write')).toBe(false);
    });
  });

  describe('lists of granted scopes', () => {
    it('grants nothing from an empty list', () => {
      expect(scopeGrants([], 'listings:read')).toBe(false);
    });

    it('grants when any one entry covers the requirement', () => {
      const granted = ['webhooks:read', 'events:read', 'listings:write'];
      expect(scopeGrants(granted, 'listings:read')).toBe(true);
      expect(scopeGrants(granted, 'listings:write')).toBe(true);
      expect(scopeGrants(granted, 'listings:delete')).toBe(false);
      expect(scopeGrants(granted, 'webhooks:write')).toBe(false);
      expect(scopeGrants(granted, 'partners:read')).toBe(false);
    });
  });

  describe('invalid granted strings never grant', () => {
    it.each([
      'listings:admin',
      'listings:*',
      '*:*',
      '*',
      '',
      'listings',
      'LISTINGS:delete',
      'Listings:read',
      ' listings:delete',
      'listings:delete ',
      'listings:delete\n',
      'listings:delete:extra',
      'listings:delete,webhooks:delete',
      'x listings:delete',
      '**:delete',
    ])('%j grants nothing', (granted) => {
      for (const resource of SCOPE_RESOURCES) {
        for (const action of SCOPE_ACTIONS) expect(scopeGrants([granted], `${resource}:${action}`)).toBe(false);
      }
      expect(scopeGrants([granted], '*:read')).toBe(false);
    });

    it('an unknown resource of valid shape grants no known resource', () => {
      for (const resource of SCOPE_RESOURCES) {
        expect(scopeGrants(['unknown:delete'], `${resource}:read`)).toBe(false);
      }
    });

    it('an invalid entry next to a valid one neither helps nor hurts', () => {
      expect(scopeGrants(['listings:admin', 'listings:read'], 'listings:read')).toBe(true);
      expect(scopeGrants(['listings:admin', 'listings:read'], 'listings:write')).toBe(false);
    });
  });
});

describe('normalizeScopes', () => {
  it('returns an empty list for an empty list', () => {
    expect(normalizeScopes([])).toEqual([]);
  });

  it('drops weaker actions on the same resource', () => {
    expect(normalizeScopes(['listings:read', 'listings:write'])).toEqual(['listings:write']);
    expect(normalizeScopes(['listings:read', 'listings:write', 'listings:delete'])).toEqual(['listings:delete']);
    expect(normalizeScopes(['listings:delete', 'listings:read'])).toEqual(['listings:delete']);
  });

  it('removes duplicates', () => {
    expect(normalizeScopes(['listings:read', 'listings:read'])).toEqual(['listings:read']);
    expect(normalizeScopes(['*:write', '*:write', 'listings:read'])).toEqual(['*:write']);
  });

  it('keeps scopes on different resources', () => {
    expect(normalizeScopes(['webhooks:read', 'listings:write'])).toEqual(['listings:write', 'webhooks:read']);
  });

  it('drops resource scopes covered by a `*` scope of equal or stronger action', () => {
    expect(normalizeScopes(['listings:read', '*:read'])).toEqual(['*:read']);
    expect(normalizeScopes(['listings:write', 'webhooks:read', '*:write'])).toEqual(['*:write']);
  });

  it('keeps resource scopes stronger than the `*` scope', () => {
    expect(normalizeScopes(['*:read', 'listings:delete', 'webhooks:read'])).toEqual(['*:read', 'listings:delete']);
  });

  it('sorts the result', () => {
    expect(normalizeScopes(['webhooks:read', 'api_keys:read', 'listings:read', 'events:write'])).toEqual([
      'api_keys:read',
      'events:write',
      'listings:read',
      'webhooks:read',
    ]);
  });

  it('returns a list that grants exactly what the input granted', () => {
    const input: Scope[] = ['listings:read', 'webhooks:write', 'webhooks:read', '*:read', 'events:delete', 'listings:write'];
    const normalized = normalizeScopes(input);
    expect(normalized).toEqual(['*:read', 'events:delete', 'listings:write', 'webhooks:write']);
    for (const resource of [...SCOPE_RESOURCES, '*'] as const) {
      for (const action of SCOPE_ACTIONS) {
        const required = `${resource}:${action}` as Scope;
        expect([required, scopeGrants(normalized, required)]).toEqual([required, scopeGrants(input, required)]);
      }
    }
  });

  it('does not modify its input', () => {
    const input: Scope[] = ['webhooks:read', 'listings:read', 'listings:write'];
    normalizeScopes(input);
    expect(input).toEqual(['webhooks:read', 'listings:read', 'listings:write']);
  });

  it('reduces ALL_SCOPES to itself, sorted', () => {
    expect(normalizeScopes(ALL_SCOPES)).toEqual([...ALL_SCOPES].sort());
    expect(normalizeScopes(ALL_SCOPES)).toHaveLength(SCOPE_RESOURCES.length);
  });
});

describe('effectiveScopes', () => {
  it('expands each granted scope to the actions it implies', () => {
    expect(effectiveScopes(['listings:delete'])).toEqual(['listings:delete', 'listings:read', 'listings:write']);
    expect(effectiveScopes(['webhooks:write', 'events:read'])).toEqual(['events:read', 'webhooks:read', 'webhooks:write']);
  });

  it('expands * to every resource', () => {
    expect(effectiveScopes(['*:read'])).toEqual([...SCOPE_RESOURCES].map((resource) => `${resource}:read`).sort());
    expect(effectiveScopes(['*:delete'])).toHaveLength(SCOPE_RESOURCES.length * 3);
  });

  it('ignores what is not a scope and lists nothing twice', () => {
    expect(effectiveScopes(['listings:read', 'listings:write', 'bogus', 'nope:read'])).toEqual(['listings:read', 'listings:write']);
    expect(effectiveScopes([])).toEqual([]);
  });
});

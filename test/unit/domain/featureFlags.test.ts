import { FEATURE_FLAGS, isFeatureFlag, parseFlagAssignment } from '../../../src/domain/featureFlags';

describe('isFeatureFlag', () => {
  it('knows the two flags', () => {
    expect([...FEATURE_FLAGS]).toEqual(['LISTINGS_WRITE_API_ENABLED', 'WEBHOOKS_PUBLIC_API_ENABLED']);
    expect(isFeatureFlag('LISTINGS_WRITE_API_ENABLED')).toBe(true);
    expect(isFeatureFlag('WEBHOOKS_PUBLIC_API_ENABLED')).toBe(true);
  });

  it.each(['', 'listings_write_api_enabled', 'LISTINGS_WRITE_API', 'LISTINGS_WRITE_API_ENABLED ', 'UNKNOWN_FLAG'])('rejects %j', (name) => {
    expect(isFeatureFlag(name)).toBe(false);
  });
});

describe('parseFlagAssignment', () => {
  it.each([
    ['on', true],
    ['true', true],
    ['off', false],
    ['false', false],
  ])('FLAG=%s → enabled %p', (value, enabled) => {
    expect(parseFlagAssignment(`LISTINGS_WRITE_API_ENABLED=${value}`)).toEqual({ flag: 'LISTINGS_WRITE_API_ENABLED', enabled });
    expect(parseFlagAssignment(`WEBHOOKS_PUBLIC_API_ENABLED=${value}`)).toEqual({ flag: 'WEBHOOKS_PUBLIC_API_ENABLED', enabled });
  });

  it.each([
    'UNKNOWN_FLAG=on',
    'LISTINGS_WRITE_API=on',
    'LISTINGS_WRITE_API_ENABLEDX=on',
    'listings_write_api_enabled=on',
  ])('rejects an unknown flag: %j', (text) => {
    expect(() => parseFlagAssignment(text)).toThrow(/expected FLAG=on\|off with FLAG one of LISTINGS_WRITE_API_ENABLED, WEBHOOKS_PUBLIC_API_ENABLED/);
  });

  it.each([
    '',
    'LISTINGS_WRITE_API_ENABLED',
    'LISTINGS_WRITE_API_ENABLED=',
    '=on',
    'LISTINGS_WRITE_API_ENABLED=yes',
    'LISTINGS_WRITE_API_ENABLED=no',
    'LISTINGS_WRITE_API_ENABLED=1',
    'LISTINGS_WRITE_API_ENABLED=0',
    'LISTINGS_WRITE_API_ENABLED=ON',
    'LISTINGS_WRITE_API_ENABLED=True',
    'LISTINGS_WRITE_API_ENABLED = on',
    ' LISTINGS_WRITE_API_ENABLED=on',
    'LISTINGS_WRITE_API_ENABLED=on ',
    'LISTINGS_WRITE_API_ENABLED=on\n',
    'LISTINGS_WRITE_API_ENABLED:on',
    'LISTINGS_WRITE_API_ENABLED==on',
    'LISTINGS_WRITE_API_ENABLED=on=off',
    'LISTINGS_WRITE_API_ENABLED=onn',
    'LISTINGS_WRITE_API_ENABLED=on,WEBHOOKS_PUBLIC_API_ENABLED=on',
  ])('rejects malformed input: %j', (text) => {
    expect(() => parseFlagAssignment(text)).toThrow(/expected FLAG=on\|off/);
  });

  it('quotes the offending input in the error', () => {
    expect(() => parseFlagAssignment('NOPE=maybe')).toThrow('got "NOPE=maybe"');
  });
});

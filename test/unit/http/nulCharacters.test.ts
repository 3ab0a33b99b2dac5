import { MAX_BODY_DEPTH, nestedDeeperThan, nulCharacterPaths, unpairedSurrogatePaths, controlCharacterPaths } from '../../../src/http/nulCharacters';

describe('nulCharacterPaths', () => {
  it('names every string holding NUL by its path, through arrays and objects', () => {
    expect(nulCharacterPaths({ title: 'a\u0000', attachments: [{ url: 'ok' }, { url: 'x\u0000y' }], nested: { deep: ['\u0000'] } })).toEqual([
      'title',
      'attachments.1.url',
      'nested.deep.0',
    ]);
  });

  it('finds nothing in clean input, and names a bare string body and a NUL key', () => {
    expect(nulCharacterPaths({ title: 'Straße 🏠', n: 1, b: null })).toEqual([]);
    expect(nulCharacterPaths('\u0000')).toEqual(['(body)']);
    expect(nulCharacterPaths({ 'k\u0000': 'v' })).toEqual(['k\\u0000']);
  });

  it('stops at a bounded depth instead of recursing without end', () => {
    let deep: unknown = 'x\u0000';
    for (let index = 0; index < 10_000; index += 1) deep = { a: deep };
    expect(nulCharacterPaths(deep)).toEqual([]);
  });
});

describe('nestedDeeperThan', () => {
  const nest = (levels: number, kind: 'array' | 'object'): unknown => {
    let value: unknown = 1;
    for (let index = 0; index < levels; index += 1) value = kind === 'array' ? [value] : { a: value };
    return value;
  };

  it.each(['array', 'object'] as const)('allows %s bodies of 64 levels and refuses 65', (kind) => {
    expect(nestedDeeperThan(nest(MAX_BODY_DEPTH, kind))).toBe(false);
    expect(nestedDeeperThan(nest(MAX_BODY_DEPTH + 1, kind))).toBe(true);
  });

  it('answers for 100 000 levels without overflowing the stack, and for scalars', () => {
    expect(nestedDeeperThan(nest(100_000, 'array'))).toBe(true);
    expect(nestedDeeperThan('text')).toBe(false);
    expect(nestedDeeperThan(undefined)).toBe(false);
    expect(nestedDeeperThan({ wide: Array.from({ length: 1000 }, () => ({ x: [1] })) })).toBe(false);
  });
});

describe('unpairedSurrogatePaths', () => {
  it('names strings and keys with a lone high or low surrogate, escaped in the path', () => {
    expect(unpairedSurrogatePaths({ title: 'a\ud800', list: ['ok', 'x\udfffy'], ['k\ud83d']: 1 })).toEqual(['title', 'list.1', 'k\\ud83d']);
    expect(unpairedSurrogatePaths('\udc00')).toEqual(['(body)']);
  });

  it('lets paired surrogates (emoji) and everything else through', () => {
    expect(unpairedSurrogatePaths({ title: 'Wohnung 🏠👨‍👩‍👧', rtl: '\u202eabc', zw: '\u200b', n: 1, b: null })).toEqual([]);
  });
});

describe('controlCharacterPaths', () => {
  it('names strings and keys with a C0 control character, escaped in the path', () => {
    expect(controlCharacterPaths({ title: 'bell\u0007', nested: [{ city: 'esc\u001b[31m' }], ['k\u0001']: 'x' })).toEqual(['title', 'nested.0.city', 'k\\u0001']);
  });

  it('lets tab, line feed and carriage return through, and leaves NUL to its own rule', () => {
    expect(controlCharacterPaths({ description: 'line one\r\nline two\tend', nul: 'a\u0000b', plain: 'Straße 1' })).toEqual([]);
  });
});

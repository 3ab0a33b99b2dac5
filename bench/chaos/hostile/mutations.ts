import fc from 'fast-check';

/** One request as it goes on the wire: the body is bytes, so it can be anything, valid JSON or not. */
export interface RawRequest {
  /** Header name → value; `content-type` absent means none is sent. */
  headers: Record<string, string>;
  body?: Buffer;
}

export const MUTATIONS = [
  'valid',
  'wrong_type',
  'huge_number',
  'number_1e309',
  'nan_string',
  'unicode_edge',
  'nul_and_c0',
  'invalid_utf8',
  'deep_nesting',
  'proto_keys',
  'wrong_content_type',
  'truncated',
  'empty',
  'huge_body',
  'bad_path_param',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** The marker only ever travels under `__proto__` / `constructor.prototype`: seeing it anywhere else means a prototype took it. */
export const POLLUTION_MARKER = 'chaos_polluted_marker';

const HUGE_NUMBERS = [1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, 2 ** 64, -1, -0.5, 0, 5e-324, 1e21, -2147483649];
const NAN_LIKE = ['NaN', 'Infinity', '-Infinity', '1e309', '0x10', ' 12 ', '1_000', '١٢٣', '', 'null', 'undefined', 'true', '[]', '{}', '-0'];
const UNICODE = [
  '\ud800',
  '\udfff',
  'a\ud83dz',
  '\u202eevil\u202c',
  '\u200b\u200c\u200d\ufeff',
  '\u2028\u2029',
  '👨‍👩‍👧‍👦🏳️‍🌈',
  'e\u0301\u0301\u0301\u0301',
  '\uffff\ufffe',
  'Ω≈ç√∫',
  'ﷺ',
  '\u{10ffff}',
];
const C0 = ['\u0000', 'a\u0000b', '\u0001\u0002\u0003', '\u001b[31m', '\r\n', '\t', '\u007f', '\u0085', '\b\f\v'];
/** Byte sequences no UTF-8 decoder should accept, spliced into a JSON string. */
const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]];
const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset="bogus"',
  'application/jsonx',
  '*/*',
  'application/merge-patch+json',
  '',
];
const EMPTY_BODIES = ['', ' ', 'null', '[]', '"text"', '0', 'true', '{}', '\n'];
const BAD_IDS = ['not-a-uuid', '00000000-0000-0000-0000-000000000000', '%00', '%ff%fe', '..%2f..%2fetc', 'x'.repeat(3000), '%F0%9F%98%80', '1e309', '-1', "'%20or%201=1--", '%E2%80%AE'];

const json = (value: unknown) => Buffer.from(JSON.stringify(value ?? {}), 'utf8');

/** `body` with one top-level field (or the whole body, when there are none) replaced by `value`. */
function replaceField(body: unknown, pick: number, value: unknown): unknown {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const keys = Object.keys(body);
    if (keys.length === 0) return { field: value };
    return { ...(body as Record<string, unknown>), [keys[pick % keys.length]]: value };
  }
  return value;
}

/** Raw JSON text nested `levels` deep, the innermost holding `body`. */
export function nested(levels: number, body: string, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(levels) + body + ']'.repeat(levels) : '{"a":'.repeat(levels) + body + '}'.repeat(levels);
}

/** A field's JSON text spliced into the body text, so the bytes need not be valid JSON or UTF-8. */
function spliceRaw(body: unknown, pick: number, rawValue: Buffer): Buffer {
  const placeholder = '__chaos_raw__';
  const text = JSON.stringify(replaceField(body, pick, placeholder));
  const [before, after] = text.split(JSON.stringify(placeholder));
  return Buffer.concat([Buffer.from(before, 'utf8'), rawValue, Buffer.from(after ?? '', 'utf8')]);
}

const withJson = (body: Buffer): RawRequest => ({ headers: { 'content-type': 'application/json' }, body });

/**
 * The arbitrary of one mutation of a valid body: each draws its own parameters, so a seed
 * replays the same bytes.
 */
export function mutationArbitrary(mutation: Mutation, valid: unknown, hugeBodyBytes: number): fc.Arbitrary<RawRequest> {
  const pick = fc.nat({ max: 64 });
  switch (mutation) {
    case 'valid':
    case 'bad_path_param':
      return fc.constant(withJson(json(valid)));
    case 'wrong_type':
      return fc
        .tuple(pick, fc.constantFrom<unknown>(42, -1, true, false, null, 'text', [], {}, [1, 'a'], { nested: { x: 1 } }, 3.14))
        .map(([index, value]) => withJson(json(replaceField(valid, index, value))));
    case 'huge_number':
      return fc.tuple(pick, fc.constantFrom(...HUGE_NUMBERS)).map(([index, value]) => withJson(json(replaceField(valid, index, value))));
    case 'number_1e309':
      // JSON.stringify would write null for Infinity, so the literal goes into the text.
      return fc.tuple(pick, fc.constantFrom('1e309', '-1e309', '1e-400', '123456789012345678901234567890', '0.' + '0'.repeat(400) + '1')).map(([index, literal]) => withJson(spliceRaw(valid, index, Buffer.from(literal))));
    case 'nan_string':
      return fc.tuple(pick, fc.constantFrom(...NAN_LIKE)).map(([index, value]) => withJson(json(replaceField(valid, index, value))));
    case 'unicode_edge':
      return fc.tuple(pick, fc.constantFrom(...UNICODE), fc.boolean()).map(([index, value, asKey]) =>
        withJson(json(asKey ? { ...(typeof valid === 'object' && valid ? valid : {}), [value]: 1 } : replaceField(valid, index, `x${value}y`))),
      );
    case 'nul_and_c0':
      return fc.tuple(pick, fc.constantFrom(...C0)).map(([index, value]) => withJson(json(replaceField(valid, index, `a${value}b`))));
    case 'invalid_utf8':
      return fc.tuple(pick, fc.constantFrom(...INVALID_UTF8)).map(([index, bytes]) => withJson(spliceRaw(valid, index, Buffer.concat([Buffer.from('"a'), Buffer.from(bytes), Buffer.from('b"')]))));
    case 'deep_nesting':
      return fc
        .tuple(pick, fc.constantFrom(10_000, 65, 64, 63, 1_000, 100_000), fc.constantFrom<'array' | 'object'>('array', 'object'), fc.boolean())
        .map(([index, levels, kind, whole]) => withJson(whole ? Buffer.from(nested(levels, '1', kind)) : spliceRaw(valid, index, Buffer.from(nested(levels, '1', kind)))));
    case 'proto_keys':
      return fc
        .tuple(
          fc.constantFrom(
            `{"__proto__":{"${POLLUTION_MARKER}":1}}`,
            `{"constructor":{"prototype":{"${POLLUTION_MARKER}":1}}}`,
            `{"prototype":{"${POLLUTION_MARKER}":1}}`,
            `[{"__proto__":{"${POLLUTION_MARKER}":1}}]`,
            `{"__proto__":[]}`,
            `{"__proto__":null}`,
          ),
          fc.boolean(),
          pick,
        )
        .map(([payload, merged, index]) => {
          if (!merged || !valid || typeof valid !== 'object' || Array.isArray(valid)) return withJson(Buffer.from(payload));
          // The dangerous keys beside valid fields, and under one of them, as a merge would meet them.
          const text = JSON.stringify(valid);
          const inner = payload.startsWith('{') ? payload.slice(1, -1) : `"__proto__":${payload}`;
          const top = text === '{}' ? `{${inner}}` : `{${inner},${text.slice(1)}`;
          return withJson(index % 2 === 0 ? Buffer.from(top) : spliceRaw(valid, index, Buffer.from(payload)));
        });
    case 'wrong_content_type':
      return fc.constantFrom(...CONTENT_TYPES).map((type): RawRequest => ({ headers: type ? { 'content-type': type } : {}, body: json(valid) }));
    case 'truncated':
      return fc.nat().map((cut) => {
        const bytes = json(valid);
        return withJson(bytes.subarray(0, bytes.length <= 1 ? 0 : 1 + (cut % (bytes.length - 1))));
      });
    case 'empty':
      return fc.constantFrom(...EMPTY_BODIES).map((text) => withJson(Buffer.from(text)));
    case 'huge_body':
      return fc.constantFrom(hugeBodyBytes + 1024, Math.floor(hugeBodyBytes / 2)).map((size) => withJson(json(replaceField(valid, 0, 'x'.repeat(size)))));
    default:
      throw new Error(`unknown mutation ${mutation as string}`);
  }
}

/** A path parameter replaced by something that is not one of ours, URL-escaped or not. */
export const badIdArbitrary: fc.Arbitrary<string> = fc.constantFrom(...BAD_IDS);

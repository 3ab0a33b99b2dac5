import type { RequestHandler } from 'express';
import { ApiError, FieldError } from './errors';

/**
 * No request of ours nests this deep; deeper bodies are refused before any handler walks them
 * (the idempotency hash and zod recurse, and 10 000 levels overflowed the stack: a 500).
 */
export const MAX_BODY_DEPTH = 64;
const MAX_DEPTH = MAX_BODY_DEPTH;
const NUL = '\u0000';
const MESSAGE = 'must not contain the NUL character (U+0000)';

const SURROGATE_MESSAGE = 'must not contain an unpaired UTF-16 surrogate (such as \\ud800 without its pair)';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const hasLoneSurrogate = (text: string) => text.search(LONE_SURROGATE) !== -1;

const CONTROL_MESSAGE = 'must not contain a control character (U+0001–U+001F other than tab, line feed and carriage return)';
// No text a CRM sends holds one; in a header, a log line or a portal's form it is an injection.
const CONTROL = /[\u0001-\u0008\u000b\u000c\u000e-\u001f]/g;
const hasControl = (text: string) => text.search(CONTROL) !== -1;
const escaped = (pattern: RegExp) => (key: string) => key.replace(pattern, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Paths (`title`, `attachments.3.url`, `query.external_ref`) of every string or key `offends`. */
function offendingPaths(value: unknown, offends: (text: string) => boolean, showKey: (key: string) => string, path: string[] = [], found: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') {
    if (offends(value)) found.push(path.join('.') || '(body)');
  } else if (value && typeof value === 'object' && depth < MAX_DEPTH) {
    for (const [key, entry] of Object.entries(value)) {
      if (offends(key)) found.push([...path, showKey(key)].join('.'));
      else offendingPaths(entry, offends, showKey, [...path, key], found, depth + 1);
    }
  }
  return found;
}

/** Paths of every string or key holding NUL, which Postgres text cannot store. */
export function nulCharacterPaths(value: unknown, path: string[] = []): string[] {
  return offendingPaths(value, (text) => text.includes(NUL), (key) => key.replaceAll(NUL, '\\u0000'), path);
}

/**
 * Paths of every string or key holding an unpaired surrogate (JSON lets `"\ud800"` through).
 * Postgres json refuses one ("invalid input syntax for type json"), so a key or text that reached
 * an event, an outbox row or a stored idempotent response ended as a 500.
 */
export function unpairedSurrogatePaths(value: unknown, path: string[] = []): string[] {
  return offendingPaths(value, hasLoneSurrogate, escaped(LONE_SURROGATE), path);
}

/** Paths of every string or key holding a C0 control character other than tab, LF and CR. */
export function controlCharacterPaths(value: unknown, path: string[] = []): string[] {
  return offendingPaths(value, hasControl, escaped(CONTROL), path);
}

/** Whether `value` holds containers nested deeper than `limit`; iterative, so any depth is safe to ask about. */
export function nestedDeeperThan(value: unknown, limit = MAX_BODY_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (!current || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const entry of Object.values(current)) if (entry && typeof entry === 'object') stack.push([entry, depth + 1]);
  }
  return false;
}

/**
 * 400 VALIDATION_ERROR for a body nested deeper than MAX_BODY_DEPTH levels, then for a NUL
 * character, another C0 control character or an unpaired surrogate anywhere in the query or the parsed body. Postgres text
 * cannot hold one ("invalid byte sequence for encoding UTF8: 0x00"), so without this a NUL in any
 * text field ended as a 500 at the database, or, in a URL, was accepted and failed later.
 */
export function refuseNulCharacters(): RequestHandler {
  return (req, _res, next) => {
    if (nestedDeeperThan(req.body)) {
      return next(
        ApiError.validation([{ path: '(body)', message: `is nested deeper than ${MAX_BODY_DEPTH} levels` }], `The request body is nested deeper than ${MAX_BODY_DEPTH} levels of objects and arrays.`),
      );
    }
    const fields: FieldError[] = [
      ...[...nulCharacterPaths(req.query, ['query']), ...nulCharacterPaths(req.body)].map((path) => ({ path, message: MESSAGE })),
      ...[...unpairedSurrogatePaths(req.query, ['query']), ...unpairedSurrogatePaths(req.body)].map((path) => ({ path, message: SURROGATE_MESSAGE })),
      ...[...controlCharacterPaths(req.query, ['query']), ...controlCharacterPaths(req.body)].map((path) => ({ path, message: CONTROL_MESSAGE })),
    ];
    if (fields.length === 0) return next();
    next(ApiError.validation(fields.slice(0, 50)));
  };
}

import type { RequestHandler } from 'express';
import { ApiError, FieldError } from './errors';

/** Containers nested deeper than this are not searched further (express.json bounds the size). */
const MAX_DEPTH = 64;
const NUL = '\u0000';
const MESSAGE = 'must not contain the NUL character (U+0000)';

/** Paths (`title`, `attachments.3.url`, `query.external_ref`) of every string or key holding NUL. */
export function nulCharacterPaths(value: unknown, path: string[] = [], found: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') {
    if (value.includes(NUL)) found.push(path.join('.') || '(body)');
  } else if (value && typeof value === 'object' && depth < MAX_DEPTH) {
    for (const [key, entry] of Object.entries(value)) {
      if (key.includes(NUL)) found.push([...path, key.replaceAll(NUL, '\\u0000')].join('.'));
      else nulCharacterPaths(entry, [...path, key], found, depth + 1);
    }
  }
  return found;
}

/**
 * 400 VALIDATION_ERROR for a NUL character anywhere in the query or the parsed body. Postgres text
 * cannot hold one ("invalid byte sequence for encoding UTF8: 0x00"), so without this a NUL in any
 * text field ended as a 500 at the database, or, in a URL, was accepted and failed later.
 */
export function refuseNulCharacters(): RequestHandler {
  return (req, _res, next) => {
    const paths = [...nulCharacterPaths(req.query, ['query']), ...nulCharacterPaths(req.body)];
    if (paths.length === 0) return next();
    const fields: FieldError[] = paths.slice(0, 50).map((path) => ({ path, message: MESSAGE }));
    next(ApiError.validation(fields));
  };
}

import { ApiError } from './errors';

/**
 * Opaque cursors: base64url of a position in an ordered sequence. Clients pass `next_cursor`
 * back unchanged; anything else is a validation error, never a 500.
 */
export function encodeCursor(position: string): string {
  return Buffer.from(JSON.stringify({ p: position }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof parsed.p === 'string' && /^\d{1,19}$/.test(parsed.p)) return parsed.p;
  } catch {
    // fall through
  }
  throw ApiError.validation([{ path: 'cursor', message: 'is not a cursor returned by this endpoint' }]);
}

export function cursorPagination(nextPosition: string | null, limit: number) {
  return { next_cursor: nextPosition ? encodeCursor(nextPosition) : null, has_more: nextPosition !== null, limit };
}

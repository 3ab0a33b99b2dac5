import { z } from 'zod';
import { ApiError } from './errors';

const uuid = z.uuid();

/**
 * A path id that is not a UUID cannot name anything of this organisation: it gets the same 404
 * as an unknown id, never a 400 that would tell the two apart.
 */
export function uuidParamOr404(value: string | string[] | undefined, notFoundMessage: string): string {
  if (typeof value !== 'string' || !uuid.safeParse(value).success) throw ApiError.notFound(notFoundMessage);
  return value;
}

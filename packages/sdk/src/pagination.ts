import type { Client, ClientPathsWithMethod, MaybeOptionalInit } from 'openapi-fetch';
import type { InitParam } from './client';
import { ImmoflowApiError } from './errors';
import type { paths } from './schema';

type GetPath = ClientPathsWithMethod<Client<paths>, 'get'>;
type OkJson<P extends GetPath> = paths[P] extends { get: { responses: { 200: { content: { 'application/json': infer Body } } } } } ? Body : never;

/**
 * The GET paths whose 200 answer is `{ data: [...], pagination: { next_cursor, … } }`, derived
 * from the generated schema, so a new cursor-paginated endpoint is accepted as soon as the types
 * are regenerated. Offset-paginated lists (webhook deliveries: `?page=&per_page=`) are not.
 */
export type CursorPaginatedPath = {
  // [never] first: a path without a documented 200 body would otherwise match vacuously.
  [P in GetPath]: [OkJson<P>] extends [never] ? never : OkJson<P> extends { data: unknown[]; pagination: { next_cursor: string | null; has_more: boolean } } ? P : never;
}[GetPath];

export type PageItem<P extends CursorPaginatedPath> = OkJson<P> extends { data: (infer Item)[] } ? Item : never;

/**
 * Every item of a cursor-paginated list, fetching the next page (`cursor = pagination.next_cursor`)
 * only when the consumer gets there. `params.query.limit` sets the page size; a `cursor` given in
 * `params.query` resumes from there. A non-2xx page throws ImmoflowApiError.
 *
 * ```ts
 * for await (const listing of paginate(client, '/api/v1/listings', { params: { query: { limit: 100, status: 'active' } } })) { … }
 * ```
 */
export async function* paginate<P extends CursorPaginatedPath, Init extends MaybeOptionalInit<paths[P], 'get'>>(
  client: Pick<Client<paths>, 'GET'>,
  path: P,
  ...init: InitParam<Init>
): AsyncGenerator<PageItem<P>, void, undefined> {
  const options = (init[0] ?? {}) as { params?: { query?: Record<string, unknown> } } & Record<string, unknown>;
  let cursor = options.params?.query?.cursor as string | undefined;
  const get = client.GET as (path: string, init: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
  for (;;) {
    const query = { ...options.params?.query, ...(cursor ? { cursor } : {}) };
    const { data, error, response } = await get(path, { ...options, params: { ...options.params, query } });
    if (!response.ok) throw new ImmoflowApiError(response, error);
    const page = data as { data: PageItem<P>[]; pagination: { next_cursor: string | null; has_more: boolean } };
    yield* page.data;
    // The server sends a cursor only with has_more; checking both guards against a loop on the last page.
    if (!page.pagination.has_more || !page.pagination.next_cursor) return;
    cursor = page.pagination.next_cursor;
  }
}

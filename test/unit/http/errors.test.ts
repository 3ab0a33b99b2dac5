import { PassThrough } from 'node:stream';
import express from 'express';
import { KnexTimeoutError } from 'knex';
import { z } from 'zod';
import { ApiError, DependencyUnavailableError, isDatabaseUnavailable, toApiError, zodFieldErrors } from '../../../src/http/errors';

const GENERIC_500_MESSAGE = 'An unexpected error occurred. It has been logged with the request id.';

function zodErrorOf(schema: z.ZodType, input: unknown): z.ZodError {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected the schema to reject the input');
  return result.error;
}

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Feeds `body` through express.json in memory and returns the error it passes to next(). */
function bodyParserError(options: Parameters<typeof express.json>[0], body: string, contentType = 'application/json'): Promise<unknown> {
  return new Promise((resolve) => {
    const req = Object.assign(new PassThrough(), {
      method: 'POST',
      url: '/',
      headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) },
    });
    express.json(options)(req as never, {} as never, (error?: unknown) => resolve(error));
    req.end(body);
  });
}

describe('toApiError', () => {
  describe('ApiError', () => {
    it('passes an ApiError through unchanged', () => {
      const original = new ApiError(409, 'CONFLICT', 'already exists', { id: 'x' }, { 'X-Test': '1' });
      expect(toApiError(original)).toBe(original);
    });
  });

  describe('ZodError', () => {
    const schema = z
      .object({
        title: z.string().min(3),
        rooms: z.number().int().positive(),
        address: z.object({ zip_code: z.string().regex(/^\d{5}$/, 'must be five digits') }),
      })
      .strict();

    it('becomes 400 VALIDATION_ERROR with one details.fields entry per bad field', () => {
      const error = zodErrorOf(schema, { title: 'ab', rooms: 2, address: { zip_code: '1234' } });
      const apiError = toApiError(error);
      expect(apiError).toBeInstanceOf(ApiError);
      expect(apiError.status).toBe(400);
      expect(apiError.code).toBe('VALIDATION_ERROR');
      expect(apiError.message).toBe('The request is invalid; see details.fields.');
      expect(apiError.headers).toBeUndefined();
      const fields = (apiError.details as { fields: { path: string; message: string }[] }).fields;
      expect(fields).toHaveLength(2);
      expect(fields.map((field) => field.path).sort()).toEqual(['address.zip_code', 'title']);
      expect(fields.find((field) => field.path === 'address.zip_code')).toEqual({ path: 'address.zip_code', message: 'must be five digits' });
      expect(fields.find((field) => field.path === 'title')?.message).toMatch(/3/);
    });

    it('names a missing field by its path', () => {
      const apiError = toApiError(zodErrorOf(schema, { title: 'Flat', address: { zip_code: '10115' } }));
      expect(apiError.details).toEqual({ fields: [{ path: 'rooms', message: expect.any(String) }] });
    });

    it('uses array indexes in paths', () => {
      const error = zodErrorOf(z.object({ images: z.array(z.object({ url: z.string().url() })) }), {
        images: [{ url: 'https://example.com/a.jpg' }, { url: 'nope' }],
      });
      expect(toApiError(error).details).toEqual({ fields: [{ path: 'images.1.url', message: expect.any(String) }] });
    });

    it('reports each unknown field by name', () => {
      const error = zodErrorOf(schema, { title: 'Flat', rooms: 2, address: { zip_code: '10115' }, colour: 'red', size: 3 });
      expect(toApiError(error).details).toEqual({
        fields: [
          { path: 'colour', message: 'is not a known field' },
          { path: 'size', message: 'is not a known field' },
        ],
      });
    });

    it('reports a problem with the whole body as (body)', () => {
      const error = zodErrorOf(schema, 'not an object');
      expect(toApiError(error).details).toEqual({ fields: [{ path: '(body)', message: expect.any(String) }] });
    });

    it('joins several messages for one field into one entry', () => {
      const error = zodErrorOf(
        z.object({ name: z.string().min(5, 'too short').regex(/^[a-z]+$/, 'lower case only') }),
        { name: 'AB' },
      );
      expect(zodFieldErrors(error)).toEqual([{ path: 'name', message: 'too short; lower case only' }]);
      expect(toApiError(error).details).toEqual({ fields: [{ path: 'name', message: 'too short; lower case only' }] });
    });
  });

  describe('body-parser errors', () => {
    it('{type: entity.too.large} becomes 413 PAYLOAD_TOO_LARGE naming the limit', () => {
      const apiError = toApiError({ type: 'entity.too.large', status: 413, limit: 1_048_576 });
      expect(apiError.status).toBe(413);
      expect(apiError.code).toBe('PAYLOAD_TOO_LARGE');
      expect(apiError.message).toBe('The request body exceeds the limit of 1048576 bytes.');
    });

    it('{type: entity.parse.failed} becomes 400 VALIDATION_ERROR on the body', () => {
      const apiError = toApiError(Object.assign(new SyntaxError('Unexpected end of JSON input'), { type: 'entity.parse.failed', status: 400 }));
      expect(apiError.status).toBe(400);
      expect(apiError.code).toBe('VALIDATION_ERROR');
      expect(apiError.message).toBe('The request body is not valid JSON.');
      expect(apiError.details).toEqual({ fields: [{ path: '(body)', message: 'Malformed JSON.' }] });
      expect(apiError.message).not.toContain('Unexpected end');
    });

    it.each(['encoding.unsupported', 'charset.unsupported'])('{type: %s} becomes 415 UNSUPPORTED_MEDIA_TYPE', (type) => {
      const apiError = toApiError({ type, status: 415 });
      expect(apiError.status).toBe(415);
      expect(apiError.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('another 4xx error with a status keeps that status', () => {
      const apiError = toApiError({ type: 'request.aborted', status: 400 });
      expect(apiError.status).toBe(400);
      expect(apiError.code).toBe('VALIDATION_ERROR');
      expect(apiError.message).toBe('The request could not be processed.');
    });

    it('an http-errors style 404 or 405 keeps a matching code', () => {
      expect(toApiError({ status: 404 }).code).toBe('NOT_FOUND');
      expect(toApiError({ status: 405 }).code).toBe('METHOD_NOT_ALLOWED');
    });

    it('survives null and undefined', () => {
      expect(toApiError(null).code).toBe('INTERNAL_ERROR');
      expect(toApiError(undefined).status).toBe(500);
    });

    it('an error with a 5xx status is still an internal error', () => {
      const apiError = toApiError(Object.assign(new Error('stream broke'), { status: 500 }));
      expect(apiError.status).toBe(500);
      expect(apiError.code).toBe('INTERNAL_ERROR');
    });

    describe('as express.json really produces them', () => {
      it('an oversized body → 413 PAYLOAD_TOO_LARGE with the configured limit', async () => {
        const error = await bodyParserError({ limit: 10 }, JSON.stringify({ title: 'far more than ten bytes' }));
        const apiError = toApiError(error);
        expect(apiError.status).toBe(413);
        expect(apiError.code).toBe('PAYLOAD_TOO_LARGE');
        expect(apiError.message).toBe('The request body exceeds the limit of 10 bytes.');
      });

      it('malformed JSON → 400 VALIDATION_ERROR', async () => {
        const error = await bodyParserError({}, '{"title": ');
        const apiError = toApiError(error);
        expect(apiError.status).toBe(400);
        expect(apiError.code).toBe('VALIDATION_ERROR');
        expect(apiError.details).toEqual({ fields: [{ path: '(body)', message: 'Malformed JSON.' }] });
      });

      it('an unsupported charset → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
        const error = await bodyParserError({}, '{}', 'application/json; charset=latin-9');
        const apiError = toApiError(error);
        expect(apiError.status).toBe(415);
        expect(apiError.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      });
    });
  });

  describe('unavailable dependencies', () => {
    it.each([
      ['temporal', 'TEMPORAL_UNAVAILABLE'],
      ['postgres', 'DATABASE_UNAVAILABLE'],
      ['minio', 'STORAGE_UNAVAILABLE'],
    ] as const)('DependencyUnavailableError(%s) becomes 503 %s with Retry-After', (dependency, code) => {
      const apiError = toApiError(new DependencyUnavailableError(dependency, new Error('connect ECONNREFUSED 10.0.0.5:7233')));
      expect(apiError.status).toBe(503);
      expect(apiError.code).toBe(code);
      expect(apiError.headers).toEqual({ 'Retry-After': '5' });
      expect(apiError.message).toBe(`${dependency} is temporarily unavailable; retry later.`);
      expect(apiError.message).not.toContain('10.0.0.5');
    });

    it('DependencyUnavailableError keeps its cause', () => {
      const cause = new Error('down');
      const error = new DependencyUnavailableError('temporal', cause);
      expect(error.cause).toBe(cause);
      expect(error.message).toBe('temporal is unavailable');
    });

    it('an ECONNREFUSED error becomes 503 DATABASE_UNAVAILABLE', () => {
      const apiError = toApiError(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'));
      expect(apiError.status).toBe(503);
      expect(apiError.code).toBe('DATABASE_UNAVAILABLE');
      expect(apiError.headers).toEqual({ 'Retry-After': '5' });
      expect(apiError.message).not.toContain('127.0.0.1');
    });

    it('a KnexTimeoutError-named error becomes 503 DATABASE_UNAVAILABLE', () => {
      const error = Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' });
      const apiError = toApiError(error);
      expect(apiError.status).toBe(503);
      expect(apiError.code).toBe('DATABASE_UNAVAILABLE');
      expect(apiError.headers).toEqual({ 'Retry-After': '5' });
    });

    it("knex's own KnexTimeoutError becomes 503 DATABASE_UNAVAILABLE", () => {
      const apiError = toApiError(new KnexTimeoutError('Knex: Timeout acquiring a connection.'));
      expect(apiError.status).toBe(503);
      expect(apiError.code).toBe('DATABASE_UNAVAILABLE');
    });

    it('an AggregateError of per-address ECONNREFUSED errors becomes DATABASE_UNAVAILABLE', () => {
      const error = new AggregateError(
        [withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
        '',
      );
      expect((error as { code?: string }).code).toBeUndefined();
      const apiError = toApiError(error);
      expect(apiError.status).toBe(503);
      expect(apiError.code).toBe('DATABASE_UNAVAILABLE');
      expect(apiError.headers).toEqual({ 'Retry-After': '5' });
    });

    it('an AggregateError is unavailable if any one of its errors is', () => {
      const error = new AggregateError([new Error('something else'), withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')]);
      expect(toApiError(error).code).toBe('DATABASE_UNAVAILABLE');
    });

    // Regression (npm run chaos, scenario 3): a Postgres crash under a connection in use was a 500.
    it.each([
      ['a query in flight when the server died', new Error('Connection terminated unexpectedly')],
      ['a client that ended under its query', new Error('Connection terminated')],
      ['a query on a client whose connection broke', new Error('Client has encountered a connection error and is not queryable')],
      ['a query on a closed client', new Error('Client was closed and is not queryable')],
      ['a crash shutdown (57P02)', withCode('terminating connection because of crash of another server process', '57P02')],
      ['a connection exception (class 08)', withCode('connection failure', '08006')],
    ])('%s becomes 503 DATABASE_UNAVAILABLE', (_what, error) => {
      const apiError = toApiError(error);
      expect(apiError.status).toBe(503);
      expect(apiError.code).toBe('DATABASE_UNAVAILABLE');
      expect(apiError.headers).toEqual({ 'Retry-After': '5' });
    });

    it("a connection-lost message with an unrelated code is not mistaken for one", () => {
      expect(toApiError(withCode('Connection terminated unexpectedly', '23505')).status).toBe(500);
    });

    it('an AggregateError of unrelated errors is an internal error', () => {
      const error = new AggregateError([new Error('a'), withCode('b', 'ENOENT')], 'several things failed');
      const apiError = toApiError(error);
      expect(apiError.status).toBe(500);
      expect(apiError.code).toBe('INTERNAL_ERROR');
    });
  });

  describe('anything else', () => {
    it('a plain Error becomes 500 INTERNAL_ERROR without leaking its message', () => {
      const apiError = toApiError(new Error('relation "listings" does not exist at /srv/app/secret.ts:42'));
      expect(apiError).toBeInstanceOf(ApiError);
      expect(apiError.status).toBe(500);
      expect(apiError.code).toBe('INTERNAL_ERROR');
      expect(apiError.message).toBe(GENERIC_500_MESSAGE);
      expect(apiError.message).not.toContain('relation');
      expect(apiError.message).not.toContain('secret');
      expect(apiError.details).toBeUndefined();
      expect(apiError.headers).toBeUndefined();
    });

    it.each([
      ['a TypeError', new TypeError('cannot read properties of undefined')],
      ['a thrown string', 'boom'],
      ['a thrown number', 42],
      ['an empty object', {}],
      ['a pg error with a non-connection code', withCode('duplicate key value violates unique constraint', '23505')],
      ['an object with an unknown type', { type: 'something.else' }],
      ['an error with a 3xx status', Object.assign(new Error('moved'), { status: 302 })],
    ])('%s becomes 500 INTERNAL_ERROR', (_label, error) => {
      const apiError = toApiError(error);
      expect(apiError.status).toBe(500);
      expect(apiError.code).toBe('INTERNAL_ERROR');
      expect(apiError.message).toBe(GENERIC_500_MESSAGE);
    });
  });
});

describe('isDatabaseUnavailable', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03', '53300'])('recognises code %s', (code) => {
    expect(isDatabaseUnavailable(withCode('x', code))).toBe(true);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'ECONNREFUSED'],
    ['a plain error', new Error('ECONNREFUSED')],
    ['a unique violation', withCode('dup', '23505')],
    ['an empty AggregateError', new AggregateError([])],
  ])('does not flag %s', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

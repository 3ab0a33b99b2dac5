import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import FileType from 'file-type';
import type { Client as StorageClient } from 'minio';
import { type Dispatcher, request } from 'undici';
import {
  AttachmentFailure,
  AttachmentKind,
  MAX_ATTACHMENT_REDIRECTS,
  checkAttachmentType,
  failureForStatus,
  isImageType,
  isRedirect,
} from '../domain/attachments';
import { SsrfBlockedError, checkUrlStatic } from '../http/ssrfGuard';

/** Bytes file-type needs to recognise every format we accept. */
const SNIFF_BYTES = 4100;
/**
 * A body of unknown length (chunked) that ends within this many bytes is stored with one PUT; a
 * longer one streams through a multipart upload in parts of this size. Either way no more than
 * this is held per fetch. A body with a Content-Length holds none of it (see streamToStore).
 */
export const STREAM_PART_BYTES = 5 * 1024 * 1024;
/** How long the presigned PUT of a streamed body stays valid; longer than any fetch may take. */
const STORE_PUT_EXPIRY_SECONDS = 60 * 60;

export interface FetchedBody {
  /** The final URL after redirects. */
  url: string;
  contentType: string;
  size: number;
  sha256: string;
  etag: string | null;
  /** The whole body, kept only for images (the variants are derived from it). */
  bytes: Buffer | null;
}

/** `notModified`: the origin answered a conditional GET with 304, so nothing was downloaded. */
export type FetchVerdict = { ok: true; body: FetchedBody } | { ok: true; notModified: true } | { ok: false; failure: AttachmentFailure };

/** A failure another attempt may cure (5xx, timeout, reset): thrown so the activity retries it. */
export class TransientFetchError extends Error {
  constructor(readonly failure: AttachmentFailure) {
    super(failure.message);
    this.name = 'TransientFetchError';
  }
}

export interface FetchOptions {
  url: string;
  kind: AttachmentKind;
  bucket: string;
  objectKey: string;
  maxBytes: number;
  allowTargets: string[];
  /** The guarded dispatcher (connect-time SSRF check, resolved address pinned). */
  dispatcher: Dispatcher;
  /** A store client whose partSize is STREAM_PART_BYTES. */
  storage: StorageClient;
  /** Carries the streamed PUT to the store (our own endpoint: not the guarded dispatcher). */
  storeDispatcher: Dispatcher;
  signal: AbortSignal;
  /** Called as bytes arrive (the activity heartbeats). */
  progress(bytes: number): void;
  /** The ETag of the copy already stored: sent as If-None-Match, so a 304 downloads nothing. */
  ifNoneMatch?: string;
}

class TooLargeError extends Error {}

/** Drops a body we will not read; its abort error has nobody to tell. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function tooLarge(maxBytes: number): AttachmentFailure {
  return { code: 'too_large', message: `The file is larger than the limit of ${maxBytes} bytes.` };
}

/** What a thrown request error means. SSRF refusals are final; network trouble is transient. */
function classify(error: unknown, signal: AbortSignal): AttachmentFailure & { transient: boolean } {
  const cause = (error as { cause?: unknown }).cause;
  const blocked = error instanceof SsrfBlockedError ? error : cause instanceof SsrfBlockedError ? cause : null;
  if (blocked) {
    if (blocked.kind === 'unresolvable') return { code: 'dns_failed', message: blocked.reason, transient: false };
    return { code: 'private_address_blocked', message: blocked.reason, transient: false };
  }
  const code = (error as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code;
  if (signal.aborted || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return { code: 'timeout', message: `The fetch timed out${signal.aborted && signal.reason instanceof Error ? `: ${signal.reason.message}` : ''}.`, transient: true };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { code: 'dns_failed', message: (error as Error).message, transient: false };
  return { code: 'url_unreachable', message: `The server could not be reached or dropped the connection: ${(error as Error).message}${code ? ` (${code})` : ''}`, transient: true };
}

/** Reads until `want` bytes are buffered or the body ends; returns what it read and whether it ended. */
async function readAhead(iterator: AsyncIterator<Buffer>, want: number, count: (chunk: Buffer) => void): Promise<{ head: Buffer; ended: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < want) {
    const next = await iterator.next();
    if (next.done) return { head: Buffer.concat(chunks), ended: true };
    count(next.value);
    chunks.push(next.value);
    length += next.value.length;
  }
  return { head: Buffer.concat(chunks), ended: false };
}

/**
 * GET `url` through the SSRF guard, following at most 5 redirects by hand (each hop checked
 * again), and streams the body into the store at `objectKey`: type checked by magic bytes before
 * anything is stored, aborted the moment it passes `maxBytes` whatever Content-Length said.
 * Final failures are verdicts; transient ones throw TransientFetchError. A failure stores nothing.
 */
export async function fetchIntoStore(options: FetchOptions): Promise<FetchVerdict> {
  const { maxBytes, signal } = options;
  let current = options.url;
  let response: Dispatcher.ResponseData | undefined;
  for (let hop = 0; ; hop += 1) {
    const verdict = checkUrlStatic(current, { allowTargets: options.allowTargets });
    if (!verdict.ok) {
      const code = verdict.kind === 'blocked_address' ? 'private_address_blocked' : 'url_unreachable';
      return { ok: false, failure: { code, message: hop === 0 ? verdict.reason : `Redirected to ${current}: ${verdict.reason}` } };
    }
    try {
      response = await request(verdict.url, {
        method: 'GET',
        dispatcher: options.dispatcher,
        signal,
        headers: { 'user-agent': 'Immoflow-AttachmentFetcher/1.0', accept: '*/*', ...(options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {}) },
      });
    } catch (error) {
      const failure = classify(error, signal);
      if (failure.transient) throw new TransientFetchError({ code: failure.code, message: failure.message });
      return { ok: false, failure: { code: failure.code, message: hop === 0 ? failure.message : `Redirected to ${current}: ${failure.message}` } };
    }
    if (!isRedirect(response.statusCode)) break;
    const location = response.headers.location;
    discard(response.body);
    if (typeof location !== 'string' || location === '') {
      return { ok: false, failure: { code: 'url_unreachable', message: `A ${response.statusCode} redirect without a Location header.` } };
    }
    if (hop + 1 > MAX_ATTACHMENT_REDIRECTS) {
      return { ok: false, failure: { code: 'too_many_redirects', message: `More than ${MAX_ATTACHMENT_REDIRECTS} redirects.` } };
    }
    try {
      current = new URL(location, current).toString();
    } catch {
      return { ok: false, failure: { code: 'url_unreachable', message: `A redirect to an invalid URL: ${location.slice(0, 200)}` } };
    }
  }

  const body = response.body;
  if (response.statusCode === 304 && options.ifNoneMatch) {
    discard(body);
    return { ok: true, notModified: true };
  }
  const statusFailure = failureForStatus(response.statusCode);
  if (statusFailure) {
    discard(body);
    if (statusFailure.code === 'http_5xx') throw new TransientFetchError(statusFailure);
    return { ok: false, failure: statusFailure };
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(body);
    return { ok: false, failure: tooLarge(maxBytes) };
  }

  const hash = createHash('sha256');
  let size = 0;
  // Until the type is known every chunk is kept; afterwards only an image's (for its variants).
  let keep = true;
  let overLimit = false;
  const kept: Buffer[] = [];
  const count = (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) {
      overLimit = true;
      throw new TooLargeError();
    }
    hash.update(chunk);
    if (keep) kept.push(chunk);
    options.progress(size);
  };
  const iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  // A declared length lets the body stream straight through to the store, a chunk at a time.
  const streamed = Number.isFinite(declared) && declared > 0;
  let uploadStarted = false;
  try {
    const { head, ended } = await readAhead(iterator, streamed ? SNIFF_BYTES : Math.min(STREAM_PART_BYTES, maxBytes + 1), count);
    const detected = await FileType.fromBuffer(head.subarray(0, SNIFF_BYTES));
    const typeFailure = head.length === 0 ? { code: 'unsupported_type' as const, message: 'The body is empty.' } : checkAttachmentType(options.kind, detected?.mime);
    if (typeFailure) return { ok: false, failure: typeFailure };
    const contentType = detected?.mime as string;
    keep = isImageType(contentType);
    if (!keep) kept.length = 0;
    const metadata = { 'Content-Type': contentType };
    uploadStarted = true;
    if (streamed) {
      await streamToStore(options, { head, ended, iterator, count, length: declared, contentType });
    } else if (ended) {
      await options.storage.putObject(options.bucket, options.objectKey, head, head.length, metadata);
    } else {
      // Longer than one part: stream the rest through a multipart upload, a part at a time.
      const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
      // The failure is the pump's to report; the store client does not listen on its source.
      stream.on('error', () => undefined);
      stream.write(head);
      const pump = (async () => {
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          count(next.value);
          if (!stream.write(next.value)) await new Promise((resolve) => stream.once('drain', resolve));
        }
        stream.end();
      })().catch((error: unknown) => {
        stream.destroy(error as Error);
        throw error;
      });
      // The declared size is only the upper bound that makes the client stream in parts.
      const upload = options.storage.putObject(options.bucket, options.objectKey, stream, maxBytes, metadata);
      await Promise.all([pump, upload]);
    }
    // The origin's validator, for the next run's conditional GET (the store's own ETag is no use there).
    const upstreamEtag = response.headers.etag;
    return {
      ok: true,
      body: {
        url: current,
        contentType,
        size,
        sha256: hash.digest('hex'),
        etag: typeof upstreamEtag === 'string' && upstreamEtag !== '' ? upstreamEtag : null,
        bytes: keep ? Buffer.concat(kept) : null,
      },
    };
  } catch (error) {
    discard(body);
    if (uploadStarted) await removeStored(options).catch(() => undefined);
    if (overLimit || error instanceof TooLargeError) return { ok: false, failure: tooLarge(maxBytes) };
    const failure = classify(error, signal);
    if (failure.transient) throw new TransientFetchError({ code: failure.code, message: failure.message });
    return { ok: false, failure: { code: failure.code, message: failure.message } };
  }
}

/**
 * One PUT of a body whose length the origin declared, through a presigned URL (its payload is
 * unsigned, so nothing has to be hashed, or held, before it is sent): the origin's chunks go to the
 * store as they arrive, with the origin's pace as back-pressure, so a fetch holds a few socket
 * buffers instead of its whole body. A body that ends short of its Content-Length fails the PUT,
 * and the store keeps nothing of an unfinished PUT.
 */
async function streamToStore(
  options: FetchOptions,
  body: { head: Buffer; ended: boolean; iterator: AsyncIterator<Buffer>; count(chunk: Buffer): void; length: number; contentType: string },
): Promise<void> {
  const url = await options.storage.presignedPutObject(options.bucket, options.objectKey, STORE_PUT_EXPIRY_SECONDS);
  async function* chunks(): AsyncGenerator<Buffer> {
    yield body.head;
    if (body.ended) return;
    for (;;) {
      const next = await body.iterator.next();
      if (next.done) return;
      body.count(next.value);
      yield next.value;
    }
  }
  const stored = await request(url, {
    method: 'PUT',
    dispatcher: options.storeDispatcher,
    signal: options.signal,
    headers: { 'content-length': String(body.length), 'content-type': body.contentType },
    // Byte-mode, so at most one socket buffer waits between the two connections.
    body: Readable.from(chunks(), { objectMode: false, highWaterMark: 64 * 1024 }),
  });
  const answer = await stored.body.text();
  if (stored.statusCode !== 200) throw new Error(`The store refused the upload (HTTP ${stored.statusCode}): ${answer.slice(0, 200)}`);
}

/** Whatever an aborted attempt left: the object (if it completed) and an unfinished multipart upload. */
export async function removeStored(options: Pick<FetchOptions, 'storage' | 'bucket' | 'objectKey'>): Promise<void> {
  await options.storage.removeIncompleteUpload(options.bucket, options.objectKey).catch(() => undefined);
  await options.storage.removeObject(options.bucket, options.objectKey);
}

import pino, { Logger } from 'pino';
import pretty, { PrettyOptions } from 'pino-pretty';
import type { Config } from '../config';

/** Lines are written once this much is queued, or at the latest after LOG_FLUSH_INTERVAL_MS. */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_INTERVAL_MS = 500;

/** Keys the pretty line shows in its fixed columns; the rest follow as compact JSON. */
const REQUEST_KEYS = ['request_id', 'method', 'path', 'status', 'duration_ms'] as const;

export type LogFormat = 'pretty' | 'json';

/** Readable lines for a person at `make dev`; JSON for everything that machines read. */
export function logFormatFor(nodeEnv: string | undefined): LogFormat {
  return (nodeEnv ?? 'development') === 'development' ? 'pretty' : 'json';
}

/**
 * One pretty line: `12:04:05.123 INFO (api): req_… GET /api/v1/me 200 3.1ms request completed {…}`.
 * Shared with the stack scripts (scripts/stack/log.ts) so `make dev` prints one style throughout.
 */
export function prettyOptions(): PrettyOptions {
  return {
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: ['pid', 'hostname', ...REQUEST_KEYS].join(','),
    singleLine: true,
    // The request's fields lead the message in a fixed order instead of trailing in the JSON of
    // the remaining keys, so a request line reads like an access log.
    customPrettifiers: { time: (time) => String(time) },
    messageFormat: (log, messageKey) => {
      const parts: string[] = [];
      if (log.request_id) parts.push(String(log.request_id));
      if (log.method) parts.push(`${String(log.method)} ${String(log.path ?? '')} ${String(log.status ?? '')} ${String(log.duration_ms ?? '')}ms`);
      parts.push(String(log[messageKey] ?? ''));
      return parts.join(' ');
    },
  };
}

const REDACT = { paths: ['req.headers["x-api-key"]', 'req.headers.authorization', '*.apiKey', '*.secret', '*.key'], censor: '[redacted]' };

/**
 * JSON lines on stdout, buffered: a busy API writes once per few kilobytes of lines instead of
 * once per request (a `write` per request line was about a tenth of the API's CPU under load),
 * and a quiet one still shows each line within LOG_FLUSH_INTERVAL_MS. pino flushes what is queued
 * when the process exits; only a SIGKILL or a crash of Node itself loses the last half second.
 *
 * In development the lines are prettified in-process and written synchronously instead: a
 * developer's API is not busy, and synchronous lines interleave in order with the `[dev]` runner's
 * and the other processes' output on the shared terminal.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'NODE_ENV'>>, name: string): Logger {
  const options = { name, level: config.LOG_LEVEL, redact: REDACT };
  if (logFormatFor(config.NODE_ENV) === 'pretty') {
    return pino(options, pretty({ ...prettyOptions(), destination: 1, sync: true }));
  }
  const destination = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES });
  setInterval(() => destination.flush(), LOG_FLUSH_INTERVAL_MS).unref();
  return pino(options, destination);
}

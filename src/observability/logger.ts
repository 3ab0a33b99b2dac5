import pino, { Logger } from 'pino';
import type { Config } from '../config';

/**
 * JSON lines on stdout. Asynchronous: a line is queued and written in the background, and lines
 * logged while a write is in flight go out together with the next, so a busy API makes one
 * write per batch instead of one per request (pino flushes what is queued when the process exits).
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino(
    {
      name,
      level: config.LOG_LEVEL,
      redact: { paths: ['req.headers["x-api-key"]', '*.apiKey', '*.secret', '*.key'], censor: '[redacted]' },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}

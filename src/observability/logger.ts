import pino, { Logger } from 'pino';
import type { Config } from '../config';

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    redact: { paths: ['req.headers["x-api-key"]', '*.apiKey', '*.secret', '*.key'], censor: '[redacted]' },
  });
}

import { createLogger, logFormatFor } from '../../src/observability/logger';

export interface ScriptLog {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/**
 * The runner's own lines. At `make dev` they are pino-pretty lines like the API's and the
 * worker's (`12:04:05.123 INFO (stack): postgres: …`), so the terminal shows one style; under
 * jest (NODE_ENV=test) and in production they stay plain `[stack] …` lines.
 */
export function scriptLog(name: 'stack' | 'dev', env: NodeJS.ProcessEnv = process.env): ScriptLog {
  if (logFormatFor(env.NODE_ENV) === 'pretty') {
    const logger = createLogger({ LOG_LEVEL: 'info', NODE_ENV: 'development' }, name);
    return { info: (line) => logger.info(line), warn: (line) => logger.warn(line), error: (line) => logger.error(line) };
  }
  return {
    info: (line) => console.log(`[${name}] ${line}`),
    warn: (line) => console.warn(`[${name}] ${line}`),
    error: (line) => console.error(`[${name}] ${line}`),
  };
}

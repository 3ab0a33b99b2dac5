import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from 'pino';

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * The SDK's own logs through our pino logger, one line each. Its INFO is about the SDK itself
 * (worker state changes, "bundle created", the 15-line webpack report when bundling from source),
 * so it drops to debug; workflow and activity context loggers (`log` from @temporalio/workflow and
 * /activity) are our code and keep their level. Warnings and errors keep theirs.
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  const sdk = logger.child({ component: 'temporal' });
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    const { sdkComponent, error, ...rest } = meta as LogMetadata & { sdkComponent?: string; error?: unknown };
    const ours = sdkComponent === 'workflow' || sdkComponent === 'activity';
    const pinoLevel = level === 'INFO' && !ours ? 'debug' : PINO_LEVEL[level];
    if (!sdk.isLevelEnabled(pinoLevel)) return;
    const fields: Record<string, unknown> = { ...rest, ...(sdkComponent ? { sdk_component: sdkComponent } : {}), ...(error !== undefined ? { err: error } : {}) };
    // Multi-line messages (the webpack report) become an array of lines in one record.
    const lines = message.split('\n').map((line) => line.trimEnd()).filter(Boolean);
    if (lines.length > 1) sdk[pinoLevel]({ ...fields, lines: lines.slice(1) }, lines[0]);
    else sdk[pinoLevel](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

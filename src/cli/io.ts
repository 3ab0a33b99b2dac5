import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { TemporalClientProvider } from '../temporal/client';

/** What every command may use: the configuration and the engines' clients. */
export interface CliDeps {
  config: Config;
  db: Db;
  temporal: TemporalClientProvider;
}

/** How a command reports: human text by default, one JSON document with --json. */
export interface CliOutput {
  json: boolean;
  write(text: string): void;
  error(text: string): void;
}

/** The invocation is wrong (unknown option, missing or ill-formed argument): exit code 2. */
export class UsageError extends Error {}

/** The invocation was well-formed but the thing is not there or the action failed: exit code 1. */
export class CliFailure extends Error {}

export function emit(out: CliOutput, data: unknown, human: string): void {
  out.write(out.json ? JSON.stringify(data, null, 2) : human);
}

export function requireOption(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value.trim();
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

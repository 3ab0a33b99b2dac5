import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { DependencyUnavailableError } from '../http/errors';

type TemporalConfig = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>;

export interface TemporalClientProvider {
  /** Connects on first use; a failed connect is retried by the next call, never cached. */
  get(): Promise<Client>;
  close(): Promise<void>;
}

/**
 * gRPC's reconnect back-off grows by 1.6× up to 120 s: after a minute's Temporal outage the
 * channel slept up to 30 s past the server's return, and the outbox relay's starts waited with it
 * (chaos scenario 4). Capped at 2 s, a relay retrying every second reconnects within about 2 s.
 */
export const RECONNECT_BACKOFF = { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2000 } as const;

/**
 * One lazily connected client per process. The API starts even while Temporal is down: writes
 * still commit (the outbox owes the workflow start) and /readyz reports Temporal as down.
 */
export function createTemporalClientProvider(config: TemporalConfig, connectTimeoutMs = 5000): TemporalClientProvider {
  let pending: Promise<Client> | undefined;
  let connection: Connection | undefined;

  return {
    get() {
      pending ??= Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: connectTimeoutMs, channelArgs: RECONNECT_BACKOFF })
        .then((connected) => {
          connection = connected;
          return new Client({ connection: connected, namespace: config.TEMPORAL_NAMESPACE });
        })
        .catch((error) => {
          pending = undefined;
          throw new DependencyUnavailableError('temporal', error);
        });
      return pending;
    },
    async close() {
      const closing = connection;
      pending = undefined;
      connection = undefined;
      await closing?.close();
    },
  };
}

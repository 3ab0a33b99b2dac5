import type { Logger } from 'pino';
import type { OutboxStarter, RelayLane } from './service';

export interface OutboxRelayOptions {
  /** How long an idle relay waits before it looks again (ms). */
  idleMs: number;
  /** The rows this loop claims: owed to the task queues its worker serves, of some workflow types. */
  lane: RelayLane;
  batchSize?: number;
  /** After a failed pass (Postgres unreachable), wait this long before the next (ms). */
  errorBackoffMs?: number;
}

export interface OutboxRelay {
  /** Finishes the pass in progress and the work it handed to a direct runner, then stops. */
  stop(): Promise<void>;
}

const RELAY_LEASE_SECONDS = 30;

/**
 * The outbox relay, run by every worker: it starts the workflows that committed writes owe
 * (DESIGN §5). A write only commits its rows and its outbox row; it never waits for Temporal, so
 * an API replica needs no Temporal round trip per write and keeps accepting writes while Temporal
 * is down. The relay drains the outbox in batches while there is work and polls every `idleMs`
 * when there is none (LISTEN/NOTIFY would wake it sooner, but a NOTIFY serialises the commits of
 * every notifying transaction, which is exactly the write path this keeps fast).
 */
export function startOutboxRelay(starter: OutboxStarter, logger: Logger, options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 100;
  const errorBackoffMs = options.errorBackoffMs ?? 1000;
  let stopping = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopping) {
      try {
        const pass = await starter.startOwed({ graceMs: 0, batchSize, leaseSeconds: RELAY_LEASE_SECONDS, ...options.lane });
        // A full batch means more is waiting; a failed start waits for the next poll, not at once.
        if (pass.claimed < batchSize || pass.failed > 0) await pause(pass.failed > 0 ? errorBackoffMs : options.idleMs);
      } catch (error) {
        logger.warn({ err: error }, 'outbox relay pass failed; retrying');
        await pause(errorBackoffMs);
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await starter.drain();
    },
  };
}

/**
 * One relay loop per lane, sharing one starter. Each loop claims the oldest rows of its own lane,
 * so a backlog owed to one (a thousand deliveries' first attempts after an outage) never stands
 * ahead of another's starts (the publishes of the next write).
 */
export function startOutboxRelays(starter: OutboxStarter, logger: Logger, options: Omit<OutboxRelayOptions, 'lane'> & { lanes: RelayLane[] }): OutboxRelay {
  const { lanes, ...shared } = options;
  const relays = lanes.map((lane) => startOutboxRelay(starter, logger, { ...shared, lane }));
  return {
    async stop() {
      await Promise.all(relays.map((relay) => relay.stop()));
    },
  };
}

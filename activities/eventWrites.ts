import type { Db } from '../src/db/knex';
import { EventFanoutSink, eventFanoutSink } from '../src/events/service';
import type { ActivityDeps } from './deps';

/**
 * Runs a write that appends events in one transaction. The webhook deliveries those events owe
 * are outbox rows of the same transaction; the outbox relay starts them after commit.
 */
export function createEventWriter({ db, config }: Pick<ActivityDeps, 'db' | 'config'>) {
  return async function withEvents<T>(write: (trx: Db, sink: EventFanoutSink) => Promise<T>): Promise<T> {
    return db.transaction((trx) => write(trx, eventFanoutSink(config)));
  };
}

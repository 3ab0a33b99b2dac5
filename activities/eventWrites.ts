import type { Db } from '../src/db/knex';
import { EventFanoutSink, eventFanoutSink } from '../src/events/service';
import type { ActivityDeps } from './deps';

/**
 * Runs a write that appends events, then starts the workflows those events owe (the outbox has
 * them either way, so a crash in between only delays them until the resync sweep).
 */
export function createEventWriter({ db, config, outbox }: Pick<ActivityDeps, 'db' | 'config' | 'outbox'>) {
  return async function withEvents<T>(write: (trx: Db, sink: EventFanoutSink) => Promise<T>): Promise<T> {
    const sink = eventFanoutSink(config);
    const result = await db.transaction((trx) => write(trx, sink));
    await outbox.dispatch(sink.owed);
    return result;
  };
}

import type { Config } from '../config';
import { geocodingTaskQueue } from '../domain/listingPipeline';

/**
 * Task queues. The main queue runs the listing pipeline and every other workflow but one;
 * rate-limited third parties get a queue of their own so that `maxTaskQueueActivitiesPerSecond`
 * throttles only them. Webhook deliveries' retries have their own queue and worker slots: a
 * backlog of retries to dead subscribers (after an outage, thousands at once) waits in its own
 * queue instead of ahead of publishes in the main one.
 */
export function taskQueues(config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>) {
  return {
    main: config.TEMPORAL_TASK_QUEUE,
    geocoding: geocodingTaskQueue(config.TEMPORAL_TASK_QUEUE),
    webhooks: `${config.TEMPORAL_TASK_QUEUE}-webhooks`,
  } as const;
}

/**
 * The queues whose owed starts a worker's outbox relays claim (the ones its workers serve with
 * workflows), one relay loop per group (startOutboxRelays).
 */
export function relayQueueGroups(config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>): string[][] {
  const queues = taskQueues(config);
  return [[queues.main], [queues.webhooks]];
}

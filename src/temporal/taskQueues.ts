import type { Config } from '../config';
import { geocodingTaskQueue } from '../domain/listingPipeline';

/**
 * Task queues. The main queue runs workflows and most activities; rate-limited third parties get
 * a queue of their own so that `maxTaskQueueActivitiesPerSecond` throttles only them.
 */
export function taskQueues(config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>) {
  return {
    main: config.TEMPORAL_TASK_QUEUE,
    geocoding: geocodingTaskQueue(config.TEMPORAL_TASK_QUEUE),
  } as const;
}

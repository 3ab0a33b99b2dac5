import type { Config } from '../config';
import { geocodingTaskQueue } from '../domain/listingPipeline';
import { WEBHOOK_DELIVERY_WORKFLOW, webhookActivityQueue } from '../domain/webhookDelivery';
import type { RelayLane } from '../outbox/service';

/**
 * Task queues. The main queue runs every workflow and most activities; rate-limited third parties
 * get a queue of their own so that `maxTaskQueueActivitiesPerSecond` throttles only them. Webhook
 * deliveries' attempts have their own queue and worker slots: a backlog of retries to dead
 * subscribers (after an outage, thousands at once) waits in its own queue instead of ahead of
 * publishes' activities. Their workflows run on the main queue: one workflow isolate per worker
 * process instead of two (issue 16's RSS), and a delivery's workflow has two short tasks in all.
 */
export function taskQueues(config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>) {
  return {
    main: config.TEMPORAL_TASK_QUEUE,
    geocoding: geocodingTaskQueue(config.TEMPORAL_TASK_QUEUE),
    webhooks: webhookActivityQueue(config.TEMPORAL_TASK_QUEUE),
  } as const;
}

/**
 * The lanes of a worker's outbox relay, one loop each (startOutboxRelays): webhook deliveries'
 * starts and first attempts in their own, so that a thousand first attempts to dead subscribers
 * never stand ahead of the next write's publish.
 */
export function relayLanes(config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>): RelayLane[] {
  const { main } = taskQueues(config);
  return [
    { taskQueues: [main], workflowTypes: { except: [WEBHOOK_DELIVERY_WORKFLOW] } },
    { taskQueues: [main], workflowTypes: { only: [WEBHOOK_DELIVERY_WORKFLOW] } },
  ];
}

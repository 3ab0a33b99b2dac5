import { proxyActivities } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks';

const { createDeliveriesForEvent } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** `event-fanout:<eventId>`: one delivery (and one webhookDelivery workflow) per matching subscription. */
export async function eventFanout(input: { orgId: string; eventId: string }): Promise<{ deliveries: number }> {
  return { deliveries: await createDeliveriesForEvent(input) };
}

import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from '../../support/context';

/**
 * A delivery's retries used to schedule their successor with an activity of the workflow's own
 * (scheduleNextAttempt); now the failed attempt does it in its transaction. A run begun before
 * that change must still replay on today's code: it follows the results in its history.
 */
it('replays a delivery recorded when the workflow scheduled each retry itself', async () => {
  // Recorded with the code before the change: the relay's failed attempt 1 (500), attempt 2 (503), attempt 3 (200).
  const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.resolve(__dirname, '../../fixtures/histories/webhookDelivery-workflow-schedules-retries.binpb')));
  const scheduled = (history.events ?? []).flatMap((event) => (event.activityTaskScheduledEventAttributes ? [event.activityTaskScheduledEventAttributes.activityType?.name] : []));
  expect(scheduled).toEqual(['scheduleNextAttempt', 'attemptDelivery', 'scheduleNextAttempt', 'attemptDelivery']);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'webhook-delivery:recorded');
});

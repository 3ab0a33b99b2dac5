import { Client, ScheduleAlreadyRunning, ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Config } from '../config';
import { scheduleIds } from '../domain/workflowIds';
import { taskQueues } from './taskQueues';

export function resyncScheduleOptions(config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'OUTBOX_RESYNC_INTERVAL'>): ScheduleOptions {
  return {
    scheduleId: scheduleIds.resync(taskQueues(config).main),
    spec: { intervals: [{ every: config.OUTBOX_RESYNC_INTERVAL }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'outboxResync',
      workflowId: 'outbox-resync',
      taskQueue: taskQueues(config).main,
      args: [],
    },
    // A slow sweep is not doubled up: the next tick is skipped while one runs.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    memo: { purpose: 'Starts workflows owed by committed outbox rows (DESIGN §5).' },
  };
}

export function tokenRefreshScheduleOptions(config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'TOKEN_REFRESH_INTERVAL'>): ScheduleOptions {
  return {
    scheduleId: scheduleIds.tokenRefresh(taskQueues(config).main),
    spec: { intervals: [{ every: config.TOKEN_REFRESH_INTERVAL }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'tokenRefresh',
      workflowId: `token-refresh:${taskQueues(config).main}`,
      taskQueue: taskQueues(config).main,
      args: [],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    memo: { purpose: "Renews every publication target's x-crm-token before its 6 h expiry (reference 001)." },
  };
}

/** Create, or bring an existing schedule up to date; safe on every worker start. */
export async function registerSchedule(client: Client, options: ScheduleOptions): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
    return 'updated';
  }
}

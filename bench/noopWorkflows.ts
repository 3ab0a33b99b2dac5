import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

/** The engine baseline of bench:webhooks: one workflow running one activity that does nothing. */
export async function noopWorkflow(): Promise<void> {
  await noop();
}

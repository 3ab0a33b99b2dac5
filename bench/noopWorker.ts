import { NativeConnection, Worker } from '@temporalio/worker';

/**
 * The engine baseline's worker for bench:webhooks: noopWorkflow and its no-op activity, run as a
 * child process with the SDK's default worker settings, like src/worker.ts runs the real workflows.
 */
async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.NOOP_TASK_QUEUE as string,
    workflowsPath: require.resolve('./noopWorkflows'),
    activities: { noop: async () => undefined },
  });
  // The effective settings (SDK defaults): the real worker, on the same Node, compiles the same ones.
  const { maxCachedWorkflows, tuner, workflowTaskPollerBehavior, activityTaskPollerBehavior, nonStickyToStickyPollRatio, reuseV8Context } = worker.options;
  console.log(`noop worker options ${JSON.stringify({ maxCachedWorkflows, tuner, workflowTaskPollerBehavior, activityTaskPollerBehavior, nonStickyToStickyPollRatio, reuseV8Context })}`);
  console.log('noop worker started');
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

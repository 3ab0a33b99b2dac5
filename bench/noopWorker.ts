import { NativeConnection, Worker } from '@temporalio/worker';

/** Runs noopWorkflow with default worker settings, like src/worker.ts does for the real workflows. */
async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.NOOP_TASK_QUEUE as string,
    workflowsPath: require.resolve('./noopWorkflows'),
    activities: { noop: async () => undefined },
  });
  console.log('noop worker started');
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

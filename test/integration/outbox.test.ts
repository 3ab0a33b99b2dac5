import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { freePort } from '../../scripts/stack/processes';
import { createOutboxDispatcher, enqueueWorkflowStart } from '../../src/outbox/service';
import { registerSchedule, resyncScheduleOptions } from '../../src/temporal/schedules';
import { searchAttributeKeys } from '../../src/temporal/searchAttributes';
import { createMainWorker } from '../../src/temporal/workerFactory';
import { Registry } from 'prom-client';
import { TestContext, createTestContext, eventually, seedOrganization, workflowBundle } from '../support/context';

/**
 * DESIGN §5: a write committed while Temporal is unreachable for the API is not lost; the
 * worker's resync Schedule starts the workflow it owes, once.
 */
let worker: { ctx: TestContext; connection: NativeConnection; instance: Worker; running: Promise<void> };

beforeAll(async () => {
  const ctx = await createTestContext({ OUTBOX_RESYNC_INTERVAL: '1s', OUTBOX_RESYNC_GRACE: '0s' });
  const connection = await NativeConnection.connect({ address: ctx.deps.config.TEMPORAL_ADDRESS });
  const instance = await createMainWorker({ connection, deps: ctx.deps, metrics: new Registry(), workflowBundle: await workflowBundle() });
  worker = { ctx, connection, instance, running: instance.run() };
});

afterAll(async () => {
  const client = await worker.ctx.deps.temporal.get();
  await client.schedule.getHandle(resyncScheduleOptions(worker.ctx.deps.config).scheduleId).delete().catch(() => undefined);
  worker.instance.shutdown();
  await worker.running;
  await worker.connection.close();
  await worker.ctx.close();
});

it('starts a workflow committed while Temporal was down, through the resync schedule, exactly once', async () => {
  const org = await seedOrganization(worker.ctx.deps);

  // The API's view of Temporal: nothing listens there.
  const api = await createTestContext({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
  const workflowId = `outbox-probe:${randomUUID()}`;
  const probeQueue = `probe-${randomUUID()}`;
  const owed = { workflowType: 'outboxProbe', workflowId, taskQueue: probeQueue, args: [{ orgId: org.organization.id }], searchAttributes: { OrgId: [org.organization.id] } };
  try {
    await api.deps.db.transaction((trx) => enqueueWorkflowStart(trx, owed, org.organization.id));
    const fastPath = await api.deps.outbox.dispatch([owed]);
    expect(fastPath).toEqual({ started: 0, deferred: 1 });
  } finally {
    await api.close();
  }
  const deferred = await worker.ctx.deps.db('outbox').where({ workflow_id: workflowId }).first();
  expect(deferred).toMatchObject({ status: 'pending', attempts: 1 });
  expect(deferred.last_error).toEqual(expect.stringContaining('temporal'));

  // The worker side registers the schedule (twice: registration is idempotent).
  const client = await worker.ctx.deps.temporal.get();
  const options = resyncScheduleOptions(worker.ctx.deps.config);
  await registerSchedule(client, options);
  expect(await registerSchedule(client, options)).toBe('updated');

  const row = await eventually(async () => {
    const current = await worker.ctx.deps.db('outbox').where({ workflow_id: workflowId }).first();
    return current.status === 'started' ? current : undefined;
  });
  expect(row.attempts).toBe(2);

  const description = await client.workflow.getHandle(workflowId).describe();
  expect(description.type).toBe('outboxProbe');
  expect(description.taskQueue).toBe(probeQueue);
  expect(description.typedSearchAttributes.get(searchAttributeKeys.OrgId)).toBe(org.organization.id);

  // A later sweep, or a racing fast path, does not start a second run.
  const again = await createOutboxDispatcher(worker.ctx.deps.db, worker.ctx.deps.temporal, worker.ctx.deps.logger);
  await worker.ctx.deps.db('outbox').where({ workflow_id: workflowId }).update({ status: 'pending' });
  await again.dispatch([owed]);
  const runs = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(execution.runId);
  expect(runs).toEqual([description.runId]);

  // The sweep itself ran as a workflow started by the schedule, visible to operators.
  const sweeps = await client.schedule.getHandle(options.scheduleId).describe();
  expect(sweeps.info.recentActions.length).toBeGreaterThan(0);

  await client.workflow.getHandle(workflowId).terminate('test finished');
});

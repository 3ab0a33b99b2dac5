import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { freePort } from '../../scripts/stack/processes';
import { Db, createDb, migrateToLatest } from '../../src/db/knex';
import type { WorkflowStart } from '../../src/domain/outbox';
import { createOutboxDispatcher, enqueueWorkflowStart, enqueueWorkflowStarts } from '../../src/outbox/service';
import { TemporalClientProvider, createTemporalClientProvider } from '../../src/temporal/client';
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

/**
 * The sweep itself, on a database of its own: no other test file's sweep (every worker registers
 * the resync schedule) can take these rows, so every start is this test's.
 */
describe('outbox sweep', () => {
  let database: string;
  let db: Db;

  beforeAll(async () => {
    const url = new URL(worker.ctx.deps.config.DATABASE_URL);
    database = `${url.pathname.slice(1)}_sweep`;
    await admin((client) => client.query(`create database "${database}"`));
    url.pathname = `/${database}`;
    db = createDb({ DATABASE_URL: url.toString(), DATABASE_POOL_MAX: 4 });
    await migrateToLatest(db);
  });

  afterAll(async () => {
    await db?.destroy();
    if (database) await admin((client) => client.query(`drop database if exists "${database}" with (force)`));
  });

  async function admin<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
    const client = new PgClient({ connectionString: worker.ctx.deps.config.DATABASE_URL });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  /** Pending rows old enough for any grace period. */
  async function owe(count: number): Promise<WorkflowStart[]> {
    const queue = `probe-${randomUUID()}`;
    const starts = Array.from({ length: count }, (_, index) => ({
      workflowType: 'outboxProbe',
      workflowId: `outbox-sweep-probe:${randomUUID()}:${index}`,
      taskQueue: queue,
      args: [],
    }));
    await db.transaction((trx) => enqueueWorkflowStarts(trx, starts, null));
    await db('outbox').whereIn('workflow_id', starts.map((start) => start.workflowId)).update({ created_at: db.raw("now() - interval '1 minute'") });
    return starts;
  }

  /** The real Temporal client, with every workflow start it makes counted by workflow id. */
  function countingTemporal(counts: Map<string, number>): TemporalClientProvider {
    const provider = createTemporalClientProvider(worker.ctx.deps.config);
    let counted: Client | undefined;
    return {
      async get() {
        const client = await provider.get();
        if (counted !== client) {
          const start = client.workflow.start.bind(client.workflow);
          client.workflow.start = ((type: string, options: { workflowId: string }) => {
            counts.set(options.workflowId, (counts.get(options.workflowId) ?? 0) + 1);
            return start(type, options as never);
          }) as typeof client.workflow.start;
          counted = client;
        }
        return client;
      },
      close: () => provider.close(),
    };
  }

  async function terminate(starts: WorkflowStart[]) {
    const client = await worker.ctx.deps.temporal.get();
    await Promise.all(starts.map((start) => client.workflow.getHandle(start.workflowId).terminate('test finished').catch(() => undefined)));
  }

  it('starts each row once when two sweeps run at the same time', async () => {
    const owed = await owe(30);
    const counts = new Map<string, number>();
    const temporals = [countingTemporal(counts), countingTemporal(counts)];
    const [first, second] = temporals.map((temporal) => createOutboxDispatcher(db, temporal, worker.ctx.deps.logger));
    try {
      // Batches of 10: each round the two sweeps compete for the same oldest rows.
      const results = [];
      for (let round = 0; round < 3; round += 1) results.push(...(await Promise.all([first.sweep(0, 10), second.sweep(0, 10)])));
      expect(results.reduce((sum, result) => sum + result.started, 0)).toBe(30);
      expect(results.reduce((sum, result) => sum + result.failed, 0)).toBe(0);
      expect(new Set(counts.values())).toEqual(new Set([1]));
      expect([...counts.keys()].sort()).toEqual(owed.map((start) => start.workflowId).sort());

      const rows = await db('outbox').whereIn('workflow_id', owed.map((start) => start.workflowId));
      expect(rows.every((row) => row.status === 'started' && row.attempts === 1 && row.claimed_until === null)).toBe(true);
      expect(await first.sweep(0)).toEqual({ started: 0, failed: 0 });
    } finally {
      await terminate(owed);
      await Promise.all(temporals.map((temporal) => temporal.close()));
    }
  });

  it('holds no transaction or row lock while Temporal does not answer', async () => {
    const [owed] = await owe(1);
    // Temporal's address accepts TCP connections and never answers: the start waits out the
    // client's connect timeout, the way a hung or partitioned Temporal makes it wait.
    const sockets: net.Socket[] = [];
    let called: () => void = () => undefined;
    const calling = new Promise<void>((resolve) => (called = resolve));
    const blackhole = net.createServer((socket) => {
      sockets.push(socket);
      called();
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(blackhole.address() as net.AddressInfo).port}`;
    const hung = createTemporalClientProvider({ TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' }, 6000);
    const counts = new Map<string, number>();
    const healthy = countingTemporal(counts);
    try {
      const sweeping = createOutboxDispatcher(db, hung, worker.ctx.deps.logger).sweep(0);
      await calling;

      // No session of the sweep's database is inside a transaction...
      const open = await db.raw(
        'select pid, state, xact_start from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null',
      );
      expect(open.rows).toEqual([]);
      // ...the row is not locked: another session locks and updates it at once...
      await db.transaction(async (trx) => {
        await trx.raw("set local lock_timeout = '500ms'");
        const [row] = await trx('outbox').where({ workflow_id: owed.workflowId }).forUpdate().select('claimed_until');
        // ...and it is claimed, so a second sweep (with a Temporal that answers) leaves it alone.
        expect(row.claimed_until.getTime()).toBeGreaterThan(Date.now());
        await trx('outbox').where({ workflow_id: owed.workflowId }).update({ last_error: 'touched while the sweep waits' });
      });
      expect(await createOutboxDispatcher(db, healthy, worker.ctx.deps.logger).sweep(0)).toEqual({ started: 0, failed: 0 });
      expect(counts.size).toBe(0);

      expect(await sweeping).toEqual({ started: 0, failed: 1 });
      const failed = await db('outbox').where({ workflow_id: owed.workflowId }).first();
      expect(failed).toMatchObject({ status: 'pending', attempts: 1, claimed_until: null });
      expect(failed.last_error).toEqual(expect.stringContaining('temporal'));

      // The failed sweep gave its claim back: the next sweep starts the row at once.
      expect(await createOutboxDispatcher(db, healthy, worker.ctx.deps.logger).sweep(0)).toEqual({ started: 1, failed: 0 });
      expect(counts.get(owed.workflowId)).toBe(1);
    } finally {
      await terminate([owed]);
      await hung.close();
      await healthy.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });
});

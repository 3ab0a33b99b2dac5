import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { freePort } from '../../scripts/stack/processes';
import { Db, createDb, migrateToLatest } from '../../src/db/knex';
import type { WorkflowStart } from '../../src/domain/outbox';
import { startOutboxRelay } from '../../src/outbox/relay';
import { createOutboxStarter, enqueueWorkflowStart, enqueueWorkflowStarts } from '../../src/outbox/service';
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
  const deps = { ...ctx.deps, outbox: createOutboxStarter(ctx.deps.db, ctx.deps.temporal, ctx.deps.logger) };
  const instance = await createMainWorker({ connection, deps, metrics: new Registry(), workflowBundle: await workflowBundle() });
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

it('registers the resync schedule idempotently; its sweeps start owed rows as a backstop behind the relays', async () => {
  const org = await seedOrganization(worker.ctx.deps);
  const workflowId = `outbox-probe:${randomUUID()}`;
  const probeQueue = `probe-${randomUUID()}`;
  const owed = { workflowType: 'outboxProbe', workflowId, taskQueue: probeQueue, args: [{ orgId: org.organization.id }], searchAttributes: { OrgId: [org.organization.id] } };

  const client = await worker.ctx.deps.temporal.get();
  const options = resyncScheduleOptions(worker.ctx.deps.config);
  await registerSchedule(client, options);
  expect(await registerSchedule(client, options)).toBe('updated');
  await worker.ctx.deps.db.transaction((trx) => enqueueWorkflowStart(trx, owed, org.organization.id));

  // This file runs no relay; another test file's relay may take the row first, which is fine.
  const row = await eventually(async () => {
    const current = await worker.ctx.deps.db('outbox').where({ workflow_id: workflowId }).first();
    return current.status === 'started' ? current : undefined;
  });
  expect(row.last_error).toBeNull();

  const description = await client.workflow.getHandle(workflowId).describe();
  expect(description.type).toBe('outboxProbe');
  expect(description.taskQueue).toBe(probeQueue);
  expect(description.typedSearchAttributes.get(searchAttributeKeys.OrgId)).toBe(org.organization.id);
  const runs = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(execution.runId);
  expect(runs).toEqual([description.runId]);

  // The sweep runs as a workflow started by the schedule, visible to operators.
  const sweeps = await eventually(async () => {
    const described = await client.schedule.getHandle(options.scheduleId).describe();
    return described.info.recentActions.length > 0 ? described : undefined;
  });
  expect(sweeps.info.recentActions[0].action.workflow.workflowId).toEqual(expect.stringContaining('outbox-resync'));

  await client.workflow.getHandle(workflowId).terminate('test finished');
});

/**
 * The relay and the sweep, on a database of their own: no other test file's relay or sweep can
 * take these rows, so every start is this test's.
 */
it('owes several signals to one workflow id as rows of their own, and delivers each with signal-with-start', async () => {
  const { db, config } = worker.ctx.deps;
  const partnerId = randomUUID();
  const workflowId = `partner-onboarding:${partnerId}:outbox-agency`;
  const soon = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
  const signalRow = (linkId: string, expiresAt: string): WorkflowStart => ({
    workflowType: 'partnerOnboarding',
    workflowId,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ partnerId, agencyId: 'outbox-agency', keyMode: 'test', keyRetrySchedule: '0s', redeliveryWindowMs: 1000 }],
    searchAttributes: { PartnerId: [partnerId] },
    signal: { name: 'linkIssued', args: [{ linkId, expiresAt }] },
    startKey: `linkIssued:${linkId}`,
  });
  const first = signalRow(randomUUID(), soon(2));
  const second = signalRow(randomUUID(), soon(4));
  await db.transaction((trx) => enqueueWorkflowStarts(trx, [first, first], null));
  await db.transaction((trx) => enqueueWorkflowStart(trx, second, null));
  // The same row twice is still one row; a second signal for the same id is another.
  expect(await db('outbox').where({ workflow_id: workflowId }).count({ n: '*' }).first()).toEqual({ n: '2' });

  const starter = createOutboxStarter(db, worker.ctx.deps.temporal, worker.ctx.deps.logger);
  await eventually(async () => {
    // Scoped to this file's queue: jest runs another file at once on the same database.
    await starter.startOwed({ graceMs: 0, batchSize: 100, leaseSeconds: 30, taskQueues: [config.TEMPORAL_TASK_QUEUE] });
    const rows = await db('outbox').where({ workflow_id: workflowId });
    return rows.every((row) => row.status === 'started');
  });
  const client = await worker.ctx.deps.temporal.get();
  const handle = client.workflow.getHandle(workflowId);
  // A signal that arrives during a workflow task enters the history when that task completes.
  const linkSignals = async () =>
    ((await handle.fetchHistory()).events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'linkIssued');
  await eventually(async () => (await linkSignals()).length >= 2, 10_000, 50);
  expect(await linkSignals()).toHaveLength(2);
  // The second link extended the wait: the run ends when it expires, not at the first's expiry.
  expect(await handle.result()).toEqual({ status: 'expired' });
  const closed = (await handle.describe()).closeTime as Date;
  expect(closed.getTime()).toBeGreaterThanOrEqual(Date.parse((second.signal?.args[0] as { expiresAt: string }).expiresAt) - 50);
});

describe('outbox relay and sweep', () => {
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

  const SWEEP = { graceMs: 30_000, batchSize: 100, leaseSeconds: 300 };
  /** The rows this block owes, and so the queue its relays serve. */
  const relayQueue = `probe-${randomUUID()}`;

  /** Pending rows, by default backdated past any grace period. */
  async function owe(count: number, { backdate = true } = {}): Promise<WorkflowStart[]> {
    const starts = Array.from({ length: count }, (_, index) => ({
      workflowType: 'outboxProbe',
      workflowId: `outbox-sweep-probe:${randomUUID()}:${index}`,
      taskQueue: relayQueue,
      args: [],
    }));
    await db.transaction((trx) => enqueueWorkflowStarts(trx, starts, null));
    if (backdate) await db('outbox').whereIn('workflow_id', starts.map((start) => start.workflowId)).update({ created_at: db.raw("now() - interval '1 minute'") });
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
    const [first, second] = temporals.map((temporal) => createOutboxStarter(db, temporal, worker.ctx.deps.logger));
    const batch = { graceMs: 0, batchSize: 10, leaseSeconds: 30, taskQueues: [relayQueue] };
    try {
      // Batches of 10: each round the two sweeps compete for the same oldest rows.
      const results = [];
      for (let round = 0; round < 3; round += 1) results.push(...(await Promise.all([first.startOwed(batch), second.startOwed(batch)])));
      expect(results.reduce((sum, result) => sum + result.started, 0)).toBe(30);
      expect(results.reduce((sum, result) => sum + result.failed, 0)).toBe(0);
      expect(new Set(counts.values())).toEqual(new Set([1]));
      expect([...counts.keys()].sort()).toEqual(owed.map((start) => start.workflowId).sort());

      const rows = await db('outbox').whereIn('workflow_id', owed.map((start) => start.workflowId));
      expect(rows.every((row) => row.status === 'started' && row.attempts === 1 && row.claimed_until === null)).toBe(true);
      expect(await first.startOwed(batch)).toEqual({ claimed: 0, started: 0, failed: 0 });
    } finally {
      await terminate(owed);
      await Promise.all(temporals.map((temporal) => temporal.close()));
    }
  });

  it("claims for a relay only the rows of its own task queue, leaving another deployment's to it", async () => {
    const [ours] = await owe(1, { backdate: false });
    const theirs = { workflowType: 'outboxProbe', workflowId: `outbox-sweep-probe:${randomUUID()}:theirs`, taskQueue: `probe-${randomUUID()}`, args: [] };
    await db.transaction((trx) => enqueueWorkflowStarts(trx, [theirs], null));
    // Dated ahead so that no resync sweep (this file's runs every second) takes it meanwhile.
    await db('outbox').where({ workflow_id: theirs.workflowId }).update({ created_at: db.raw("now() + interval '1 hour'") });
    await createOutboxStarter(db, countingTemporal(new Map()), worker.ctx.deps.logger).startOwed({ graceMs: 0, batchSize: 100, leaseSeconds: 30, taskQueues: [relayQueue] });
    const rows = await db('outbox').whereIn('workflow_id', [ours.workflowId, theirs.workflowId]);
    expect(rows.find((row) => row.workflow_id === ours.workflowId)).toMatchObject({ status: 'started' });
    expect(rows.find((row) => row.workflow_id === theirs.workflowId)).toMatchObject({ status: 'pending', claimed_until: null, attempts: 0 });
    await db('outbox').where({ workflow_id: theirs.workflowId }).delete();
  });

  it('relays a committed row within moments, and keeps it owed while Temporal is unreachable', async () => {
    const counts = new Map<string, number>();
    const unreachable = createTemporalClientProvider({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, TEMPORAL_NAMESPACE: 'default' }, 500);
    const healthy = countingTemporal(counts);
    const [owed] = await owe(1);
    const down = startOutboxRelay(createOutboxStarter(db, unreachable, worker.ctx.deps.logger), worker.ctx.deps.logger, { idleMs: 50, errorBackoffMs: 100, lane: { taskQueues: [relayQueue] } });
    try {
      const failing = await eventually(async () => {
        const row = await db('outbox').where({ workflow_id: owed.workflowId }).first();
        return row.attempts >= 2 ? row : undefined;
      });
      expect(failing).toMatchObject({ status: 'pending', started_at: null });
      expect(failing.last_error).toEqual(expect.stringContaining('temporal'));
      await down.stop();

      // Temporal answers again: a relay starts the row it owes, once, and a fresh write at once.
      const up = startOutboxRelay(createOutboxStarter(db, healthy, worker.ctx.deps.logger), worker.ctx.deps.logger, { idleMs: 50, lane: { taskQueues: [relayQueue] } });
      try {
        const [fresh] = await owe(1, { backdate: false });
        const committedAt = Date.now();
        const started = await eventually(async () => {
          const rows = await db('outbox').whereIn('workflow_id', [owed.workflowId, fresh.workflowId]).where({ status: 'started' });
          return rows.length === 2 ? rows : undefined;
        }, 10_000, 20);
        expect(Date.now() - committedAt).toBeLessThan(5000);
        for (const row of started) expect(row).toMatchObject({ last_error: null, claimed_until: null });
        expect(counts.get(owed.workflowId)).toBe(1);
        expect(counts.get(fresh.workflowId)).toBe(1);
        await terminate([owed, fresh]);
      } finally {
        await up.stop();
      }
    } finally {
      await down.stop();
      await unreachable.close();
      await healthy.close();
    }
  });

  it('ends a pass at the first failing group of starts and gives every claim back', async () => {
    const owed = await owe(20);
    const unreachable = createTemporalClientProvider({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, TEMPORAL_NAMESPACE: 'default' }, 500);
    try {
      const pass = await createOutboxStarter(db, unreachable, worker.ctx.deps.logger).startOwed({ graceMs: 0, batchSize: 20, leaseSeconds: 30, taskQueues: [relayQueue] });
      expect(pass).toEqual({ claimed: 20, started: 0, failed: 8 });
      const rows = await db('outbox').whereIn('workflow_id', owed.map((start) => start.workflowId));
      expect(rows.every((row) => row.status === 'pending' && row.claimed_until === null)).toBe(true);
      expect(rows.filter((row) => row.attempts === 1)).toHaveLength(8);
      expect(rows.filter((row) => row.attempts === 0)).toHaveLength(12);
    } finally {
      await db('outbox').whereIn('workflow_id', owed.map((start) => start.workflowId)).delete();
      await unreachable.close();
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
      const sweeping = createOutboxStarter(db, hung, worker.ctx.deps.logger).startOwed(SWEEP);
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
      expect(await createOutboxStarter(db, healthy, worker.ctx.deps.logger).startOwed(SWEEP)).toEqual({ claimed: 0, started: 0, failed: 0 });
      expect(counts.size).toBe(0);

      expect(await sweeping).toEqual({ claimed: 1, started: 0, failed: 1 });
      const failed = await db('outbox').where({ workflow_id: owed.workflowId }).first();
      expect(failed).toMatchObject({ status: 'pending', attempts: 1, claimed_until: null });
      expect(failed.last_error).toEqual(expect.stringContaining('temporal'));

      // The failed sweep gave its claim back: the next sweep starts the row at once.
      expect(await createOutboxStarter(db, healthy, worker.ctx.deps.logger).startOwed(SWEEP)).toEqual({ claimed: 1, started: 1, failed: 0 });
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

import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import type { SqlFragment } from '../db/sql';
import type { WorkflowStart } from '../domain/outbox';
import type { TemporalClientProvider } from '../temporal/client';
import { toTypedSearchAttributes } from '../temporal/searchAttributes';

interface OutboxRow {
  id: string;
  workflow_type: string;
  workflow_id: string;
  task_queue: string;
  args: unknown[];
  search_attributes: Record<string, string[]>;
  start_key: string;
  signal_name: string | null;
  signal_args: unknown[] | null;
}

/**
 * Records, inside the caller's transaction, that workflows must be started once it commits.
 * Idempotent by workflow id: enqueueing the same work twice keeps one row. The outbox relay of
 * every worker starts them moments after commit (src/outbox/relay.ts).
 */
export async function enqueueWorkflowStarts(trx: Db, starts: WorkflowStart[], orgId: string | null): Promise<void> {
  if (starts.length === 0) return;
  const insert = workflowStartsInsert(starts, orgId);
  await trx.raw(insert.sql, insert.bindings);
}

export function enqueueWorkflowStart(trx: Db, start: WorkflowStart, orgId: string | null): Promise<void> {
  return enqueueWorkflowStarts(trx, [start], orgId);
}

/**
 * The outbox insert of `starts` (at least one), as SQL a single-statement write can embed: the
 * rows are inserted only when `guard` (an SQL condition) holds.
 */
export function workflowStartsInsert(starts: WorkflowStart[], orgId: string | null, guard = 'true'): SqlFragment {
  return {
    sql: `insert into outbox (org_id, workflow_type, workflow_id, task_queue, args, search_attributes, start_key, signal_name, signal_args)
        select v.* from (values ${starts.map(() => '(?::uuid, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?::jsonb)').join(', ')})
          as v(org_id, workflow_type, workflow_id, task_queue, args, search_attributes, start_key, signal_name, signal_args)
        where ${guard}
        on conflict (workflow_id, start_key) do nothing`,
    bindings: starts.flatMap((start) => [
      orgId,
      start.workflowType,
      start.workflowId,
      start.taskQueue,
      JSON.stringify(start.args),
      JSON.stringify(start.searchAttributes ?? {}),
      start.startKey ?? '',
      start.signal?.name ?? null,
      start.signal ? JSON.stringify(start.signal.args) : null,
    ]),
  };
}

/** Starts at a time per batch: enough to hide Temporal's round trip, few enough to stay polite. */
const START_PARALLELISM = 8;

function fromRow(row: OutboxRow): WorkflowStart {
  return {
    workflowType: row.workflow_type,
    workflowId: row.workflow_id,
    taskQueue: row.task_queue,
    args: row.args,
    searchAttributes: row.search_attributes,
    startKey: row.start_key,
    ...(row.signal_name ? { signal: { name: row.signal_name, args: row.signal_args ?? [] } } : {}),
  };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
  return message.slice(0, 2000);
}

export interface StartOwedOptions {
  /** Only rows older than this (ms): the resync sweep leaves young rows to the relay. */
  graceMs: number;
  batchSize: number;
  /**
   * How long the claimer owns the rows it claimed. It only needs to outlast the batch's starts:
   * a claim that lapses mid-batch (or outlives a crashed claimer) at worst lets another claimer
   * start the same workflow id again, which is a no-op.
   */
  leaseSeconds: number;
  /**
   * Only rows owed to these task queues: a relay serves its own deployment's queues, so two
   * deployments (or test files) sharing a database never run each other's owed work with the
   * wrong config. The resync sweep passes none and starts every row left over.
   */
  taskQueues?: string[];
  /** Only rows of these workflow types, or of every type but these (a relay lane of its own). */
  workflowTypes?: { only: string[] } | { except: string[] };
}

/** What one relay loop claims (src/temporal/taskQueues.ts relayLanes). */
export type RelayLane = Required<Pick<StartOwedOptions, 'taskQueues'>> & Pick<StartOwedOptions, 'workflowTypes'>;

export interface StartOwedResult {
  claimed: number;
  /** Started, or handed to the direct runner (which settles its rows itself). */
  started: number;
  failed: number;
}

/** An owed start its claimer holds until `leaseMs` from the claim. */
export interface ClaimedStart {
  outboxId: string;
  leaseMs: number;
  start: WorkflowStart;
}

/**
 * Does some owed work itself instead of starting its workflow (a webhook delivery's first attempt,
 * src/webhooks/firstAttempts.ts). `take` answers at once: undefined leaves the row to an ordinary
 * start; a promise means the runner took it, and resolves once the runner has settled it (null:
 * done, the row marked in the runner's own transaction) or to the start still owed. A rejection
 * gives the claim back.
 */
export interface DirectRunner {
  take(claimed: ClaimedStart): Promise<WorkflowStart | null> | undefined;
  /** Gives back (rejects) what it took but has not begun: the relay is stopping. */
  stop(): void;
}

export interface OutboxStarterOptions {
  direct?: DirectRunner;
  /**
   * Ask for eager start: the server hands the new run's first workflow task back in the start's
   * answer to a worker of this process, instead of queueing it for a poll. Needs a client on the
   * worker's NativeConnection (the SDK refuses otherwise); the SDK asks only when a worker of the
   * start's task queue has a free slot.
   */
  eagerStart?: boolean;
}

/**
 * Starts the workflows that committed transactions owe (DESIGN §5), for the outbox relay and the
 * resync sweep. Several claimers (every worker runs a relay) may work at once: each first claims
 * its rows with a lease in one short statement (SKIP LOCKED, so claimers never wait on each
 * other), then starts them outside any transaction, so Temporal being slow or down never keeps a
 * Postgres transaction or row lock open. Ids are deterministic and started with USE_EXISTING /
 * REJECT_DUPLICATE, so a start that races another is harmless.
 */
export function createOutboxStarter(db: Db, temporal: TemporalClientProvider, logger: Logger, { direct, eagerStart = false }: OutboxStarterOptions = {}) {
  const settling = new Set<Promise<void>>();

  async function start(owed: WorkflowStart): Promise<void> {
    const client = await temporal.get();
    if (owed.signal) {
      // A signal is owed to whichever run holds the id now; a closed run's id may start afresh
      // (a reconnect after a finished onboarding). The workflow judges a duplicate signal itself.
      await client.workflow.signalWithStart(owed.workflowType, {
        workflowId: owed.workflowId,
        taskQueue: owed.taskQueue,
        args: owed.args,
        signal: owed.signal.name,
        signalArgs: owed.signal.args,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: toTypedSearchAttributes(owed.searchAttributes),
      });
      return;
    }
    try {
      await client.workflow.start(owed.workflowType, {
        workflowId: owed.workflowId,
        taskQueue: owed.taskQueue,
        args: owed.args,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: toTypedSearchAttributes(owed.searchAttributes),
        ...(eagerStart ? { requestEagerStart: true } : {}),
      });
    } catch (error) {
      // The workflow already ran to completion under this id: the work is done, not owed.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  async function claim({ graceMs, batchSize, leaseSeconds, taskQueues, workflowTypes }: StartOwedOptions): Promise<OutboxRow[]> {
    const claimable = db('outbox')
      .select('id')
      .where({ status: 'pending' })
      .modify((query) => {
        if (graceMs > 0) query.where('created_at', '<', new Date(Date.now() - graceMs));
        if (taskQueues) query.whereIn('task_queue', taskQueues);
        if (workflowTypes && 'only' in workflowTypes) query.whereIn('workflow_type', workflowTypes.only);
        if (workflowTypes && 'except' in workflowTypes) query.whereNotIn('workflow_type', workflowTypes.except);
      })
      // Claimable: unclaimed, or its claim lapsed, or the time its holder deferred it to came
      // (a refused first attempt's row holds attempt 2 until it is due, src/webhooks/firstAttempts.ts).
      // In that order, on the index outbox_claimable_idx, so deferred rows are never scanned early.
      .whereRaw('coalesce(claimed_until, created_at) <= now()')
      .orderByRaw('coalesce(claimed_until, created_at)')
      .limit(batchSize)
      .forUpdate()
      .skipLocked();
    const claimed: (OutboxRow & { created_at: Date })[] = await db('outbox')
      .whereIn('id', claimable)
      .update({ claimed_until: db.raw('now() + make_interval(secs => ?)', [leaseSeconds]) })
      .returning(['id', 'workflow_type', 'workflow_id', 'task_queue', 'args', 'search_attributes', 'start_key', 'signal_name', 'signal_args', 'created_at']);
    return claimed.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
  }

  async function markStarted(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await db('outbox')
      .whereIn('id', ids)
      .update({ status: 'started', started_at: db.fn.now(), attempts: db.raw('attempts + 1'), last_error: null, claimed_until: null });
  }

  async function giveBack(id: string, error: unknown): Promise<void> {
    await db('outbox')
      .where({ id })
      .update({ attempts: db.raw('attempts + 1'), last_error: describe(error), claimed_until: null });
  }

  /** The direct runner's rows settle in the background; the relay goes on claiming meanwhile. */
  function settle(row: OutboxRow, taken: Promise<WorkflowStart | null>): void {
    const settled = taken
      .then(async (owed) => {
        if (!owed) return;
        await start(owed);
        await markStarted([row.id]);
      })
      .catch(async (error) => {
        logger.warn({ err: error, workflowId: row.workflow_id }, 'owed work did not settle; it stays owed');
        await giveBack(row.id, error).catch(() => undefined);
      })
      .finally(() => settling.delete(settled));
    settling.add(settled);
  }

  function takeDirect(rows: OutboxRow[], leaseSeconds: number): OutboxRow[] {
    if (!direct) return rows;
    return rows.filter((row) => {
      const taken = direct.take({ outboxId: row.id, leaseMs: leaseSeconds * 1000, start: fromRow(row) });
      if (taken) settle(row, taken);
      return !taken;
    });
  }

  return {
    /**
     * Claims up to `batchSize` owed starts and starts them, a few at a time. A failed start gives
     * its claim back for the next pass, and so does the rest of the batch: when Temporal is down,
     * one failing group ends the pass instead of a hundred starts each waiting to fail.
     */
    async startOwed(options: StartOwedOptions): Promise<StartOwedResult> {
      const claimed = await claim(options);
      const rows = takeDirect(claimed, options.leaseSeconds);
      const started: string[] = [];
      let failed = 0;
      const startOne = async (row: OutboxRow) => {
        try {
          await start(fromRow(row));
          started.push(row.id);
        } catch (error) {
          failed += 1;
          logger.warn({ err: error, workflowId: row.workflow_id }, 'could not start an owed workflow; it stays owed');
          await giveBack(row.id, error);
        }
      };
      let index = 0;
      for (; index < rows.length && failed === 0; index += START_PARALLELISM) {
        await Promise.all(rows.slice(index, index + START_PARALLELISM).map(startOne));
      }
      const untried = rows.slice(index).map((row) => row.id);
      if (untried.length) await db('outbox').whereIn('id', untried).update({ claimed_until: null });
      await markStarted(started);
      return { claimed: claimed.length, started: started.length + claimed.length - rows.length, failed };
    },

    /** Waits until the work the direct runner took has settled (a worker's graceful stop). */
    async drain(): Promise<void> {
      direct?.stop();
      while (settling.size) await Promise.all([...settling]);
    },
  };
}

export type OutboxStarter = ReturnType<typeof createOutboxStarter>;

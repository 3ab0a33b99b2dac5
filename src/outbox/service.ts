import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Db } from '../db/knex';
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
}

/**
 * Records, inside the caller's transaction, that a workflow must be started once it commits.
 * Idempotent by workflow id: enqueueing the same work twice keeps one row. Returns the start, for
 * the caller to hand to `dispatch` after commit.
 */
export async function enqueueWorkflowStart(trx: Db, start: WorkflowStart, orgId: string | null): Promise<WorkflowStart> {
  await enqueueWorkflowStarts(trx, [start], orgId);
  return start;
}

/** `enqueueWorkflowStart` for several starts of one organisation: one multi-row insert. */
export async function enqueueWorkflowStarts(trx: Db, starts: WorkflowStart[], orgId: string | null): Promise<WorkflowStart[]> {
  if (starts.length === 0) return starts;
  await trx('outbox')
    .insert(
      starts.map((start) => ({
        org_id: orgId,
        workflow_type: start.workflowType,
        workflow_id: start.workflowId,
        task_queue: start.taskQueue,
        args: JSON.stringify(start.args),
        search_attributes: start.searchAttributes ?? {},
      })),
    )
    .onConflict('workflow_id')
    .ignore();
  return starts;
}

const DISPATCH_PARALLELISM = 8;

/**
 * How long a sweep owns the rows it claimed. Longer than the sweep activity's start-to-close
 * timeout (2 minutes, workflows/outboxResync.ts), so a sweep still starting its batch is not
 * doubled by the next one.
 */
const CLAIM_LEASE = '5 minutes';

function fromRow(row: OutboxRow): WorkflowStart {
  return { workflowType: row.workflow_type, workflowId: row.workflow_id, taskQueue: row.task_queue, args: row.args, searchAttributes: row.search_attributes };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
  return message.slice(0, 2000);
}

/**
 * Starts owed workflows and marks their outbox rows started. Used by the API right after commit
 * (fast path) and by the resync sweep for rows left behind. Both may race on one row: the
 * deterministic workflow id with USE_EXISTING / REJECT_DUPLICATE makes the loser's start a no-op,
 * which is also why the fast path may mark rows through the relaxed (no fsync wait) pool: a lost
 * mark only means the sweep starts the same id once more, harmlessly.
 */
export function createOutboxDispatcher(db: Db, temporal: TemporalClientProvider, logger: Logger, relaxedDb: Db = db) {
  async function start(owed: WorkflowStart): Promise<void> {
    const client = await temporal.get();
    try {
      await client.workflow.start(owed.workflowType, {
        workflowId: owed.workflowId,
        taskQueue: owed.taskQueue,
        args: owed.args,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: toTypedSearchAttributes(owed.searchAttributes),
      });
    } catch (error) {
      // The workflow already ran to completion under this id: the work is done, not owed.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  async function markStarted(executor: Db, workflowId: string): Promise<void> {
    await executor('outbox')
      .where({ workflow_id: workflowId, status: 'pending' })
      .update({ status: 'started', started_at: executor.fn.now(), attempts: executor.raw('attempts + 1'), last_error: null, claimed_until: null });
  }

  /** `releaseClaim`: the sweep gives its lease back, so the next sweep retries the row at once. */
  async function markFailed(executor: Db, workflowId: string, error: unknown, releaseClaim = false): Promise<void> {
    await executor('outbox')
      .where({ workflow_id: workflowId })
      .update({ attempts: executor.raw('attempts + 1'), last_error: describe(error), ...(releaseClaim ? { claimed_until: null } : {}) });
  }

  const dispatcher = {
    /** Fast path after commit. Never throws: a failure leaves the row for the resync sweep. */
    async dispatch(owed: WorkflowStart[]): Promise<{ started: number; deferred: number }> {
      let started = 0;
      const startOne = async (workflow: WorkflowStart) => {
        try {
          await start(workflow);
          await markStarted(relaxedDb, workflow.workflowId);
          started += 1;
        } catch (error) {
          logger.warn({ err: error, workflowId: workflow.workflowId }, 'workflow start deferred to the resync sweep');
          await markFailed(relaxedDb, workflow.workflowId, error).catch(() => undefined);
        }
      };
      // A fan-out owes up to one start per subscription: a few at a time, not one after another.
      for (let index = 0; index < owed.length; index += DISPATCH_PARALLELISM) {
        await Promise.all(owed.slice(index, index + DISPATCH_PARALLELISM).map(startOne));
      }
      return { started, deferred: owed.length - started };
    },

    /**
     * Dispatch without making the caller wait: used right after an HTTP response is sent. The
     * outbox rows already make these starts durable; this only makes them fast.
     */
    dispatchSoon(owed: WorkflowStart[]): void {
      if (owed.length) setImmediate(() => void dispatcher.dispatch(owed));
    },

    /**
     * Starts pending rows older than `graceMs` (younger ones are still owned by their fast path).
     * Several workers may sweep at once: each first claims its rows with a lease in one short
     * statement (SKIP LOCKED, so claimers do not wait on each other), then starts them outside
     * any transaction. Temporal being slow or down thus never keeps a Postgres transaction or row
     * lock open. A claim that outlives its sweep (a crash) lapses after CLAIM_LEASE; a start that
     * still races (lease lapsed mid-sweep, or the fast path) is a no-op by workflow id.
     */
    async sweep(graceMs: number, batchSize = 100): Promise<{ started: number; failed: number }> {
      const claimable = db('outbox')
        .select('id')
        .where({ status: 'pending' })
        .where('created_at', '<', new Date(Date.now() - graceMs))
        .where((unclaimed) => unclaimed.whereNull('claimed_until').orWhere('claimed_until', '<', db.fn.now()))
        .orderBy('created_at')
        .limit(batchSize)
        .forUpdate()
        .skipLocked();
      const claimed: (OutboxRow & { created_at: Date })[] = await db('outbox')
        .whereIn('id', claimable)
        .update({ claimed_until: db.raw(`now() + interval '${CLAIM_LEASE}'`) })
        .returning(['id', 'workflow_type', 'workflow_id', 'task_queue', 'args', 'search_attributes', 'created_at']);
      const rows = claimed.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());

      let started = 0;
      const startOne = async (row: OutboxRow) => {
        try {
          await start(fromRow(row));
          await markStarted(db, row.workflow_id);
          started += 1;
        } catch (error) {
          logger.warn({ err: error, workflowId: row.workflow_id }, 'resync could not start workflow');
          await markFailed(db, row.workflow_id, error, true);
        }
      };
      for (let index = 0; index < rows.length; index += DISPATCH_PARALLELISM) {
        await Promise.all(rows.slice(index, index + DISPATCH_PARALLELISM).map(startOne));
      }
      return { started, failed: rows.length - started };
    },
  };
  return dispatcher;
}

export type OutboxDispatcher = ReturnType<typeof createOutboxDispatcher>;

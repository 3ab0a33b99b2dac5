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
 * Idempotent by workflow id: enqueueing the same work twice keeps one row.
 */
export async function enqueueWorkflowStart(trx: Db, start: WorkflowStart, orgId: string | null): Promise<void> {
  await trx('outbox')
    .insert({
      org_id: orgId,
      workflow_type: start.workflowType,
      workflow_id: start.workflowId,
      task_queue: start.taskQueue,
      args: JSON.stringify(start.args),
      search_attributes: start.searchAttributes ?? {},
    })
    .onConflict('workflow_id')
    .ignore();
}

/**
 * Starts outbox rows and marks them started. Used by the API right after commit (fast path) and by
 * the resync sweep for rows left behind. Both may race on one row: the deterministic workflow id
 * with USE_EXISTING / REJECT_DUPLICATE makes the loser's start a no-op.
 */
export function createOutboxDispatcher(db: Db, temporal: TemporalClientProvider, logger: Logger) {
  async function startRow(row: OutboxRow, executor: Db): Promise<void> {
    const client = await temporal.get();
    try {
      await client.workflow.start(row.workflow_type, {
        workflowId: row.workflow_id,
        taskQueue: row.task_queue,
        args: row.args,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: toTypedSearchAttributes(row.search_attributes),
      });
    } catch (error) {
      // The workflow already ran to completion under this id: the work is done, not owed.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    await executor('outbox')
      .where({ id: row.id })
      .update({ status: 'started', started_at: executor.fn.now(), attempts: executor.raw('attempts + 1'), last_error: null });
  }

  async function recordFailure(row: OutboxRow, error: unknown, executor: Db): Promise<void> {
    const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
    await executor('outbox').where({ id: row.id }).update({ attempts: executor.raw('attempts + 1'), last_error: message.slice(0, 2000) });
  }

  return {
    /** Fast path after commit. Never throws: a failure leaves the row for the resync sweep. */
    async dispatch(workflowIds: string[]): Promise<{ started: number; deferred: number }> {
      if (workflowIds.length === 0) return { started: 0, deferred: 0 };
      const rows: OutboxRow[] = await db('outbox').whereIn('workflow_id', workflowIds).where({ status: 'pending' });
      let started = 0;
      for (const row of rows) {
        try {
          await startRow(row, db);
          started += 1;
        } catch (error) {
          logger.warn({ err: error, workflowId: row.workflow_id }, 'workflow start deferred to the resync sweep');
          await recordFailure(row, error, db).catch(() => undefined);
        }
      }
      return { started, deferred: rows.length - started };
    },

    /**
     * Starts pending rows older than `graceMs` (younger ones are still owned by their fast path).
     * Row locks with SKIP LOCKED let several workers sweep at once without double work.
     */
    async sweep(graceMs: number, batchSize = 100): Promise<{ started: number; failed: number }> {
      return db.transaction(async (trx) => {
        const rows: OutboxRow[] = await trx('outbox')
          .where({ status: 'pending' })
          .where('created_at', '<', new Date(Date.now() - graceMs))
          .orderBy('created_at')
          .limit(batchSize)
          .forUpdate()
          .skipLocked();
        let started = 0;
        for (const row of rows) {
          try {
            await startRow(row, trx);
            started += 1;
          } catch (error) {
            logger.warn({ err: error, workflowId: row.workflow_id }, 'resync could not start workflow');
            await recordFailure(row, error, trx);
          }
        }
        return { started, failed: rows.length - started };
      });
    },
  };
}

export type OutboxDispatcher = ReturnType<typeof createOutboxDispatcher>;

import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { ActivityDeps, createActivities, createGeocodingQueueActivities, createWebhookQueueActivities } from '../../activities';
import type { GeocodingProvider } from '../geocoding/types';
import { temporalLogger } from '../observability/temporalLogger';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { type OutboxRelay, startOutboxRelays } from '../outbox/relay';
import { createOutboxStarter } from '../outbox/service';
import { type RetryPacer, createRetryPacer } from '../webhooks/attempts';
import { createFirstAttemptRunner } from '../webhooks/firstAttempts';
import type { TemporalClientProvider } from './client';
import { relayLanes, taskQueues } from './taskQueues';

/** The prebuilt bundle `npm run build` writes (samples-typescript `production` pattern). */
export const DEFAULT_WORKFLOW_BUNDLE = path.resolve(__dirname, '../../workflow-bundle.js');

export function workflowSource(config: Pick<Config, 'TEMPORAL_WORKFLOW_BUNDLE'>): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundlePath = config.TEMPORAL_WORKFLOW_BUNDLE ?? (fs.existsSync(DEFAULT_WORKFLOW_BUNDLE) ? DEFAULT_WORKFLOW_BUNDLE : undefined);
  if (bundlePath) return { workflowBundle: { codePath: bundlePath } };
  // Development: bundle from source at start-up (slower start, no build step).
  return { workflowsPath: require.resolve('../../workflows') };
}

/**
 * Installs the SDK runtime with our logger; call it before the first NativeConnection or Worker
 * (the runtime is a process-wide singleton created on first use). Core's native logs are
 * forwarded too, at WARN and above unless LOG_LEVEL is debug or trace.
 */
export function installTemporalRuntime(logger: Logger): Runtime {
  const verbose = logger.isLevelEnabled('debug');
  return Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: { logging: { forward: {}, filter: { core: verbose ? 'DEBUG' : 'WARN', other: verbose ? 'WARN' : 'ERROR' } } },
  });
}

/** Counts and times every activity so the worker's /metrics shows where pipeline time goes. */
function activityMetrics(registry: Registry) {
  const completed =
    (registry.getSingleMetric('immoflow_activity_executions_total') as Counter<'activity' | 'outcome'> | undefined) ??
    new Counter({
      name: 'immoflow_activity_executions_total',
      help: 'Activity executions by name and outcome',
      labelNames: ['activity', 'outcome'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('immoflow_activity_duration_seconds') as Histogram<'activity'> | undefined) ??
    new Histogram({
      name: 'immoflow_activity_duration_seconds',
      help: 'Activity execution duration',
      labelNames: ['activity'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
      registers: [registry],
    });
  return { completed, duration };
}

export function instrumentActivities<T extends object>(activities: T, registry: Registry): T {
  const { completed, duration } = activityMetrics(registry);
  const instrumented = Object.entries(activities as Record<string, (...args: never[]) => Promise<unknown>>).map(([name, fn]) => [
    name,
    async (...args: never[]) => {
      const stop = duration.startTimer({ activity: name });
      try {
        const result = await fn(...args);
        completed.inc({ activity: name, outcome: 'success' });
        return result;
      } catch (error) {
        completed.inc({ activity: name, outcome: 'failure' });
        throw error;
      } finally {
        stop();
      }
    },
  ]);
  return Object.fromEntries(instrumented) as T;
}

/** The worker settings an operator set; the SDK's defaults for the rest. */
function workerSettings(config: Pick<Config, 'WORKER_MAX_CACHED_WORKFLOWS' | 'WORKER_MAX_CONCURRENT_ACTIVITIES'>): Partial<WorkerOptions> {
  return {
    ...(config.WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS } : {}),
    ...(config.WORKER_MAX_CONCURRENT_ACTIVITIES !== undefined ? { maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES } : {}),
  };
}

export interface CreateWorkerOptions {
  connection: NativeConnection;
  deps: ActivityDeps;
  metrics: Registry;
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** A worker that runs the workflow bundle on `taskQueue`, with these activities instrumented. */
function createWorkflowWorker({ connection, deps, metrics, workflowBundle }: CreateWorkerOptions, taskQueue: string, activities: object, settings: Partial<WorkerOptions>): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueue,
    ...(workflowBundle ? { workflowBundle } : workflowSource(deps.config)),
    activities: instrumentActivities(activities, metrics),
    ...settings,
  });
}

/** Every workflow and activity of Immoflow on the main task queue. */
export async function createMainWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { deps, metrics } = options;
  return createWorkflowWorker(options, taskQueues(deps.config).main, createActivities({ ...deps, metrics }), workerSettings(deps.config));
}

/**
 * Webhook deliveries' activities (their attempts), on their own queue with their own slots and
 * rate: a retry backlog never stands between the main queue's activities and their pollers. The
 * delivery workflows run on the main queue. With `legacyWorkflows` it also polls the workflow tasks
 * of runs begun when they ran on this queue (webhookQueueHasWorkflows), at the cost of a second
 * workflow isolate.
 */
export async function createWebhookWorker(options: CreateWorkerOptions & { legacyWorkflows: boolean }): Promise<Worker> {
  const { connection, deps, metrics, legacyWorkflows } = options;
  const activitySettings: Partial<WorkerOptions> = {
    maxConcurrentActivityTaskExecutions: deps.config.WEBHOOK_RETRY_CONCURRENCY,
    maxActivitiesPerSecond: deps.config.WEBHOOK_RETRY_ATTEMPTS_PER_SECOND,
  };
  const queue = taskQueues(deps.config).webhooks;
  const activities = createWebhookQueueActivities(deps);
  if (legacyWorkflows) return createWorkflowWorker(options, queue, activities, { ...activitySettings, maxCachedWorkflows: LEGACY_WEBHOOK_CACHED_WORKFLOWS });
  return Worker.create({
    connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueue: queue,
    activities: instrumentActivities(activities, metrics),
    ...activitySettings,
  });
}

/** Runs left on the webhooks queue wait on a retry between two short tasks: a small cache does. */
const LEGACY_WEBHOOK_CACHED_WORKFLOWS = 100;

/**
 * Whether any delivery workflow still runs on the webhooks queue, or is owed a start there: runs
 * begun before their workflows moved to the main queue, or started by a worker of that release
 * during a rolling deploy. Those need a workflow poller on that queue until they end.
 */
export async function webhookQueueHasWorkflows(client: Client, db: Db, config: Config): Promise<boolean> {
  const queue = taskQueues(config).webhooks;
  const owed = await db('outbox').where({ task_queue: queue, status: 'pending' }).first('id');
  if (owed) return true;
  const { count } = await client.workflow.count(`TaskQueue = '${queue}' AND ExecutionStatus = 'Running'`);
  return count > 0;
}

/**
 * Geocoding activities on their own queue. A public Nominatim allows 1 request/s: the server
 * enforces that across every worker with maxTaskQueueActivitiesPerSecond, no sleeps involved.
 * The offline provider has no such limit.
 */
export async function createGeocodingWorker(options: Omit<CreateWorkerOptions, 'workflowBundle'> & { geocoder?: GeocodingProvider }): Promise<Worker> {
  const { connection, deps, metrics, geocoder } = options;
  const remote = Boolean(deps.config.GEOCODER_URL);
  return Worker.create({
    connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueue: taskQueues(deps.config).geocoding,
    activities: instrumentActivities(createGeocodingQueueActivities({ ...deps, geocoder }), metrics),
    ...(remote ? { maxTaskQueueActivitiesPerSecond: deps.config.GEOCODER_MAX_REQUESTS_PER_SECOND } : {}),
  });
}

/**
 * The outbox starter of a worker's relay, on the workers' own connection, so that starts may be
 * eager (OutboxStarterOptions.eagerStart). Unlike the resync sweep's, it makes webhook deliveries'
 * first attempts itself and starts their workflows only for the ones that did not succeed.
 */
function createRelayOutboxStarter({ db, client, logger, config, retryPacer }: { db: Db; client: Client; logger: Logger; config: Config; retryPacer: RetryPacer }) {
  const temporal: TemporalClientProvider = { get: async () => client, close: async () => undefined };
  return createOutboxStarter(db, temporal, logger, { direct: createFirstAttemptRunner({ db, config, logger, retryPacer }), eagerStart: true });
}

/**
 * What one worker process runs: the main, webhooks and geocoding workers and the outbox relay's
 * starter, sharing one retry pacer, so that the relay's first attempts and the webhooks worker's
 * retries keep to one WEBHOOK_RETRY_ATTEMPTS_PER_SECOND, and its relay's lanes. src/worker.ts and
 * the tests build it here.
 */
export async function createWorkerProcess(options: CreateWorkerOptions) {
  const { connection, deps } = options;
  const client = new Client({ connection, namespace: deps.config.TEMPORAL_NAMESPACE });
  const retryPacer = createRetryPacer(deps.config.WEBHOOK_RETRY_ATTEMPTS_PER_SECOND);
  const shared = { ...options, deps: { ...deps, retryPacer } };
  const legacyWebhookWorkflows = await webhookQueueHasWorkflows(client, deps.db, deps.config);
  if (legacyWebhookWorkflows) deps.logger.info({ taskQueue: taskQueues(deps.config).webhooks }, 'delivery workflows still run on the webhooks queue: polling their workflow tasks too, until a restart finds none');
  const workers = [await createMainWorker(shared), await createWebhookWorker({ ...shared, legacyWorkflows: legacyWebhookWorkflows }), await createGeocodingWorker(shared)];
  const relayStarter = createRelayOutboxStarter({ db: deps.db, client, logger: deps.logger, config: deps.config, retryPacer });
  /** The process's outbox relay, one loop per lane (relayLanes); start it once the workers run. */
  const startRelay = (): OutboxRelay => startOutboxRelays(relayStarter, deps.logger, { idleMs: deps.config.OUTBOX_RELAY_INTERVAL, lanes: relayLanes(deps.config) });
  return { workers, startRelay };
}

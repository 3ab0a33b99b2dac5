import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { bundleWorkflowCode, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import pino from 'pino';
import { Config, loadConfig } from '../../src/config';
import { createDb, createRelaxedDb } from '../../src/db/knex';
import { AppDeps, FeatureRouterFactory, createApp } from '../../src/http/app';
import { createIdentityService } from '../../src/identity/service';
import { createMetricsRegistry } from '../../src/observability/metrics';
import { featureRouters, internalRouters } from '../../src/routes';
import { configureImageBucket } from '../../src/images/storage';
import { createStorageClient, ensureBuckets } from '../../src/storage/minio';
import { createTemporalClientProvider } from '../../src/temporal/client';

/** Config for a test: the stack's env from globalSetup plus per-test overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}

export interface TestContext {
  deps: AppDeps;
  close(): Promise<void>;
}

/** Real engines, wired as the API wires them; each test file gets its own task queue. */
export async function createTestContext(overrides: Record<string, string> = {}): Promise<TestContext> {
  const config = testConfig({ TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`, ...overrides });
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const db = createDb(config);
  const relaxedDb = createRelaxedDb(config);
  const temporal = createTemporalClientProvider(config, 2000);
  const storage = createStorageClient(config);
  const deps: AppDeps = {
    config,
    db,
    relaxedDb,
    logger,
    temporal,
    storage,
    identity: createIdentityService(db, relaxedDb),
    metrics: createMetricsRegistry('api'),
  };
  if (!overrides.S3_ENDPOINT) {
    await ensureBuckets(storage, config);
    await configureImageBucket(storage, config, logger);
  }
  return {
    deps,
    async close() {
      await temporal.close();
      await Promise.all([db.destroy(), relaxedDb.destroy()]);
    },
  };
}

export interface TestApi {
  baseUrl: string;
  request(method: string, path: string, options?: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** The real Express app on a loopback port, driven over real HTTP. */
export async function startTestApi(deps: AppDeps, routers: FeatureRouterFactory[] = featureRouters, port = 0): Promise<TestApi> {
  const server = createApp(deps, routers, internalRouters).listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.key) headers['X-API-Key'] = options.key;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['Content-Type'] = 'application/json';
      } else if (body !== undefined) {
        headers['Content-Type'] ??= 'application/json';
      }
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { freePort } from '../../scripts/stack/processes';

/** An organisation with an owner, a full-scope secret key and a publishable key. */
export async function seedOrganization(deps: Pick<AppDeps, 'identity'>, options: { flags?: ('LISTINGS_WRITE_API_ENABLED' | 'WEBHOOKS_PUBLIC_API_ENABLED')[]; plan?: 'free' | 'pro' | 'enterprise' } = {}) {
  const suffix = randomUUID().slice(0, 8);
  const { organization, ownerUserId } = await deps.identity.createOrganization({
    name: `Test Org ${suffix}`,
    plan: options.plan ?? 'pro',
    flags: options.flags ?? ['LISTINGS_WRITE_API_ENABLED', 'WEBHOOKS_PUBLIC_API_ENABLED'],
    ownerEmail: `owner-${suffix}@example.com`,
  });
  const secret = await deps.identity.createApiKey({ orgId: organization.id, kind: 'secret', mode: 'test', scopes: ['*:delete'] });
  const publishable = await deps.identity.createApiKey({ orgId: organization.id, kind: 'publishable', mode: 'test', scopes: ['listings:read'] });
  return { organization, ownerUserId, secretKey: secret.key, secretKeyId: secret.record.id, publishableKey: publishable.key };
}

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the real workflows once per test file (DESIGN: never per test). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundlePromise ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger });
  return bundlePromise;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}

import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDurationMs } from './domain/duration';
import { DEFAULT_TASK_QUEUE } from './domain/workflowIds';

/**
 * The single source of runtime configuration. Every process (api, worker, cli, scripts) reads
 * its settings through `loadConfig`, so a variable documented in the README exists exactly once.
 * Defaults are the `make dev` values; production overrides them through the environment.
 */
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 500ms, 10s, 5m or 2h')
  .transform(parseDurationMs);

const httpUrl = () => z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

/** `ip`, `ip:port` or `[ipv6]:port`, as dns.Resolver#setServers takes them. */
function isDnsServer(entry: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) return isIP(bracketed[1]) === 6 && (bracketed[2] === undefined || Number(bracketed[2]) <= 65535);
  if (isIP(entry)) return true;
  const v4 = /^([^:]+):(\d{1,5})$/.exec(entry);
  return Boolean(v4 && isIP(v4[1]) === 4 && Number(v4[2]) <= 65535);
}

const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  PUBLIC_BASE_URL: httpUrl().default('http://localhost:3000'),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/immoflow'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).default(10),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  // `<queue>-webhooks` names the webhooks activity queue (src/temporal/taskQueues.ts): a main
  // queue with that suffix would share it.
  TEMPORAL_TASK_QUEUE: z
    .string()
    .min(1)
    .refine((queue) => !queue.endsWith('-webhooks'), 'must not end in "-webhooks", the suffix of the webhooks activity queue')
    .default(DEFAULT_TASK_QUEUE),
  TEMPORAL_WORKFLOW_BUNDLE: z.string().optional(),
  // Worker settings (docs/BENCHMARKS.md measures them); unset means the SDK's default.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).optional(),
  S3_ENDPOINT: httpUrl().default('http://127.0.0.1:9000'),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY: z.string().default('immoflow'),
  S3_SECRET_KEY: z.string().default('immoflow-dev-secret'),
  S3_BUCKET_IMAGES: z.string().default('immoflow-images'),
  S3_BUCKET_ATTACHMENTS: z.string().default('immoflow-attachments'),
  S3_BUCKET_MAIL: z.string().default('immoflow-mail'),
  S3_PUBLIC_ENDPOINT: httpUrl().optional(),
  S3_NOTIFICATION_ARN: z.string().default('arn:minio:sqs::IMMOFLOW:webhook'),
  STORAGE_NOTIFICATION_TOKEN: z.string().min(16, 'at least 16 characters (openssl rand -hex 24)').optional(),
  IMAGE_UPLOAD_URL_TTL: duration.prefault('10m'),
  IMAGE_UPLOAD_POLL_INTERVAL: duration.prefault('15s'),
  RATE_LIMIT_PER_HOUR: z.coerce.number().int().min(1).default(1000),
  AUTH_CACHE_TTL: duration.prefault('10s'),
  HTTP_BODY_LIMIT: z.string().default('1mb'),
  OUTBOX_RELAY_INTERVAL: duration.prefault('100ms'),
  OUTBOX_RESYNC_INTERVAL: duration.prefault('1m'),
  OUTBOX_RESYNC_GRACE: duration.prefault('30s'),
  DEPENDENCY_TIMEOUT: duration.prefault('2s'),
  METRICS_ENABLED: flag.default(true),
  IDEMPOTENCY_TTL: duration.prefault('24h'),
  GEOCODER_URL: httpUrl().optional(),
  GEOCODER_USER_AGENT: z.string().min(3).default('Immoflow/0.1 (+https://github.com/immoflow/immoflow)'),
  GEOCODER_MAX_REQUESTS_PER_SECOND: z.coerce.number().positive().default(1),
  MODERATION_PROHIBITED_WORDS: z
    .string()
    .default('')
    .transform((text) => text.split(',').map((word) => word.trim()).filter(Boolean)),
  MODERATION_RENT_PER_SQM_MIN: z.coerce.number().nonnegative().default(3),
  MODERATION_RENT_PER_SQM_MAX: z.coerce.number().positive().default(60),
  MODERATION_REVIEW_TIMEOUT: duration.prefault('72h'),
  MODERATION_REVIEW_TIMEOUT_OUTCOME: z.enum(['approved', 'rejected']).default('rejected'),
  WEBHOOK_SECRET_ENCRYPTION_KEY: z
    .string()
    .refine((text) => Buffer.from(text, 'base64').length === 32, 'base64 of exactly 32 random bytes (openssl rand -base64 32)')
    .optional(),
  WEBHOOK_RETRY_SCHEDULE: z.string().default('0s,5s,5m,30m,2h,5h,10h,10h,10h'),
  WEBHOOK_TIMEOUT: duration.prefault('10s'),
  WEBHOOK_ALLOW_TARGETS: z
    .string()
    .default('')
    .transform((text) => text.split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean)),
  // DNS servers the SSRF guard asks instead of the system resolver (`ip:port`, comma-separated);
  // lets a test or chaos run answer for its own names, rebinding included. Empty: getaddrinfo.
  SSRF_DNS_SERVERS: z
    .string()
    .default('')
    .transform((text) => text.split(',').map((entry) => entry.trim()).filter(Boolean))
    .refine((entries) => entries.every(isDnsServer), 'comma-separated ip:port entries, e.g. 127.0.0.1:5353 or [::1]:5353'),
  ATTACHMENT_ALLOW_TARGETS: z
    .string()
    .default('')
    .transform((text) => text.split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean)),
  ATTACHMENT_MAX_BYTES: z.coerce.number().int().min(1).default(16 * 1024 * 1024),
  ATTACHMENT_TIMEOUT: duration.prefault('60s'),
  ATTACHMENT_CONCURRENCY_PER_LISTING: z.coerce.number().int().min(1).max(50).default(4),
  ATTACHMENT_CONCURRENCY_PER_HOST: z.coerce.number().int().min(1).max(500).default(16),
  ATTACHMENT_RETRY_INITIAL_INTERVAL: duration.prefault('2s'),
  WEBHOOK_SECRET_ROTATION_GRACE: duration.prefault('24h'),
  WEBHOOK_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(5),
  // Failed attempts in a row, across a subscription's deliveries, that open its circuit: one
  // delivery goes on probing on its schedule and the others wait in Postgres (src/webhooks/circuit.ts).
  // 0 never opens it.
  WEBHOOK_CIRCUIT_THRESHOLD: z.coerce.number().int().min(0).max(100_000).default(10),
  // ... and that have all failed for at least this long, so a short burst of refusals does not.
  WEBHOOK_CIRCUIT_OPEN_AFTER: duration.prefault('5s'),
  // First attempts the outbox relay of one worker makes at once, in all and per subscription, and
  // how many may wait for a slot; beyond that, or once a waiting delivery's claim can no longer
  // cover an attempt, its workflow makes the attempt as an activity (src/webhooks/firstAttempts.ts).
  WEBHOOK_FIRST_ATTEMPT_CONCURRENCY: z.coerce.number().int().min(0).max(1000).default(64),
  WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION: z.coerce.number().int().min(1).max(1000).default(8),
  WEBHOOK_FIRST_ATTEMPT_BACKLOG: z.coerce.number().int().min(0).max(100_000).default(1000),
  // The webhooks task queue's worker (retries, after a first attempt that did not succeed): its
  // attempts at once and per second. They bound what a backlog of retries to dead subscribers can
  // take from the listing pipeline on the same machine.
  WEBHOOK_RETRY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  WEBHOOK_RETRY_ATTEMPTS_PER_SECOND: z.coerce.number().positive().max(100_000).default(10),
  PARTNER_LINK_SIGNING_KEY: z
    .string()
    .refine((text) => Buffer.from(text, 'base64').length === 32, 'base64 of exactly 32 random bytes (openssl rand -base64 32)')
    .optional(),
  CONNECT_LINK_TTL: duration.prefault('24h'),
  CRM_TOKEN_TTL: duration.prefault('6h'),
  CRM_OAUTH_RATE_LIMIT_PER_HOUR: z.coerce.number().int().min(1).default(10),
  AUTH_FAILURES_PER_IP_PER_HOUR: z.coerce.number().int().min(1).default(20),
  PARTNER_KEY_RETRY_SCHEDULE: z.string().default('0s,1m,10m,1h'),
  PARTNER_KEY_REDELIVERY_WINDOW: duration.prefault('168h'),
  WEB_SESSION_TTL: duration.prefault('12h'),
  TOKEN_REFRESH_INTERVAL: duration.prefault('330m'),
  TARGET_TIMEOUT: duration.prefault('15s'),
  TARGET_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  PUBLICATION_RETRY_SCHEDULE: z.string().default('10s,1m,5m,15m,1h'),
  TARGET_DRIFT_SWEEP_INTERVAL: duration.prefault('1h'),
  SMTP_URL: z.string().default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().default('Immoflow <no-reply@immoflow.local>'),
  SMTP_HOST: z.string().default('127.0.0.1'),
  SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(2525),
  SMTP_TLS_KEY_FILE: z.string().optional(),
  SMTP_TLS_CERT_FILE: z.string().optional(),
  INBOUND_MAIL_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'a mail domain such as inbound.example.com')
    .transform((domain) => domain.toLowerCase())
    .default('inbound.immoflow.local'),
  INBOUND_MAIL_MAX_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  REQUEST_DEDUP_WINDOW: duration.prefault('24h'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Used only outside production, so `make dev` and tests work without set-up; never in production. */
const DEV_WEBHOOK_SECRET_KEY = Buffer.alloc(32, 'immoflow-dev-only-key').toString('base64');
const DEV_PARTNER_LINK_SIGNING_KEY = Buffer.alloc(32, 'immoflow-dev-only-link-key').toString('base64');
/** The token `make dev` and the tests give MinIO for its bucket notifications; never in production. */
export const DEV_STORAGE_NOTIFICATION_TOKEN = 'immoflow-dev-storage-events';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `VAR=` (as `${VAR:-}` in compose files produces) means "not set", never 0 or "".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
      .join('\n');
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const config = { ...parsed.data, S3_PUBLIC_ENDPOINT: parsed.data.S3_PUBLIC_ENDPOINT ?? parsed.data.S3_ENDPOINT };
  if (config.NODE_ENV === 'production') {
    const missing = (['WEBHOOK_SECRET_ENCRYPTION_KEY', 'PARTNER_LINK_SIGNING_KEY'] as const).filter((name) => !config[name]);
    if (missing.length) {
      throw new ConfigError(`Invalid configuration:\n${missing.map((name) => `  ${name}: required in production (openssl rand -base64 32)`).join('\n')}`);
    }
    // Without a token the storage-event endpoint stays closed and uploads are found by polling.
    return config;
  }
  return {
    ...config,
    WEBHOOK_SECRET_ENCRYPTION_KEY: config.WEBHOOK_SECRET_ENCRYPTION_KEY ?? DEV_WEBHOOK_SECRET_KEY,
    PARTNER_LINK_SIGNING_KEY: config.PARTNER_LINK_SIGNING_KEY ?? DEV_PARTNER_LINK_SIGNING_KEY,
    STORAGE_NOTIFICATION_TOKEN: config.STORAGE_NOTIFICATION_TOKEN ?? DEV_STORAGE_NOTIFICATION_TOKEN,
  };
}

/** The names config.ts understands; the docker-compose test checks against this list. */
export const configVariableNames = Object.keys(configSchema.shape);

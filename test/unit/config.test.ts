import { ConfigError, configVariableNames, loadConfig } from '../../src/config';

/** Runs loadConfig and returns the ConfigError it throws (failing the test if it does not throw). */
function configErrorFor(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('uses the documented `make dev` defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      PORT: 3000,
      WORKER_METRICS_PORT: 9464,
      PUBLIC_BASE_URL: 'http://localhost:3000',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/immoflow',
      DATABASE_POOL_MAX: 10,
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'immoflow',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY: 'immoflow',
      S3_SECRET_KEY: 'immoflow-dev-secret',
      S3_BUCKET_IMAGES: 'immoflow-images',
      S3_BUCKET_ATTACHMENTS: 'immoflow-attachments',
      S3_BUCKET_MAIL: 'immoflow-mail',
      S3_PUBLIC_ENDPOINT: 'http://127.0.0.1:9000',
      S3_NOTIFICATION_ARN: 'arn:minio:sqs::IMMOFLOW:webhook',
      STORAGE_NOTIFICATION_TOKEN: 'immoflow-dev-storage-events',
      IMAGE_UPLOAD_URL_TTL: 600_000,
      IMAGE_UPLOAD_POLL_INTERVAL: 15_000,
      RATE_LIMIT_PER_HOUR: 1000,
      AUTH_CACHE_TTL: 10_000,
      HTTP_BODY_LIMIT: '1mb',
      OUTBOX_RELAY_INTERVAL: 100,
      OUTBOX_RESYNC_INTERVAL: 60_000,
      OUTBOX_RESYNC_GRACE: 30_000,
      DEPENDENCY_TIMEOUT: 2000,
      METRICS_ENABLED: true,
      IDEMPOTENCY_TTL: 86_400_000,
      GEOCODER_USER_AGENT: 'Immoflow/0.1 (+https://github.com/immoflow/immoflow)',
      GEOCODER_MAX_REQUESTS_PER_SECOND: 1,
      MODERATION_PROHIBITED_WORDS: [],
      MODERATION_RENT_PER_SQM_MIN: 3,
      MODERATION_RENT_PER_SQM_MAX: 60,
      MODERATION_REVIEW_TIMEOUT: 259_200_000,
      MODERATION_REVIEW_TIMEOUT_OUTCOME: 'rejected',
      WEBHOOK_SECRET_ENCRYPTION_KEY: expect.any(String),
      WEBHOOK_RETRY_SCHEDULE: '0s,5s,5m,30m,2h,5h,10h,10h,10h',
      WEBHOOK_TIMEOUT: 10_000,
      WEBHOOK_FIRST_ATTEMPT_CONCURRENCY: 64,
      WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION: 8,
      WEBHOOK_FIRST_ATTEMPT_BACKLOG: 1000,
      WEBHOOK_RETRY_CONCURRENCY: 16,
      WEBHOOK_RETRY_ATTEMPTS_PER_SECOND: 10,
      WEBHOOK_ALLOW_TARGETS: [],
      ATTACHMENT_ALLOW_TARGETS: [],
      SSRF_DNS_SERVERS: [],
      ATTACHMENT_MAX_BYTES: 16_777_216,
      ATTACHMENT_TIMEOUT: 60_000,
      ATTACHMENT_CONCURRENCY_PER_LISTING: 4,
      ATTACHMENT_CONCURRENCY_PER_HOST: 16,
      ATTACHMENT_RETRY_INITIAL_INTERVAL: 2000,
      WEBHOOK_SECRET_ROTATION_GRACE: 86_400_000,
      WEBHOOK_FAILURE_THRESHOLD: 5,
      WEBHOOK_CIRCUIT_THRESHOLD: 10,
      WEBHOOK_CIRCUIT_OPEN_AFTER: 5000,
      PARTNER_LINK_SIGNING_KEY: expect.any(String),
      CONNECT_LINK_TTL: 86_400_000,
      CRM_TOKEN_TTL: 21_600_000,
      CRM_OAUTH_RATE_LIMIT_PER_HOUR: 10,
      AUTH_FAILURES_PER_IP_PER_HOUR: 20,
      PARTNER_KEY_RETRY_SCHEDULE: '0s,1m,10m,1h',
      PARTNER_KEY_REDELIVERY_WINDOW: 604_800_000,
      WEB_SESSION_TTL: 43_200_000,
      TOKEN_REFRESH_INTERVAL: 19_800_000,
      TARGET_TIMEOUT: 15_000,
      TARGET_CONCURRENCY: 4,
      PUBLICATION_RETRY_SCHEDULE: '10s,1m,5m,15m,1h',
      TARGET_DRIFT_SWEEP_INTERVAL: 3_600_000,
      SMTP_URL: 'smtp://127.0.0.1:1025',
      MAIL_FROM: 'Immoflow <no-reply@immoflow.local>',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: 2525,
      INBOUND_MAIL_DOMAIN: 'inbound.immoflow.local',
      INBOUND_MAIL_MAX_BYTES: 10_485_760,
      REQUEST_DEDUP_WINDOW: 86_400_000,
    });
  });

  it('has a development-only webhook encryption key, and none in production', () => {
    expect(Buffer.from(loadConfig({}).WEBHOOK_SECRET_ENCRYPTION_KEY as string, 'base64')).toHaveLength(32);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/WEBHOOK_SECRET_ENCRYPTION_KEY: required in production/);
    expect(() => loadConfig({ WEBHOOK_SECRET_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(/WEBHOOK_SECRET_ENCRYPTION_KEY/);
  });

  it('has a development-only connect-link signing key, and none in production', () => {
    expect(Buffer.from(loadConfig({}).PARTNER_LINK_SIGNING_KEY as string, 'base64')).toHaveLength(32);
    const production = { NODE_ENV: 'production', WEBHOOK_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };
    expect(() => loadConfig(production)).toThrow(/PARTNER_LINK_SIGNING_KEY: required in production/);
    expect(loadConfig({ ...production, PARTNER_LINK_SIGNING_KEY: Buffer.alloc(32, 2).toString('base64') }).PARTNER_LINK_SIGNING_KEY).toBe(
      Buffer.alloc(32, 2).toString('base64'),
    );
  });

  it('has a development-only storage notification token, and none unless configured in production', () => {
    const productionKey = {
      NODE_ENV: 'production',
      WEBHOOK_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      PARTNER_LINK_SIGNING_KEY: Buffer.alloc(32, 2).toString('base64'),
    };
    expect(loadConfig({}).STORAGE_NOTIFICATION_TOKEN).toBe('immoflow-dev-storage-events');
    expect(loadConfig(productionKey).STORAGE_NOTIFICATION_TOKEN).toBeUndefined();
    expect(loadConfig({ ...productionKey, STORAGE_NOTIFICATION_TOKEN: 'a'.repeat(32) }).STORAGE_NOTIFICATION_TOKEN).toBe('a'.repeat(32));
    expect(() => loadConfig({ STORAGE_NOTIFICATION_TOKEN: 'short' })).toThrow(/STORAGE_NOTIFICATION_TOKEN: at least 16 characters/);
  });

  it('signs client URLs for S3_ENDPOINT unless S3_PUBLIC_ENDPOINT says otherwise', () => {
    expect(loadConfig({ S3_ENDPOINT: 'http://minio:9000' }).S3_PUBLIC_ENDPOINT).toBe('http://minio:9000');
    expect(loadConfig({ S3_ENDPOINT: 'http://minio:9000', S3_PUBLIC_ENDPOINT: 'https://files.example.com' }).S3_PUBLIC_ENDPOINT).toBe('https://files.example.com');
  });

  it('leaves the optional settings unset by default', () => {
    const config = loadConfig({});
    expect(config.TEMPORAL_WORKFLOW_BUNDLE).toBeUndefined();
    expect(config.GEOCODER_URL).toBeUndefined();
  });

  it('ignores variables it does not know', () => {
    const config = loadConfig({ HOME: '/root', PATH: '/usr/bin', PORT: '8080' }) as unknown as Record<string, unknown>;
    expect(config.PORT).toBe(8080);
    expect(config).not.toHaveProperty('HOME');
    expect(config).not.toHaveProperty('PATH');
  });

  it('reads process.env when called without an argument', () => {
    const saved = process.env.TEMPORAL_TASK_QUEUE;
    process.env.TEMPORAL_TASK_QUEUE = 'from-process-env';
    try {
      expect(loadConfig().TEMPORAL_TASK_QUEUE).toBe('from-process-env');
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_TASK_QUEUE;
      else process.env.TEMPORAL_TASK_QUEUE = saved;
    }
  });
});

describe('loadConfig overrides', () => {
  it('takes string settings as given', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app:secret@db.internal:6543/prod',
      TEMPORAL_ADDRESS: 'temporal:7233',
      NODE_ENV: 'production',
      WEBHOOK_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      PARTNER_LINK_SIGNING_KEY: Buffer.alloc(32, 8).toString('base64'),
      LOG_LEVEL: 'warn',
      PUBLIC_BASE_URL: 'https://api.example.com',
      GEOCODER_URL: 'https://nominatim.example.com',
      TEMPORAL_WORKFLOW_BUNDLE: '/app/dist/workflow-bundle.js',
      MODERATION_REVIEW_TIMEOUT_OUTCOME: 'approved',
    });
    expect(config.DATABASE_URL).toBe('postgres://app:secret@db.internal:6543/prod');
    expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(config.NODE_ENV).toBe('production');
    expect(config.LOG_LEVEL).toBe('warn');
    expect(config.PUBLIC_BASE_URL).toBe('https://api.example.com');
    expect(config.GEOCODER_URL).toBe('https://nominatim.example.com');
    expect(config.TEMPORAL_WORKFLOW_BUNDLE).toBe('/app/dist/workflow-bundle.js');
    expect(config.MODERATION_REVIEW_TIMEOUT_OUTCOME).toBe('approved');
  });

  it('coerces numeric settings from strings', () => {
    const config = loadConfig({
      PORT: '8080',
      WORKER_METRICS_PORT: '0',
      DATABASE_POOL_MAX: '25',
      RATE_LIMIT_PER_HOUR: '60',
      GEOCODER_MAX_REQUESTS_PER_SECOND: '0.5',
      MODERATION_RENT_PER_SQM_MIN: '0',
      MODERATION_RENT_PER_SQM_MAX: '75.5',
    });
    expect(config.PORT).toBe(8080);
    expect(config.WORKER_METRICS_PORT).toBe(0);
    expect(config.DATABASE_POOL_MAX).toBe(25);
    expect(config.RATE_LIMIT_PER_HOUR).toBe(60);
    expect(config.GEOCODER_MAX_REQUESTS_PER_SECOND).toBe(0.5);
    expect(config.MODERATION_RENT_PER_SQM_MIN).toBe(0);
    expect(config.MODERATION_RENT_PER_SQM_MAX).toBe(75.5);
  });

  it('parses durations to milliseconds', () => {
    const config = loadConfig({
      OUTBOX_RESYNC_INTERVAL: '5m',
      OUTBOX_RESYNC_GRACE: '500ms',
      DEPENDENCY_TIMEOUT: '10s',
      IDEMPOTENCY_TTL: '2h',
      MODERATION_REVIEW_TIMEOUT: '1h',
    });
    expect(config.OUTBOX_RESYNC_INTERVAL).toBe(300_000);
    expect(config.OUTBOX_RESYNC_GRACE).toBe(500);
    expect(config.DEPENDENCY_TIMEOUT).toBe(10_000);
    expect(config.IDEMPOTENCY_TTL).toBe(7_200_000);
    expect(config.MODERATION_REVIEW_TIMEOUT).toBe(3_600_000);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads METRICS_ENABLED=%s as %p', (value, expected) => {
    expect(loadConfig({ METRICS_ENABLED: value }).METRICS_ENABLED).toBe(expected);
  });

  it('splits, trims and drops empty prohibited words', () => {
    expect(loadConfig({ MODERATION_PROHIBITED_WORDS: ' scam , ,provisionsfrei,, cash only ' }).MODERATION_PROHIBITED_WORDS).toEqual([
      'scam',
      'provisionsfrei',
      'cash only',
    ]);
    expect(loadConfig({ MODERATION_PROHIBITED_WORDS: ',,' }).MODERATION_PROHIBITED_WORDS).toEqual([]);
  });
});

describe('loadConfig errors', () => {
  it.each([
    ['PORT', 'not-a-number'],
    ['TEMPORAL_TASK_QUEUE', 'immoflow-webhooks'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['WORKER_METRICS_PORT', 'x'],
    ['DATABASE_POOL_MAX', '0'],
    ['RATE_LIMIT_PER_HOUR', '0'],
    ['RATE_LIMIT_PER_HOUR', 'lots'],
    ['GEOCODER_MAX_REQUESTS_PER_SECOND', '0'],
    ['MODERATION_RENT_PER_SQM_MIN', '-1'],
    ['MODERATION_RENT_PER_SQM_MAX', '0'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'verbose'],
    ['PUBLIC_BASE_URL', 'not a url'],
    ['S3_ENDPOINT', 'http://minio 9000'],
    ['GEOCODER_URL', 'nominatim'],
    ['GEOCODER_USER_AGENT', 'ab'],
    ['OUTBOX_RESYNC_INTERVAL', '1 minute'],
    ['OUTBOX_RESYNC_GRACE', '30'],
    ['DEPENDENCY_TIMEOUT', '2sec'],
    ['IDEMPOTENCY_TTL', '1d'],
    ['AUTH_CACHE_TTL', '10'],
    ['MODERATION_REVIEW_TIMEOUT', '-72h'],
    ['METRICS_ENABLED', 'yes'],
    ['METRICS_ENABLED', 'TRUE'],
    ['MODERATION_REVIEW_TIMEOUT_OUTCOME', 'pending'],
  ])('a bad %s (%j) throws a ConfigError naming the variable', (name, value) => {
    const error = configErrorFor({ [name]: value });
    expect(error.message).toMatch(/^Invalid configuration:\n/);
    expect(error.message).toContain(`  ${name}: `);
    // Only the bad variable is reported.
    const reported = error.message
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(':')[0]);
    expect(reported).toEqual([name]);
  });

  it('reports every bad variable, one per line', () => {
    const error = configErrorFor({ PORT: 'abc', IDEMPOTENCY_TTL: 'forever', DATABASE_URL: 'postgres://ok' });
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1).map((line) => line.trim().split(':')[0]).sort()).toEqual(['IDEMPOTENCY_TTL', 'PORT']);
    expect(error.message).not.toContain('DATABASE_URL');
  });

  it('explains what a duration looks like', () => {
    expect(configErrorFor({ DEPENDENCY_TIMEOUT: 'soon' }).message).toContain('DEPENDENCY_TIMEOUT: a duration such as 500ms, 10s, 5m or 2h');
  });

  it('throws an Error subclass', () => {
    const error = configErrorFor({ PORT: 'abc' });
    expect(error).toBeInstanceOf(Error);
  });
});

describe('configVariableNames', () => {
  it('lists every variable the schema understands', () => {
    expect(configVariableNames).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'PORT',
        'NODE_ENV',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_WORKFLOW_BUNDLE',
        'S3_ENDPOINT',
        'GEOCODER_URL',
        'OUTBOX_RELAY_INTERVAL',
        'OUTBOX_RESYNC_INTERVAL',
        'MODERATION_REVIEW_TIMEOUT_OUTCOME',
        'ATTACHMENT_ALLOW_TARGETS',
        'ATTACHMENT_MAX_BYTES',
      ]),
    );
    expect(configVariableNames).toHaveLength(84);
    expect(new Set(configVariableNames).size).toBe(configVariableNames.length);
  });

  it('contains exactly the keys of a loaded config, plus the optional ones', () => {
    const loadedKeys = Object.keys(loadConfig({}));
    expect([...configVariableNames].sort()).toEqual([...loadedKeys, 'GEOCODER_URL', 'TEMPORAL_WORKFLOW_BUNDLE', 'WORKER_MAX_CACHED_WORKFLOWS', 'WORKER_MAX_CONCURRENT_ACTIVITIES', 'SMTP_TLS_KEY_FILE', 'SMTP_TLS_CERT_FILE'].sort());
  });

  it('does not list unknown names', () => {
    expect(configVariableNames).not.toContain('HOME');
    expect(configVariableNames).not.toContain('DATABASE_PASSWORD');
  });
});

describe('environment hygiene', () => {
  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', S3_ENDPOINT: '' }).PORT).toBe(3000);
  });

  it('rejects a URL without an http(s) scheme', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'minio:9000' })).toThrow(/S3_ENDPOINT/);
  });
});

describe('SSRF_DNS_SERVERS', () => {
  it('takes ip and ip:port entries, IPv6 in brackets, and refuses anything setServers would not', () => {
    expect(loadConfig({ SSRF_DNS_SERVERS: ' 127.0.0.1:5353 , [::1]:53,10.0.0.2' }).SSRF_DNS_SERVERS).toEqual(['127.0.0.1:5353', '[::1]:53', '10.0.0.2']);
    for (const bad of ['dns.example:53', '127.0.0.1:99999', '[::1]:99999', '127.0.0.1:']) {
      expect(() => loadConfig({ SSRF_DNS_SERVERS: bad })).toThrow(/SSRF_DNS_SERVERS/);
    }
  });
});

describe('attachment settings', () => {
  it('reads the attachment allow list like the webhook one, and the limits as numbers', () => {
    const config = loadConfig({ ATTACHMENT_ALLOW_TARGETS: ' 127.0.0.1:4000 , Files.Local:8080,', ATTACHMENT_MAX_BYTES: '1048576', ATTACHMENT_TIMEOUT: '5s', ATTACHMENT_CONCURRENCY_PER_HOST: '1' });
    expect(config.ATTACHMENT_ALLOW_TARGETS).toEqual(['127.0.0.1:4000', 'files.local:8080']);
    expect(config.ATTACHMENT_MAX_BYTES).toBe(1_048_576);
    expect(config.ATTACHMENT_TIMEOUT).toBe(5000);
    expect(config.ATTACHMENT_CONCURRENCY_PER_HOST).toBe(1);
    expect(() => loadConfig({ ATTACHMENT_CONCURRENCY_PER_LISTING: '0' })).toThrow(/ATTACHMENT_CONCURRENCY_PER_LISTING/);
  });
});

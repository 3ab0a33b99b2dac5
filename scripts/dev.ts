import path from 'node:path';
import { loadConfig } from '../src/config';
import { STORAGE_EVENTS_PATH } from '../src/images/storageEvents';
import { createDb, migrateToLatest } from '../src/db/knex';
import { createInboxService } from '../src/requests/inboxes';
import { scriptLog } from './stack/log';
import { ManagedProcess, isPortOpen, startProcess } from './stack/processes';
import { seedDemo } from './seedDemo';
import { Stack, startStack } from './stack/stack';

/**
 * `make dev`: the whole stack on the standard ports with data under .data/, the demo
 * organisation, then the API and the worker until Ctrl-C, which stops everything we started.
 */
const root = path.resolve(__dirname, '..');
const dataDir = path.join(root, '.data');
const log = scriptLog('dev');
const PORTS = { api: 3000, smtp: 2525, temporal: 7233, temporalUi: 8233, minio: 9000, minioConsole: 9001 };

async function main(): Promise<void> {
  await refuseBusyPorts();
  const stack = await startStack({
    mode: 'dev',
    dataDir,
    database: process.env.DATABASE_URL ? new URL(process.env.DATABASE_URL).pathname.slice(1) || 'immoflow' : 'immoflow',
    ports: { temporal: PORTS.temporal, temporalUi: PORTS.temporalUi, minio: PORTS.minio, minioConsole: PORTS.minioConsole },
    storageEventsUrl: `http://127.0.0.1:${PORTS.api}${STORAGE_EVENTS_PATH}`,
  });
  const children: ManagedProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping api, worker, smtp and engines…');
    await Promise.all(children.map((child) => child.stop()));
    await stack.stop();
    log.info('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));

  try {
    const env = { ...process.env, ...stack.env, PORT: String(PORTS.api), SMTP_PORT: String(PORTS.smtp) };
    const config = loadConfig(env);
    const db = createDb(config);
    const applied = await migrateToLatest(db);
    log.info(`migrations: ${applied.length ? applied.join(', ') : 'up to date'}`);
    const { credentials, created } = await seedDemo(db, path.join(dataDir, 'demo-credentials.json'));
    const inbox = await createInboxService(db, config).current(credentials.organizationId);
    await db.destroy();

    for (const [name, entry] of [
      ['api', 'src/server.ts'],
      ['worker', 'src/worker.ts'],
      ['smtp', 'src/smtp.ts'],
    ] as const) {
      const child = startProcess(name, process.execPath, ['-r', '@swc-node/register', entry], { cwd: root, env, stdio: 'inherit' });
      child.child.once('exit', (code) => {
        if (!stopping) {
          log.error(`${name} exited with code ${code}; stopping the stack.`);
          void stopAll(1);
        }
      });
      children.push(child);
    }
    printBanner(stack, credentials, created, inbox.address);
  } catch (error) {
    log.error((error as Error).stack ?? String(error));
    await stopAll(1);
  }
}

async function refuseBusyPorts(): Promise<void> {
  const wanted: [string, number][] = [['api', PORTS.api], ['smtp', PORTS.smtp]];
  if (!process.env.TEMPORAL_ADDRESS) wanted.push(['temporal', PORTS.temporal], ['temporal ui', PORTS.temporalUi]);
  if (!process.env.S3_ENDPOINT) wanted.push(['minio', PORTS.minio], ['minio console', PORTS.minioConsole]);
  const busy = [];
  for (const [name, port] of wanted) if (await isPortOpen('127.0.0.1', port)) busy.push(`${name} (:${port})`);
  if (busy.length) {
    throw new Error(`ports already in use: ${busy.join(', ')}. Is another \`make dev\` running? Stop it, or point TEMPORAL_ADDRESS / S3_ENDPOINT at running engines.`);
  }
}

function printBanner(stack: Stack, credentials: Awaited<ReturnType<typeof seedDemo>>['credentials'], created: boolean, inboxAddress: string): void {
  const line = '─'.repeat(72);
  console.log(`
${line}
 Immoflow is running${created ? '' : ' (reusing .data/)'}
${line}
 API              http://localhost:${PORTS.api}        (GET /readyz, /metrics)
 Inbound SMTP     smtp://localhost:${PORTS.smtp}        (contact requests; inbox address in GET /api/v1/me)
 Temporal UI      ${stack.temporal.uiUrl ?? '(external server)'}   (schedule:resync under Schedules)
 MinIO console    ${stack.minio.consoleUrl ?? '(external S3)'}   (user ${stack.minio.accessKey} / ${stack.minio.secretKey})
 Postgres         ${stack.postgres.source}

 Demo organisation  ${credentials.organizationName} (${credentials.organizationId}), all flags on
 Owner              ${credentials.ownerEmail}
 Secret key         ${credentials.secretKey}   (all scopes)
 Publishable key    ${credentials.publishableKey}
 Inbox (mail to)    ${inboxAddress}   (contact requests: forward portal enquiries here, SMTP :${PORTS.smtp})

 Try:  curl -H "X-API-Key: ${credentials.secretKey}" http://localhost:${PORTS.api}/api/v1/me
 Stop: Ctrl-C (stops the API, the worker and every engine started here)
${line}
`);
}

main().catch((error) => {
  log.error((error as Error).message);
  process.exit(1);
});

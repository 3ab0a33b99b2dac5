import { loadConfig } from './config';
import { createDb } from './db/knex';
import { createLogger } from './observability/logger';
import { createInboxService } from './requests/inboxes';
import { createMailIngress } from './requests/ingress';
import { startSmtpIngress } from './requests/smtpServer';
import { createStorageClient, ensureBuckets } from './storage/minio';

/** `npm run smtp`: the inbound MX for contact requests, a process of its own (docs/REQUESTS.md). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'smtp');
  const db = createDb(config);
  const storage = createStorageClient(config);
  await ensureBuckets(storage, config);
  const smtp = await startSmtpIngress({ config, inboxes: createInboxService(db, config), ingress: createMailIngress({ db, storage, config, logger }), logger });

  const stop = async () => {
    logger.info('smtp ingress stopping');
    await smtp.close();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error) => {
  // eslint-disable-next-line no-console
  console.error(error);
  process.exit(1);
});

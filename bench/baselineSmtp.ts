import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../src/config';
import { createStorageClient } from '../src/storage/minio';

/**
 * The baseline of `npm run bench:requests`: smtp-server alone, storing each message in MinIO
 * before it answers 250, as the ingress does. No inbox lookup, no Postgres, no parsing, no
 * workflow. It bounds what the SMTP ingress could reach on this machine.
 */
const config = loadConfig();
const storage = createStorageClient(config);
const bucket = process.env.BASELINE_BUCKET as string;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  size: config.INBOUND_MAIL_MAX_BYTES,
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      storage
        .putObject(bucket, `${randomUUID()}.eml`, raw, raw.length, { 'Content-Type': 'message/rfc822' })
        .then(() => callback())
        .catch((error) => callback(error));
    });
  },
});

(async () => {
  if (!(await storage.bucketExists(bucket))) await storage.makeBucket(bucket, config.S3_REGION);
  server.listen(Number(process.env.SMTP_PORT), '127.0.0.1', () => console.log('baseline smtp ready'));
})();

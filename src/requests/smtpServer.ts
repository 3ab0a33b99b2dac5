import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Config } from '../config';
import type { InboxService } from './inboxes';
import type { MailIngress } from './ingress';

/** An SMTP reply: smtp-server sends `responseCode` and the message to the client. */
function reply(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Enough of an oversized message to read its headers for the `too_large` event. */
const KEPT_HEAD_BYTES = 64 * 1024;

interface ReadMessage {
  raw: Buffer;
  size: number;
  tooLarge: boolean;
}

/** Reads the DATA stream to its end (smtp-server requires it), keeping at most `limit` bytes. */
async function readMessage(stream: Readable & Partial<Pick<SMTPServerDataStream, 'sizeExceeded'>>, limit: number): Promise<ReadMessage> {
  const chunks: Buffer[] = [];
  let size = 0;
  let kept = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    // Past the limit only the head is worth keeping (its headers name the sender).
    if (size <= limit || kept < KEPT_HEAD_BYTES) {
      chunks.push(bytes);
      kept += bytes.length;
    }
  }
  const tooLarge = size > limit || Boolean(stream.sizeExceeded);
  const raw = Buffer.concat(chunks);
  return { raw: tooLarge ? raw.subarray(0, KEPT_HEAD_BYTES) : raw, size, tooLarge };
}

export interface SmtpIngress {
  port: number;
  close(): Promise<void>;
}

/**
 * The inbound MX. RCPT TO names an organisation's active inbox or is refused with 550; DATA is
 * at most INBOUND_MAIL_MAX_BYTES (552 beyond). 250 is sent only once the mail is stored and its
 * workflow owed (MailIngress.accept); a failure on our side is a 451, which makes the sending
 * MTA retry later, so nothing acknowledged is ever lost.
 */
export async function startSmtpIngress(deps: { config: Config; inboxes: InboxService; ingress: MailIngress; logger: Logger }, port = deps.config.SMTP_PORT): Promise<SmtpIngress> {
  const { config, inboxes, ingress, logger } = deps;
  const tls = config.SMTP_TLS_KEY_FILE && config.SMTP_TLS_CERT_FILE
    ? { key: fs.readFileSync(config.SMTP_TLS_KEY_FILE), cert: fs.readFileSync(config.SMTP_TLS_CERT_FILE) }
    : undefined;

  async function recipients(session: SMTPServerSession) {
    const resolved = await Promise.all(session.envelope.rcptTo.map(async ({ address }) => ({ address, inbox: await inboxes.byAddress(address) })));
    return resolved.flatMap(({ address, inbox }) => (inbox && !inbox.retired_at ? [{ address, inbox }] : []));
  }

  const server = new SMTPServer({
    name: config.INBOUND_MAIL_DOMAIN,
    banner: 'Immoflow inbound mail',
    size: config.INBOUND_MAIL_MAX_BYTES,
    // A receiving MX takes mail from anyone; the unguessable inbox address is the credential.
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ?? {}),
    logger: false,
    onRcptTo(address, _session, callback) {
      inboxes
        .byAddress(address.address)
        .then((inbox) => {
          if (!inbox || inbox.retired_at) return callback(reply(550, `5.1.1 <${address.address}>: no such inbox`));
          return callback();
        })
        .catch((error) => {
          logger.warn({ err: error }, 'smtp: inbox lookup failed');
          callback(reply(451, '4.3.0 Temporary failure, try again later'));
        });
    },
    onData(stream, session, callback) {
      (async () => {
        const message = await readMessage(stream, config.INBOUND_MAIL_MAX_BYTES);
        const targets = await recipients(session);
        if (message.tooLarge) {
          for (const { address, inbox } of targets) {
            await ingress.refuse({
              inbox,
              recipient: address,
              head: message.raw,
              size: message.size,
              via: 'smtp',
              failureCode: 'too_large',
              failureMessage: `The message has at least ${message.size} bytes; the limit is ${config.INBOUND_MAIL_MAX_BYTES}. It was refused (SMTP 552) and not stored.`,
            });
          }
          return reply(552, `5.3.4 Message too large; the limit is ${config.INBOUND_MAIL_MAX_BYTES} bytes`);
        }
        for (const { address, inbox } of targets) {
          const accepted = await ingress.accept({ inbox, recipient: address, raw: message.raw, via: 'smtp' });
          logger.info({ orgId: inbox.org_id, mailId: accepted.mailId, status: accepted.status, size: message.size }, 'smtp: mail accepted');
        }
        return undefined;
      })()
        .then((error) => callback(error ?? null))
        .catch((error) => {
          logger.error({ err: error }, 'smtp: could not store a mail; the sender will retry');
          callback(reply(451, '4.3.0 Temporary failure, try again later'));
        });
    },
  });
  server.on('error', (error) => logger.warn({ err: error }, 'smtp: connection error'));

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, config.SMTP_HOST, () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;
  logger.info({ port: bound, host: config.SMTP_HOST, starttls: Boolean(tls), domain: config.INBOUND_MAIL_DOMAIN }, 'smtp ingress listening');
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { createHash, randomUUID } from 'node:crypto';
import { AddressObject, simpleParser } from 'mailparser';
import type { Client as StorageClient } from 'minio';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { ContactRequestInput, bareAddress, messageIdFromHeaders, messageKey, parsingFailedPayload } from '../domain/contactRequests';
import { workflowIds } from '../domain/workflowIds';
import { appendEvent } from '../events/service';
import { workflowStartsInsert } from '../outbox/service';
import type { InboxRow } from './inboxes';

export type MailChannel = 'smtp' | 'http';

export interface AcceptedMail {
  mailId: string;
  /** `duplicate`: this Message-ID was accepted before for this organisation; nothing runs again. */
  status: 'accepted' | 'duplicate';
}

export interface MailHeaders {
  messageId: string | null;
  sender: string | null;
  subject: string | null;
  /** X-Original-To, Delivered-To, then To: where a forwarding provider leaves the envelope recipient. */
  recipients: string[];
}

const RECIPIENT_HEADERS = ['x-original-to', 'delivered-to', 'to'];

function addressesOf(value: unknown): string[] {
  const entries = typeof value === 'object' && value !== null && 'value' in value ? (value as AddressObject).value : [{ address: String(value ?? '') }];
  return entries.flatMap((entry) => {
    const address = bareAddress(entry.address);
    return address ? [address] : [];
  });
}

/** The header block: everything before the first empty line (bounded, for a mail with none). */
export function headerBlock(raw: Buffer): Buffer {
  const limit = Math.min(raw.length, 256 * 1024);
  for (const separator of ['\r\n\r\n', '\n\n']) {
    const end = raw.subarray(0, limit).indexOf(separator);
    if (end >= 0) return raw.subarray(0, end + separator.length);
  }
  return raw.subarray(0, limit);
}

/** Message-ID, sender and subject, decoded (RFC 2047) from the header block only. */
export async function readMailHeaders(raw: Buffer): Promise<MailHeaders> {
  const parsed = await simpleParser(headerBlock(raw), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  return {
    messageId: parsed.messageId?.replace(/^<|>$/g, '') ?? null,
    sender: bareAddress(parsed.from?.value[0]?.address ?? parsed.from?.text),
    subject: parsed.subject ?? null,
    recipients: RECIPIENT_HEADERS.flatMap((name) => (parsed.headers.has(name) ? addressesOf(parsed.headers.get(name)) : [])),
  };
}

const SUBJECT_LIMIT = 1000;

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash in `contact-request:<hash>`: one workflow per organisation and message key. */
export function contactRequestHash(orgId: string, key: string): string {
  return sha256Hex(`${orgId}\n${key}`).slice(0, 40);
}

/**
 * Where accepted mail enters (DESIGN §5): the raw bytes go to MinIO first, then the mail row and
 * its owed contactRequest start commit together, in one statement. Only then does the caller
 * answer 250 (SMTP) or 202 (HTTP), so an acknowledged mail is never lost; a crash before that
 * leaves the sender to retry, and the Message-ID makes the retry a no-op once one has committed.
 */
export function createMailIngress(deps: { db: Db; storage: StorageClient; config: Config; logger: Logger }) {
  const { db, storage, config } = deps;


  return {
    /**
     * One MinIO put and one statement: the mail row and its owed start are inserted together,
     * both only when this Message-ID is new. Sender and subject are filled in by the workflow,
     * which decodes the whole message anyway. The object key carries the content's hash, so a
     * redelivery with other bytes never overwrites the mail being parsed; its object is removed.
     */
    async accept(input: { inbox: InboxRow; recipient: string; raw: Buffer; via: MailChannel }): Promise<AcceptedMail> {
      const { inbox, raw } = input;
      const contentHash = sha256Hex(raw);
      const key = messageKey(messageIdFromHeaders(headerBlock(raw).toString('latin1')), contentHash);
      const hash = contactRequestHash(inbox.org_id, key);
      const objectKey = `${inbox.org_id}/${hash}/${contentHash.slice(0, 16)}.eml`;
      await storage.putObject(config.S3_BUCKET_MAIL, objectKey, raw, raw.length, { 'Content-Type': 'message/rfc822' });

      const mailId = randomUUID();
      const args: ContactRequestInput = { orgId: inbox.org_id, mailId };
      const owed = workflowStartsInsert(
        [{ workflowType: 'contactRequest', workflowId: workflowIds.contactRequest(hash), taskQueue: config.TEMPORAL_TASK_QUEUE, args: [args], searchAttributes: { OrgId: [inbox.org_id] } }],
        inbox.org_id,
        'exists (select 1 from inserted_mail)',
      );
      const { rows } = await db.raw<{ rows: { id: string }[] }>(
        `with inserted_mail as (
           insert into inbound_mails (id, org_id, inbox_id, message_key, recipient, via, size, object_key)
           values (?, ?, ?, ?, ?, ?, ?, ?)
           on conflict (org_id, message_key) do nothing
           returning id
         ), owed_start as (${owed.sql})
         select id from inserted_mail`,
        [mailId, inbox.org_id, inbox.id, key, input.recipient.toLowerCase(), input.via, raw.length, objectKey, ...owed.bindings],
      );
      if (rows.length) return { mailId, status: 'accepted' };

      const first = await db('inbound_mails').where({ org_id: inbox.org_id, message_key: key }).first('id', 'object_key');
      if (first.object_key !== objectKey) await storage.removeObject(config.S3_BUCKET_MAIL, objectKey);
      return { mailId: first.id, status: 'duplicate' };
    },

    /**
     * A mail that is not taken: over INBOUND_MAIL_MAX_BYTES (SMTP 552, `too_large`), or posted
     * for an address that is no inbox of the poster's organisation (`unknown_organisation`). Its
     * bytes are not kept. The CRM still learns of it: request.parsing_failed, once per
     * Message-ID, with what the headers tell. `head` is (at least) the start of the message.
     */
    async refuse(input: { inbox: InboxRow; recipient: string; head: Buffer; size: number; via: MailChannel; failureCode: 'too_large' | 'unknown_organisation'; failureMessage: string }): Promise<void> {
      const { inbox } = input;
      const headers = await readMailHeaders(input.head);
      const key = messageKey(headers.messageId, sha256Hex(input.head));
      await db.transaction(async (trx) => {
        const [row] = await trx('inbound_mails')
          .insert({
            org_id: inbox.org_id,
            inbox_id: inbox.id,
            message_key: key,
            recipient: input.recipient.toLowerCase(),
            sender: headers.sender,
            subject: headers.subject?.slice(0, SUBJECT_LIMIT) ?? null,
            via: input.via,
            size: input.size,
            object_key: null,
            outcome: 'failed',
            processed_at: trx.fn.now(),
          })
          .onConflict(['org_id', 'message_key'])
          .ignore()
          .returning('id');
        if (!row) return;
        const mail = { sender: headers.sender, recipient: input.recipient.toLowerCase(), subject: headers.subject, body: '' };
        await appendEvent(trx, inbox.org_id, 'request.parsing_failed', parsingFailedPayload(inbox.id, input.failureCode, input.failureMessage, mail, new Date()), config);
      });
    },
  };
}

export type MailIngress = ReturnType<typeof createMailIngress>;

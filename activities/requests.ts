import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { BODY_EXCERPT_CHARS, ContactRequestInput, ContactRequestResult, MailSummary, MailVerdict, parsingFailedPayload } from '../src/domain/contactRequests';
import { normaliseEmail, parseOpenImmoFeedback } from '../src/domain/openimmoFeedback';
import { appendEvent } from '../src/events/service';
import { ContactRequestRow, toRequestDto } from '../src/requests/dto';
import { readInboundMail } from '../src/requests/inboundMail';
import type { ActivityDeps } from './deps';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const HEARTBEAT_EVERY_MS = 2000;

interface InboundMailRow {
  id: string;
  org_id: string;
  inbox_id: string;
  recipient: string;
  sender: string | null;
  object_key: string | null;
  outcome: ContactRequestResult['outcome'] | null;
  request_id: string | null;
  processed_at: Date | null;
}

/**
 * The contactRequest workflow's one step: read (MinIO, MIME, XML, the listing) to a verdict, then
 * record it with its event in one transaction, exactly once per mail, under the mail's row lock.
 * One activity, not two: every activity costs the pipeline a round of workflow tasks, and the
 * record is idempotent on its own.
 */
export function createRequestActivities(deps: ActivityDeps) {
  const { db, storage, config } = deps;

  async function readVerdict(mail: InboundMailRow): Promise<MailVerdict> {
    if (!mail.object_key) return { kind: 'erased' };
    const parsed = await readInboundMail(await readAll(await storage.getObject(config.S3_BUCKET_MAIL, mail.object_key)));
    const summary: MailSummary = {
      sender: parsed.sender ?? mail.sender,
      recipient: mail.recipient,
      subject: parsed.subject,
      body: parsed.text.slice(0, BODY_EXCERPT_CHARS),
    };
    if (!parsed.feedbackXml) {
      return {
        kind: 'failed',
        failureCode: 'no_xml_attachment',
        failureMessage: 'The e-mail carries no OpenImmo-Feedback XML, neither attached nor inline. Forward only the enquiries that portals send.',
        mail: summary,
      };
    }
    const feedback = parseOpenImmoFeedback(parsed.feedbackXml);
    if (!feedback.ok) return { kind: 'failed', failureCode: feedback.code, failureMessage: feedback.message, mail: summary };
    const { objectId } = feedback.request;
    const listing = objectId
      ? await db('listings').where({ org_id: mail.org_id, external_ref: objectId }).whereNull('deleted_at').first('id')
      : undefined;
    return { kind: 'request', request: feedback.request, listingId: listing?.id ?? null, mail: summary };
  }

  async function recorded(mail: InboundMailRow): Promise<ContactRequestResult> {
    const request = mail.request_id ? await db('contact_requests').where({ id: mail.request_id }).first('listing_id') : undefined;
    return { outcome: mail.outcome ?? 'erased', requestId: mail.request_id, listingId: request?.listing_id ?? null };
  }

  async function record(input: ContactRequestInput, verdict: MailVerdict): Promise<ContactRequestResult> {
    const listingId = verdict.kind === 'request' ? verdict.listingId : null;
    const outcome = await db.transaction(async (trx): Promise<Omit<ContactRequestResult, 'listingId'>> => {
      const mail: InboundMailRow | undefined = await trx('inbound_mails').where({ id: input.mailId, org_id: input.orgId }).forUpdate().first();
      if (!mail) return { outcome: 'erased', requestId: null };
      // Another attempt committed while this one parsed: what it recorded stands.
      if (mail.processed_at) return { outcome: mail.outcome ?? 'erased', requestId: mail.request_id };
      // The ingress stored only what it needed to answer; the parse knows who sent what.
      const settle = (outcome: ContactRequestResult['outcome'], requestId: string | null) =>
        trx('inbound_mails')
          .where({ id: mail.id })
          .update({
            outcome: outcome === 'erased' ? null : outcome,
            request_id: requestId,
            processed_at: trx.fn.now(),
            ...(verdict.kind === 'erased' ? {} : { sender: verdict.mail.sender, subject: verdict.mail.subject?.slice(0, 1000) ?? null }),
          });

      if (verdict.kind === 'erased') {
        await settle('erased', null);
        return { outcome: 'erased', requestId: null };
      }

      if (verdict.kind === 'failed') {
        await appendEvent(trx, input.orgId, 'request.parsing_failed', parsingFailedPayload(mail.inbox_id, verdict.failureCode, verdict.failureMessage, verdict.mail, new Date()), config);
        await settle('failed', null);
        return { outcome: 'failed', requestId: null };
      }

      const { request, listingId } = verdict;
      const emailKey = request.email ? normaliseEmail(request.email) : null;
      if (emailKey) {
        // Two mails of one prospect parsed at once: the second waits for the first's commit, then sees it.
        await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`contact-request:${input.orgId}:${emailKey}`]);
        const earlier = await trx('contact_requests')
          .where({ org_id: input.orgId, email_key: emailKey })
          .whereNull('erased_at')
          .where('created_at', '>', trx.raw("now() - make_interval(secs => ?)", [config.REQUEST_DEDUP_WINDOW / 1000]))
          .modify((query) => {
            if (listingId) query.where({ listing_id: listingId });
            else query.whereNull('listing_id').where({ object_id: request.objectId });
          })
          .first('id');
        if (earlier) {
          await settle('duplicate', earlier.id);
          return { outcome: 'duplicate', requestId: earlier.id };
        }
      }

      const [row]: ContactRequestRow[] = await trx('contact_requests')
        .insert({
          org_id: input.orgId,
          inbox_id: mail.inbox_id,
          mail_id: mail.id,
          listing_id: listingId,
          object_id: request.objectId,
          portal: request.portal,
          portal_object_id: request.portalObjectId,
          requested_at: request.requestedAt,
          salutation: request.salutation,
          first_name: request.firstName,
          last_name: request.lastName,
          company: request.company,
          email: request.email,
          email_key: emailKey,
          phone: request.phone,
          street: request.street,
          postal_code: request.postalCode,
          city: request.city,
          country: request.country,
          message: request.message,
          raw_object_key: mail.object_key,
        })
        .returning('*');
      await appendEvent(trx, input.orgId, 'request.created', toRequestDto(row), config);
      await settle('created', row.id);
      return { outcome: 'created', requestId: row.id };
    });
    return { ...outcome, listingId: outcome.outcome === 'created' || outcome.outcome === 'duplicate' ? listingId : null };
  }

  return {
    /**
     * Read, parse and record one mail. A retry (a lost worker, a failed commit) first looks for
     * what an earlier attempt recorded, so the parse is not repeated once the mail is settled.
     */
    async processContactMail(input: ContactRequestInput): Promise<ContactRequestResult> {
      // A 10 MB mail takes a while to decode; the heartbeat lets a lost worker's attempt restart
      // elsewhere within seconds instead of after the whole timeout.
      const heartbeat = setInterval(() => Context.current().heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        const mail: InboundMailRow | undefined = await db('inbound_mails').where({ id: input.mailId, org_id: input.orgId }).first();
        if (!mail) return { outcome: 'erased', requestId: null, listingId: null };
        if (mail.processed_at) return await recorded(mail);
        return await record(input, await readVerdict(mail));
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}

export type RequestActivities = ReturnType<typeof createRequestActivities>;

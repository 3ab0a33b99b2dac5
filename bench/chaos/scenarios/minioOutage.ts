import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import sharp from 'sharp';
import { ChaosStack, Scenario, ScenarioResult, scaled } from '../scenario';
import { apiRequest, countBy, listenOnLoopback, listingBody, requireFaults, sleep, waitFor } from './outageSupport';

/**
 * Issue 17, scenario 5: MinIO stops while images are being uploaded (presigned PUTs, docs/IMAGES.md)
 * and attachments are being fetched from a CRM's file host (docs/ATTACHMENTS.md), then starts again.
 * Uploads that finish after the recovery must be ingested, and nothing may be left in a state with
 * no way out. A way out, from the docs: `ready`; `failed` with a failure code (the client knows
 * to upload or send it again); or a state in motion whose workflow is still running (a retry).
 */

/** The env the stack must run with: the file host's loopback port allowed for attachment URLs, a short poll so a lost notification costs seconds. */
export function minioOutageEnv(fileServerPort: number): Record<string, string> {
  return {
    ATTACHMENT_ALLOW_TARGETS: `127.0.0.1:${fileServerPort}`,
    IMAGE_UPLOAD_POLL_INTERVAL: '2s',
    CHAOS_FILE_SERVER_PORT: String(fileServerPort),
  };
}

async function startFileHost(port: number, jpeg: Buffer, pdf: Buffer) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    const path = new URL(req.url ?? '/', 'http://files').pathname;
    const body = path.endsWith('.jpg') ? jpeg : path.endsWith('.pdf') ? pdf : null;
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    // A little latency keeps fetches in flight when the store goes away.
    setTimeout(() => res.writeHead(200, { 'Content-Type': path.endsWith('.jpg') ? 'image/jpeg' : 'application/pdf', 'Content-Length': body.length }).end(body), 300);
  });
  const origin = await listenOnLoopback(server, port);
  return {
    origin,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const IMAGE_TERMINAL = new Set(['ready', 'failed']);
const ATTACHMENT_TERMINAL = new Set(['ready', 'failed']);

export const minioOutage: Scenario = {
  id: 5,
  name: 'MinIO outage',
  async run(stack: ChaosStack, scale: number): Promise<ScenarioResult> {
    requireFaults(stack.faults, ['stopMinio', 'startMinio'], 'Scenario 5 (MinIO outage)');
    const port = Number(stack.env.CHAOS_FILE_SERVER_PORT);
    if (!port) throw new Error('Scenario 5 needs the stack started with minioOutageEnv(port) (CHAOS_FILE_SERVER_PORT is not set)');
    const outageMs = Math.max(10_000, 60_000 * scale);
    const imageCount = scaled(40, scale, 6);
    const attachmentListingsBefore = scaled(20, scale, 3);
    const attachmentListingsDuring = scaled(20, scale, 3);
    const violations: string[] = [];

    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg({ quality: 80 }).toBuffer();
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const files = await startFileHost(port, jpeg, pdf);
    const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
    const temporal = new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE || 'default' });
    let minioStopped = false;
    try {
      const org = await stack.seedOrganization();
      const request = (method: string, path: string, body?: unknown) => apiRequest(stack.apiUrl, method, path, { key: org.secretKey, body });
      let writes = 0;
      let writesAcknowledged = 0;
      const writeStatuses: number[] = [];
      const write = async (method: string, path: string, body?: unknown) => {
        writes += 1;
        const response = await request(method, path, body).catch((error: Error) => ({ status: 0, text: error.message, body: undefined, headers: new Headers() }));
        writeStatuses.push(response.status);
        if (response.status >= 200 && response.status < 300) writesAcknowledged += 1;
        else if (response.status === 0 || (response.status >= 500 && response.status !== 503)) {
          violations.push(`${method} ${path} got ${response.status || 'no answer'} (a store outage may answer 503 with a code, never a bare 5xx or a hang): ${response.text.slice(0, 200)}`);
        } else if (response.status === 503 && !response.body?.error?.code) violations.push(`${method} ${path} got 503 without an error code`);
        return response;
      };

      // Tickets first (the API only signs URLs; no store round trip is needed for that).
      const host = await write('POST', '/api/v1/listings', listingBody());
      if (host.status !== 201) throw new Error(`could not create the gallery listing: ${host.status} ${host.text}`);
      const galleryId: string = host.body.data.id;
      const tickets: { imageId: string; uploadUrl: string }[] = [];
      for (let index = 0; index < imageCount; index += 1) {
        const ticket = await write('POST', `/api/v1/listings/${galleryId}/images`, { filename: `chaos-${index}.jpg`, content_type: 'image/jpeg', size: jpeg.length });
        if (ticket.status !== 201) throw new Error(`could not reserve image ${index}: ${ticket.status} ${ticket.text}`);
        const data = ticket.body.data ?? ticket.body;
        tickets.push({ imageId: data.image_id, uploadUrl: data.upload_url });
      }
      const put = (uploadUrl: string) => fetch(uploadUrl, { method: 'PUT', body: jpeg, headers: { 'Content-Type': 'image/jpeg' }, signal: AbortSignal.timeout(10_000) }).then((response) => response.status, () => 0);

      // Half the uploads land before the outage: their ingest runs into it.
      const before = tickets.slice(0, Math.ceil(imageCount / 2));
      const after = tickets.slice(before.length);
      const beforeStatuses = await Promise.all(before.map((ticket) => put(ticket.uploadUrl)));
      const uploadedBefore = before.filter((_, index) => beforeStatuses[index] === 200);
      if (uploadedBefore.length !== before.length) violations.push(`${before.length - uploadedBefore.length} uploads failed before the outage began`);

      const attachmentsFor = (tag: string) => [
        { url: `${files.origin}/${tag}/photo.jpg`, kind: 'image' },
        { url: `${files.origin}/${tag}/expose.pdf`, kind: 'document' },
      ];
      const attachmentListings: string[] = [];
      const createWithAttachments = async (tag: string) => {
        const response = await write('POST', '/api/v1/listings', listingBody({ attachments: attachmentsFor(tag) }));
        if (response.status === 201) attachmentListings.push(response.body.data.id);
      };
      // Fetches in flight (the file host answers after 300 ms) when the store stops.
      await Promise.all(Array.from({ length: attachmentListingsBefore }, (_, index) => createWithAttachments(`before-${index}`)));

      await stack.faults.stopMinio!();
      minioStopped = true;
      const outageStart = Date.now();
      // During the outage: uploads fail at the store (the client will retry them), and CRMs keep sending attachments.
      const duringStatuses = await Promise.all(after.map((ticket) => put(ticket.uploadUrl)));
      const landedDuring = duringStatuses.filter((status) => status === 200).length;
      if (landedDuring) violations.push(`${landedDuring} uploads answered 200 while MinIO was stopped`);
      for (let index = 0; index < attachmentListingsDuring; index += 1) {
        await createWithAttachments(`during-${index}`);
        await sleep(outageMs / (attachmentListingsDuring + 1));
      }
      await sleep(Math.max(0, outageStart + outageMs - Date.now()));
      await stack.faults.startMinio!();
      minioStopped = false;
      const recoveredAt = Date.now();

      // The client retries its failed PUTs with the same URLs (still within IMAGE_UPLOAD_URL_TTL).
      const uploadedAfter: typeof after = [];
      for (const ticket of after) {
        const done = await waitFor(async () => (await put(ticket.uploadUrl)) === 200, 30_000, 500);
        if (done) uploadedAfter.push(ticket);
        else violations.push(`the upload of ${ticket.imageId} could not be finished after MinIO recovered`);
      }

      const settleMs = 150_000 + 120_000 * scale;
      const settled = await waitFor(async () => {
        const images = await stack.db('listing_images').where({ listing_id: galleryId }).whereNull('deleted_at').select('state');
        const attachments = await stack.db('attachments').whereIn('listing_id', attachmentListings).select('state');
        return images.every((image) => IMAGE_TERMINAL.has(image.state)) && attachments.every((attachment) => ATTACHMENT_TERMINAL.has(attachment.state));
      }, settleMs, 1000);
      const recoverySeconds = Math.round((Date.now() - recoveredAt) / 100) / 10;

      const running = async (workflowId: string) => {
        try {
          return (await temporal.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
        } catch {
          return false;
        }
      };

      // Images: every upload is ingested or failed with a code; an upload finished after recovery must be ready.
      const images = await stack.db('listing_images').where({ listing_id: galleryId }).whereNull('deleted_at').select('id', 'state', 'failure_code');
      const imageById = new Map(images.map((image) => [image.id, image]));
      let lost = 0;
      for (const ticket of uploadedAfter) {
        const image = imageById.get(ticket.imageId);
        if (image?.state !== 'ready') {
          lost += 1;
          violations.push(`image ${ticket.imageId}, uploaded after the recovery, is ${image?.state ?? 'missing'}${image?.failure_code ? ` (${image.failure_code})` : ''}, not ingested`);
        }
      }
      let stuck = 0;
      for (const image of images) {
        if (image.state === 'failed' && !image.failure_code) violations.push(`image ${image.id} failed without a failure code`);
        if (!IMAGE_TERMINAL.has(image.state) && !(await running(`image-ingest:${image.id}`))) {
          stuck += 1;
          violations.push(`image ${image.id} is stuck in ${image.state} with no ingest running`);
        }
      }
      for (const ticket of uploadedBefore) {
        const image = imageById.get(ticket.imageId);
        if (image?.state !== 'ready' && image?.state !== 'failed') lost += 0; // counted as stuck above when nothing runs
      }

      // Attachments: settled with a code, or still fetched by a running run; each listing's run reported once.
      const attachments = await stack.db('attachments as a')
        .join('listings as l', 'l.id', 'a.listing_id')
        .whereIn('a.listing_id', attachmentListings)
        .select('a.id', 'a.listing_id', 'a.state', 'a.failure_code', 'l.attachments_revision');
      for (const attachment of attachments) {
        if (attachment.state === 'failed' && !attachment.failure_code) violations.push(`attachment ${attachment.id} failed without a failure code`);
        if (!ATTACHMENT_TERMINAL.has(attachment.state) && !(await running(`property-processing:${attachment.listing_id}:r${attachment.attachments_revision}`))) {
          stuck += 1;
          violations.push(`attachment ${attachment.id} is stuck in ${attachment.state} with no processing run`);
        }
      }
      const events = await stack.db('events').where({ org_id: org.orgId }).whereIn('name', ['property.processing_succeeded', 'property.processing_failed']).select('name', 'payload');
      const reports = countBy(events, (event) => event.payload.listingId as string);
      let duplicated = 0;
      for (const listingId of attachmentListings) {
        const count = reports[listingId] ?? 0;
        if (count > 1) {
          duplicated += count - 1;
          violations.push(`listing ${listingId} got ${count} property.processing_* events for one revision`);
        }
        const settledHere = attachments.filter((attachment) => attachment.listing_id === listingId).every((attachment) => ATTACHMENT_TERMINAL.has(attachment.state));
        if (settledHere && count === 0) violations.push(`listing ${listingId} has settled attachments but no property.processing_* event`);
      }
      const imageEvents = await stack.db('events').where({ org_id: org.orgId, name: 'listing.image.uploaded' }).select('payload');
      const imageReports = countBy(imageEvents, (event) => event.payload.imageId as string);
      for (const [imageId, count] of Object.entries(imageReports)) {
        if (count > 1) {
          duplicated += count - 1;
          violations.push(`image ${imageId} got ${count} listing.image.uploaded events`);
        }
      }
      for (const image of images) {
        if (image.state === 'ready' && !imageReports[image.id]) violations.push(`image ${image.id} is ready without its listing.image.uploaded event`);
      }

      return {
        id: 5,
        name: 'MinIO outage',
        sent: uploadedBefore.length + uploadedAfter.length + attachments.length,
        unit: 'uploads and attachments',
        acknowledged: uploadedBefore.length + uploadedAfter.length + attachments.length,
        lost,
        duplicated,
        recoverySeconds: settled ? recoverySeconds : null,
        details: {
          outageMs,
          uploadsBefore: uploadedBefore.length,
          uploadsRetriedAfterRecovery: uploadedAfter.length,
          imageStates: countBy(images, (image) => (image.failure_code ? `${image.state}:${image.failure_code}` : image.state)),
          attachmentListings: attachmentListings.length,
          attachmentStates: countBy(attachments, (attachment) => (attachment.failure_code ? `${attachment.state}:${attachment.failure_code}` : attachment.state)),
          processingEvents: countBy(events, (event) => event.name),
          writes,
          writesAcknowledged,
          writeStatuses: countBy(writeStatuses, String),
          fileHostRequests: files.hits(),
          stuck,
          settled: Boolean(settled),
        },
        violations,
      };
    } finally {
      if (minioStopped) await stack.faults.startMinio!().catch(() => undefined);
      await connection.close();
      await files.close();
    }
  },
};

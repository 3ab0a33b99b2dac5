import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerAttachmentPaths } from './paths/attachments';
import { registerEventPaths } from './paths/events';
import { registerIdentityPaths } from './paths/identity';
import { registerImagePaths } from './paths/images';
import { RECOMMENDED_ORDER, registerListingPaths } from './paths/listings';
import { registerPartnerPaths } from './paths/partners';
import { registerRequestPaths } from './paths/requests';
import { registerTargetPaths } from './paths/targets';
import { registerWebhookEvents } from './paths/webhookEvents';
import { registerWebhookPaths } from './paths/webhooks';
import { registerErrorExamples } from './shared';

/** In the order the reference shows them: the first steps of an integration first. */
const TAGS = [
  { name: 'Identity', description: 'Check which organisation, mode and scopes a key carries.' },
  { name: 'Listings', description: `Listings keyed by your CRM's \`external_ref\`: create, update, move through the lifecycle, delete. ${RECOMMENDED_ORDER}` },
  { name: 'Images', description: 'Upload images straight to storage with a presigned URL; they are processed into webp variants in the background.' },
  { name: 'Attachments', description: 'Files your CRM sends by URL (images, floor plans, PDFs), fetched into storage in the background (docs/ATTACHMENTS.md).' },
  { name: 'Events', description: 'The event log, for clients that poll instead of (or besides) receiving webhooks.' },
  { name: 'Webhooks', description: 'Subscriptions that receive signed event deliveries, their secrets and their delivery log (docs/WEBHOOKS.md).' },
  { name: 'Webhook events', description: 'What Immoflow POSTs to your subscription URL, one entry per event name, with the signature headers.' },
  { name: 'Targets', description: 'The portals your published listings are pushed to, and the connection of your organisation to each.' },
  { name: 'Partners', description: 'For CRM partners (reference 001): tokens, agency connect links, and the connections an organisation has granted.' },
  { name: 'Contact requests', description: "Prospects' enquiries that portals e-mail to your inbox, parsed from OpenImmo-Feedback XML (docs/REQUESTS.md)." },
];

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A loopback PUBLIC_BASE_URL (the development default) is right only on the machine and port it
 * names: the docs page opened through another name or port would send its requests elsewhere. The
 * relative '/' means "where this document was fetched from", which is right wherever it is opened.
 */
function serverOf(serverUrl: string) {
  if (LOOPBACK_HOSTS.has(new URL(serverUrl).hostname)) return { url: '/', description: 'The server that serves this document' };
  return { url: serverUrl.replace(/\/+$/, ''), description: 'This Immoflow deployment (PUBLIC_BASE_URL)' };
}

/** OpenAPI 3.1, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(serverUrl: string) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'A secret key (sk_live_… / sk_test_…) for server-side calls, or a publishable key (pk_…) for read-only listing calls. Create keys with `immoflow key create`.',
  });
  // src/http/auth.ts takes the same key as a Bearer token too (X-API-Key wins when both are sent).
  registry.registerComponent('securitySchemes', 'BearerKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'The same API key as `Authorization: Bearer sk_…`, as Stripe takes it. When X-API-Key is sent as well, X-API-Key is used.',
  });
  registerErrorExamples(registry);
  registerIdentityPaths(registry);
  registerListingPaths(registry);
  registerImagePaths(registry);
  registerAttachmentPaths(registry);
  registerEventPaths(registry);
  registerWebhookPaths(registry);
  registerTargetPaths(registry);
  registerPartnerPaths(registry);
  registerRequestPaths(registry);
  const webhookSchemas = registerWebhookEvents(registry);

  const definitions = [...registry.definitions, ...webhookSchemas.map((schema) => ({ type: 'schema' as const, schema }))];
  return new OpenApiGeneratorV31(definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Immoflow API',
      version: '1.0.0',
      description: `Listing sync for real-estate CRMs: REST API, durable pipelines, signed webhooks.

Authenticate with the \`X-API-Key\` header, or send the same key as \`Authorization: Bearer sk_…\`. Every error answers \`{ error: { code, message, details?, request_id } }\` (the \`Error\` schema); branch on \`code\`. Writes accept an \`Idempotency-Key\` so a retry never applies twice.

${RECOMMENDED_ORDER}`,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      contact: { name: 'Immoflow maintainers', url: 'https://github.com/immoflow/immoflow/issues' },
    },
    servers: [serverOf(serverUrl)],
    // Alternatives: either scheme authenticates a request.
    security: [{ ApiKey: [] }, { BearerKey: [] }],
    tags: TAGS,
  });
}

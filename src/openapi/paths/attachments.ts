import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { attachmentDtoSchema } from '../../attachments/schema';
import { ATTACHMENT_FAILURE_CODES } from '../../domain/attachments';
import { attachmentExample } from '../examples';
import { errors, pageOf } from '../shared';
import { listingIdParams } from './listings';

export function registerAttachmentPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings/{id}/attachments',
    operationId: 'listAttachments',
    summary: "A listing's URL attachments, in the order sent, with their fetch state",
    description: `Attachments are sent as \`attachments: [{url, kind, title?, sort_order?, is_title?}]\` on POST and PATCH /listings (at most 150; the list replaces the previous one; an unchanged URL is not fetched again). Each is fetched in the background (\`propertyProcessing\` workflow): \`pending\` → \`fetching\` → \`ready\` or \`failed\` with one of ${ATTACHMENT_FAILURE_CODES.join(', ')}. When all are settled, \`property.processing_succeeded\` or \`property.processing_failed\` (with failureCode and failureMessage of the first failure) carries the listing as GET returns it. See docs/ATTACHMENTS.md.`,
    tags: ['Attachments'],
    request: { params: listingIdParams },
    responses: {
      200: { description: 'Every attachment (one page)', content: pageOf(attachmentDtoSchema, attachmentExample) },
      ...errors(401, 403, 404, 429, 503),
    },
  });
}

import { z } from 'zod';
import { singleLine } from '../http/singleLine';
import { imageVariantDtoSchema } from '../images/schema';
import {
  ATTACHMENT_FAILURE_CODES,
  ATTACHMENT_KINDS,
  ATTACHMENT_STATES,
  MAX_ATTACHMENTS_PER_LISTING,
  MAX_ATTACHMENT_URL_LENGTH,
  checkAttachmentUrlShape,
} from '../domain/attachments';

/** One attachment a CRM sends: a URL the platform fetches. */
export const attachmentInputSchema = z
  .object({
    url: z
      .string()
      .max(MAX_ATTACHMENT_URL_LENGTH, `at most ${MAX_ATTACHMENT_URL_LENGTH} characters`)
      .superRefine((url, ctx) => {
        const problem = checkAttachmentUrlShape(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta({ description: 'https URL of the file (at most 2048 characters); the SSRF guard refuses private, loopback and metadata addresses.' }),
    kind: z.enum(ATTACHMENT_KINDS).meta({ description: 'image, floor_plan (image or PDF), document (PDF) or energy_certificate (PDF or image).' }),
    title: singleLine(z.string().trim().max(200)).nullable().optional(),
    sort_order: z.number().int().min(0).max(100_000).nullable().optional(),
    is_title: z.boolean().optional().meta({ description: 'Marks the title image; without one, the first image is the title image.' }),
  })
  .strict()
  .meta({ id: 'AttachmentInput' });

export const attachmentsInputSchema = z
  .array(attachmentInputSchema)
  .max(MAX_ATTACHMENTS_PER_LISTING, `at most ${MAX_ATTACHMENTS_PER_LISTING} attachments per listing`)
  .superRefine((items, ctx) => {
    const marked = items.flatMap((item, index) => (item.is_title ? [index] : []));
    for (const index of marked.slice(1)) ctx.addIssue({ code: 'custom', path: [index, 'is_title'], message: 'only one attachment can be the title image' });
    for (const index of marked) {
      if (items[index].kind !== 'image') ctx.addIssue({ code: 'custom', path: [index, 'is_title'], message: 'only an image can be the title image' });
    }
  })
  .meta({ description: `The listing's files by URL, at most ${MAX_ATTACHMENTS_PER_LISTING}, in this order. Replaces the whole list; an unchanged URL is not fetched again.` });

export type AttachmentInput = z.infer<typeof attachmentInputSchema>;

export const attachmentDtoSchema = z
  .object({
    id: z.string().meta({ example: 'att_5f4e3d2c1b0a99887766aabb' }),
    url: z.string(),
    kind: z.enum(ATTACHMENT_KINDS),
    title: z.string().nullable(),
    sort_order: z.number().int(),
    is_title: z.boolean().meta({ description: 'The title image (marked, or the first image).' }),
    state: z.enum(ATTACHMENT_STATES).meta({ description: 'pending → fetching → ready, or failed with failure_code.' }),
    failure_code: z.enum(ATTACHMENT_FAILURE_CODES).nullable(),
    failure_message: z.string().nullable(),
    content_type: z.string().nullable().meta({ description: 'The type found by magic bytes, once ready.' }),
    size: z.number().int().nullable(),
    sha256: z.string().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    variants: z
      .array(imageVariantDtoSchema)
      .meta({ description: 'WebP variants of an image attachment once ready (public, stable URLs, as for uploaded images); empty otherwise.' }),
    fetched_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ListingAttachment' });

export type AttachmentDto = z.infer<typeof attachmentDtoSchema>;

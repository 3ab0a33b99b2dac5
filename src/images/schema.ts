import { z } from 'zod';
import { IMAGE_CONTENT_TYPES, IMAGE_FAILURE_CODES, IMAGE_STATES, MAX_IMAGE_BYTES, MAX_IMAGES_PER_LISTING, isPlainFilename } from '../domain/images';

export const createImageSchema = z
  .strictObject({
    filename: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .refine(isPlainFilename, 'must be a plain file name, without slashes or control characters')
      .meta({ example: 'living-room.jpg' }),
    content_type: z.enum(IMAGE_CONTENT_TYPES, { error: `must be one of ${IMAGE_CONTENT_TYPES.join(', ')}` }),
    size: z
      .number()
      .int()
      .min(1, 'must be at least 1 byte')
      .max(MAX_IMAGE_BYTES, `must be at most ${MAX_IMAGE_BYTES} bytes (5 MB)`)
      .meta({ description: `The file's exact size in bytes; at most ${MAX_IMAGE_BYTES} (5 × 1024 × 1024).`, example: 842133 }),
    sort_order: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .meta({ description: 'Position in the gallery, ascending. Defaults to after the last image.' }),
  })
  .meta({ id: 'CreateImageRequest' });

export type CreateImageInput = z.infer<typeof createImageSchema>;

export const completeUploadSchema = z
  .strictObject({ upload_token: z.string().min(1).max(200) })
  .meta({ id: 'CompleteImageUploadRequest' });

export const patchImageSchema = z.strictObject({ sort_order: z.number().int().min(0).max(10_000) }).meta({ id: 'PatchImageRequest' });

export const deleteImageQuerySchema = z.object({
  image_id: z.string({ error: 'is required: the id of the image to remove' }).min(1, 'is required: the id of the image to remove'),
});

export const imageUploadTicketSchema = z
  .object({
    image_id: z.string().meta({ example: 'img_5f4e3d2c1b0a99887766aabb' }),
    upload_url: z.url().meta({ description: 'A presigned PUT URL. Send the bytes with `PUT` before expires_at; no API key, no other headers needed.' }),
    upload_token: z.string().meta({ description: 'Single use: POST it to …/images/{image_id}/complete to have the upload processed at once.' }),
    expires_at: z.iso.datetime(),
  })
  .meta({ id: 'ImageUploadTicket' });

/** A WebP variant on the wire, of an uploaded image or of an image attachment. */
export const imageVariantDtoSchema = z.object({
  name: z.enum(['thumbnail', 'large']),
  url: z.url().meta({ description: 'A public, stable URL (public-read prefix of the images bucket).' }),
  width: z.number().int(),
  height: z.number().int(),
  content_type: z.literal('image/webp'),
});

export const listingImageDtoSchema = z
  .object({
    id: z.string(),
    filename: z.string(),
    content_type: z.enum(IMAGE_CONTENT_TYPES),
    size: z.number().int().meta({ description: 'The stored size once processed, else the declared size.' }),
    sort_order: z.number().int(),
    state: z.enum(IMAGE_STATES).meta({ description: 'awaiting_upload → processing → ready, or failed with a failure code.' }),
    failure: z.object({ code: z.enum(IMAGE_FAILURE_CODES), message: z.string() }).nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    variants: z.array(imageVariantDtoSchema).meta({ description: 'Empty until the image is ready.' }),
    upload_expires_at: z.iso.datetime(),
    created_at: z.iso.datetime(),
    ready_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ListingImage' });

export type ListingImageDto = z.infer<typeof listingImageDtoSchema>;

export const IMAGE_LIMIT_MESSAGE = `A listing has at most ${MAX_IMAGES_PER_LISTING} images. Delete one before adding another.`;

import type { Readable } from 'node:stream';
import FileType from 'file-type';
import {
  ImageFailure,
  ImageIngestInput,
  checkDetectedType,
  checkStoredSize,
  imageObjectKeys,
} from '../src/domain/images';
import { appendEvent } from '../src/events/service';
import type { ListingImageRow } from '../src/images/service';
import { DerivedImage, deriveVariants } from '../src/images/derive';
import { StoredVariant, removeImageObjects, storeVariants, variantUrl } from '../src/images/storage';
import { oweSyncsForListings } from '../src/targets/publicationStarts';
import type { ActivityDeps } from './deps';

export interface IngestedImage {
  size: number;
  detectedType: string;
  width: number;
  height: number;
  variants: StoredVariant[];
}

export type ProcessUploadVerdict = { ok: true; result: IngestedImage } | { ok: false; failure: ImageFailure };

type ImageRef = Pick<ImageIngestInput, 'orgId' | 'listingId' | 'imageId'>;

function isMissingObject(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey';
}

/** Reads at most `limit` bytes; the caller has checked the stored size, this guards a race. */
async function readAll(stream: Readable, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      stream.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The imageIngest workflow's I/O: the store (MinIO), the decoder (sharp) and the image row. */
export function createImageActivities(deps: ActivityDeps) {
  const { db, config, storage } = deps;
  const bucket = config.S3_BUCKET_IMAGES;

  async function liveImage(imageId: string): Promise<ListingImageRow | undefined> {
    return db('listing_images').where({ id: imageId }).whereNull('deleted_at').first();
  }

  return {
    /** Whether the client's PUT has landed; `deleted` once the image was removed through the API. */
    async probeUpload(input: ImageIngestInput): Promise<'present' | 'absent' | 'deleted'> {
      if (!(await liveImage(input.imageId))) return 'deleted';
      try {
        await storage.statObject(bucket, input.objectKey);
        return 'present';
      } catch (error) {
        if (isMissingObject(error)) return 'absent';
        throw error;
      }
    },

    /**
     * Size, then magic bytes, then a full decode, then the variants. A bad file is a verdict, not
     * an error: retrying cannot make a PDF a JPEG.
     */
    async processUpload(input: ImageIngestInput): Promise<ProcessUploadVerdict> {
      await db('listing_images')
        .where({ id: input.imageId, state: 'awaiting_upload' })
        .update({ state: 'processing', updated_at: db.fn.now() });
      const stat = await storage.statObject(bucket, input.objectKey);
      const sizeFailure = checkStoredSize(stat.size, input.maxBytes);
      if (sizeFailure) return { ok: false, failure: sizeFailure };

      const bytes = await readAll(await storage.getObject(bucket, input.objectKey), input.maxBytes);
      // Replaced by a larger object since the stat: the same verdict, without reading it all.
      if (!bytes) return { ok: false, failure: { code: 'FILE_TOO_LARGE', message: `The uploaded file exceeds the limit of ${input.maxBytes} bytes.` } };
      const detected = await FileType.fromBuffer(bytes);
      const typeFailure = checkDetectedType(input.declaredType, detected?.mime);
      if (typeFailure) return { ok: false, failure: typeFailure };

      let derived: DerivedImage;
      try {
        derived = await deriveVariants(bytes);
      } catch (error) {
        return { ok: false, failure: { code: 'UNDECODABLE', message: `The file could not be decoded as ${input.declaredType}: ${(error as Error).message}` } };
      }

      const stored = await storeVariants(storage, config, input.imageId, derived);
      return { ok: true, result: { size: stat.size, detectedType: detected?.mime as string, width: derived.width, height: derived.height, variants: stored } };
    },

    /** Ready + listing.image.uploaded in one transaction; false when the image was deleted meanwhile. */
    async markImageReady(input: ImageIngestInput, result: IngestedImage): Promise<boolean> {
      const marked = await db.transaction(async (trx) => {
        const [row]: ListingImageRow[] = await trx('listing_images')
          .where({ id: input.imageId })
          .whereNull('deleted_at')
          .update({
            state: 'ready',
            size: result.size,
            detected_type: result.detectedType,
            width: result.width,
            height: result.height,
            variants: JSON.stringify(result.variants),
            failure_code: null,
            failure_message: null,
            ready_at: trx.fn.now(),
            updated_at: trx.fn.now(),
          })
          .returning('*');
        if (!row) return false;
        await appendEvent(trx, input.orgId, 'listing.image.uploaded', {
          listingId: input.listingId,
          externalRef: input.externalRef,
          imageId: row.id,
          image: {
            id: row.id,
            sortOrder: row.sort_order,
            width: result.width,
            height: result.height,
            variants: result.variants.map((variant) => ({ name: variant.name, url: variantUrl(config, row.id, variant.name), width: variant.width, height: variant.height })),
          },
        }, config);
        await oweSyncsForListings(trx, config, input.orgId, [input.listingId]);
        return true;
      });
      // Deleted while we worked: what we just wrote must not outlive the image.
      if (!marked) await removeImageObjects(storage, config, input);
      return marked;
    },

    /**
     * Failed with a code; the upload (and any variant) is deleted. No event: nothing was published.
     * The objects go first, so a client that reads `failed` never finds the file still stored.
     */
    async failImage(input: ImageIngestInput, failure: ImageFailure): Promise<void> {
      await removeImageObjects(storage, config, input);
      await db('listing_images')
        .where({ id: input.imageId })
        .whereNull('deleted_at')
        .update({ state: 'failed', failure_code: failure.code, failure_message: failure.message.slice(0, 1000), updated_at: db.fn.now() });
    },

    async removeObjects(input: ImageRef): Promise<void> {
      await removeImageObjects(storage, config, input);
    },
  };
}

export type ImageActivities = ReturnType<typeof createImageActivities>;

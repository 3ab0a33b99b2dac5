import sharp, { type Metadata } from 'sharp';
import { IMAGE_VARIANTS, ImageVariantName } from '../domain/images';

export interface DerivedImage {
  /** As a viewer shows it, after the EXIF orientation. */
  width: number;
  height: number;
  variants: { name: ImageVariantName; data: Buffer; width: number; height: number }[];
}

/** EXIF orientations 5–8 turn the picture by 90°: what a viewer shows has width and height swapped. */
function displayedSize(metadata: Metadata): { width: number; height: number } {
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  return (metadata.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
}

/**
 * Decodes an upload and encodes every variant (WebP, upright, never enlarged, metadata
 * stripped). Throws when the bytes do not decode: `failOn: 'error'` refuses a truncated or
 * corrupt file instead of deriving half an image. The benchmark's baseline runs this same code.
 */
export async function deriveVariants(bytes: Buffer): Promise<DerivedImage> {
  const metadata = await sharp(bytes, { failOn: 'error' }).metadata();
  const variants = await Promise.all(
    IMAGE_VARIANTS.map(async (variant) => {
      const { data, info } = await sharp(bytes, { failOn: 'error' })
        .autoOrient()
        .resize({ width: variant.maxWidth, withoutEnlargement: true })
        .webp({ quality: variant.quality })
        .toBuffer({ resolveWithObject: true });
      return { name: variant.name, data, width: info.width, height: info.height };
    }),
  );
  return { ...displayedSize(metadata), variants };
}

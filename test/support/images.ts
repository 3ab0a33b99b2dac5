import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

/**
 * A real JPEG. With `texture`, random colour blobs (noise at 1/8 scale, smoothly enlarged) give
 * it a photo's detail and weight: 2400 × 1600 at quality 85 is about 1 MB, like a camera upload.
 * Without it, one flat colour.
 */
export async function makeJpeg(width: number, height: number, options: { texture?: boolean } = {}): Promise<Buffer> {
  if (!options.texture) {
    return sharp({ create: { width, height, channels: 3, background: { r: 180, g: 120, b: 60 } } }).jpeg({ quality: 85 }).toBuffer();
  }
  const small = { width: Math.ceil(width / 8), height: Math.ceil(height / 8), channels: 3 as const };
  const blobs = await sharp(randomBytes(small.width * small.height * 3), { raw: small }).png().toBuffer();
  return sharp(blobs).resize(width, height, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
}

/** A minimal but well-formed PDF: what a CRM sends when it mixes up attachments and photos. */
export function makePdf(): Buffer {
  return Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
}

/** The client's half of the flow: PUT the bytes to the presigned URL, as fetch does. */
export async function putUpload(uploadUrl: string, body: Buffer, contentType: string): Promise<Response> {
  return fetch(uploadUrl, { method: 'PUT', body, headers: { 'Content-Type': contentType } });
}

import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

/**
 * A real JPEG. With `noise`, random pixels make it incompressible, so its size follows its
 * dimensions (about 1 MB at 1024 × 768, quality 90): what a camera upload weighs.
 */
export async function makeJpeg(width: number, height: number, options: { noise?: boolean } = {}): Promise<Buffer> {
  const image = options.noise
    ? sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    : sharp({ create: { width, height, channels: 3, background: { r: 180, g: 120, b: 60 } } });
  return image.jpeg({ quality: 90 }).toBuffer();
}

/** A minimal but well-formed PDF: what a CRM sends when it mixes up attachments and photos. */
export function makePdf(): Buffer {
  return Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
}

/** The client's half of the flow: PUT the bytes to the presigned URL, as fetch does. */
export async function putUpload(uploadUrl: string, body: Buffer, contentType: string): Promise<Response> {
  return fetch(uploadUrl, { method: 'PUT', body, headers: { 'Content-Type': contentType } });
}

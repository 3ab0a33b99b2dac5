import { attachmentAsTargetImage } from '../../../src/targets/publisher';

const config = { S3_BUCKET_IMAGES: 'images', S3_BUCKET_ATTACHMENTS: 'attachments' };
const attachment = {
  id: 'att_0123456789abcdef01234567',
  url: 'https://crm.example/photos/Garten%20hinten.jpg?size=full#top',
  content_type: 'image/jpeg',
  size: '204800',
  sort_order: 3,
  object_key: 'org/listing/att_0123456789abcdef01234567/r1',
  variants: [
    { name: 'thumbnail' as const, key: 'att/thumb.webp', width: 400, height: 300 },
    { name: 'large' as const, key: 'att/large.webp', width: 1600, height: 1200 },
  ],
};

describe('an image attachment pushed to a target', () => {
  it('is pushed as fetched, named after its URL\'s last segment, when the target takes it', () => {
    expect(attachmentAsTargetImage(attachment, config)).toEqual({
      id: attachment.id,
      filename: 'Garten hinten.jpg',
      content_type: 'image/jpeg',
      sort_order: 3,
      object_key: attachment.object_key,
      bucket: 'attachments',
    });
  });

  it('is pushed as its large WebP variant when it is over 5 MB or of a type a target refuses', () => {
    const expected = { filename: 'Garten hinten.webp', content_type: 'image/webp', object_key: 'att/large.webp', bucket: 'images' };
    expect(attachmentAsTargetImage({ ...attachment, size: 6 * 1024 * 1024 }, config)).toMatchObject(expected);
    expect(attachmentAsTargetImage({ ...attachment, content_type: 'image/gif' }, config)).toMatchObject(expected);
  });

  it('falls back to its id for a URL without a file name, and is left out when nothing fits', () => {
    expect(attachmentAsTargetImage({ ...attachment, url: 'https://crm.example/' }, config)?.filename).toBe(attachment.id);
    expect(attachmentAsTargetImage({ ...attachment, content_type: 'image/gif', variants: [] }, config)).toBeUndefined();
  });
});

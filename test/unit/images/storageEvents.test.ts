import { uploadedImageIds } from '../../../src/images/storageEvents';
import { variantUrl, variantsReadPolicy } from '../../../src/images/storage';

const bucket = 'immoflow-images';
const record = (key: string, overrides: Record<string, unknown> = {}) => ({
  eventName: 's3:ObjectCreated:Put',
  s3: { bucket: { name: bucket }, object: { key } },
  ...overrides,
});

describe('uploadedImageIds (MinIO / S3 event notification records)', () => {
  it('decodes the URL-encoded keys of created objects in our bucket, once per image', () => {
    const key = 'uploads%2Forg%2Flisting%2Fimg_0123456789abcdef01234567';
    expect(uploadedImageIds({ Records: [record(key), record(key)] }, bucket)).toEqual(['img_0123456789abcdef01234567']);
  });

  it('ignores other buckets, removals, variant keys and malformed bodies', () => {
    const body = {
      Records: [
        record('uploads/org/listing/img_0123456789abcdef01234567', { s3: { bucket: { name: 'other' }, object: { key: 'uploads/org/listing/img_0123456789abcdef01234567' } } }),
        record('uploads/org/listing/img_0123456789abcdef01234567', { eventName: 's3:ObjectRemoved:Delete' }),
        record('variants/img_0123456789abcdef01234567/large.webp'),
        null,
      ],
    };
    expect(uploadedImageIds(body, bucket)).toEqual([]);
    expect(uploadedImageIds(undefined, bucket)).toEqual([]);
    expect(uploadedImageIds({ Records: 'nope' }, bucket)).toEqual([]);
  });
});

describe('public variants', () => {
  it('are addressed on the public endpoint, path style', () => {
    const config = { S3_ENDPOINT: 'http://minio:9000', S3_PUBLIC_ENDPOINT: 'https://cdn.example.com/', S3_BUCKET_IMAGES: bucket };
    expect(variantUrl(config, 'img_0123456789abcdef01234567', 'thumbnail')).toBe('https://cdn.example.com/immoflow-images/variants/img_0123456789abcdef01234567/thumbnail.webp');
  });

  it('are the only objects anonymous readers may GET', () => {
    expect(JSON.parse(variantsReadPolicy(bucket)).Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::immoflow-images/variants/*'] },
    ]);
  });
});

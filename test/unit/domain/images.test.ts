import {
  MAX_IMAGE_BYTES,
  isPlainFilename,
  plainFilename,
  checkDetectedType,
  checkStoredSize,
  imageIdFromObjectKey,
  imageObjectKeys,
  isImageId,
  nextUploadCheckInMs,
  uploadGraceMs,
} from '../../../src/domain/images';

const imageId = 'img_0123456789abcdef01234567';

describe('image ids and object keys', () => {
  it('accepts only img_ plus 24 lowercase hex characters', () => {
    expect(isImageId(imageId)).toBe(true);
    for (const bad of ['img_0123', 'IMG_0123456789abcdef01234567', 'img_0123456789abcdef0123456g', `${imageId}/x`, 42, undefined]) {
      expect(isImageId(bad)).toBe(false);
    }
  });

  it('keeps originals under the private uploads/ prefix and variants under the public variants/ prefix', () => {
    expect(imageObjectKeys.original('org', 'listing', imageId)).toBe(`uploads/org/listing/${imageId}`);
    expect(imageObjectKeys.variant(imageId, 'thumbnail')).toBe(`variants/${imageId}/thumbnail.webp`);
    expect(imageObjectKeys.variantPrefix(imageId)).toBe(`variants/${imageId}/`);
  });

  it('finds the image of an uploaded object, and nothing for other keys', () => {
    expect(imageIdFromObjectKey(imageObjectKeys.original('org', 'listing', imageId))).toBe(imageId);
    expect(imageIdFromObjectKey(imageObjectKeys.variant(imageId, 'large'))).toBeNull();
    expect(imageIdFromObjectKey('uploads/org/listing/not-an-image')).toBeNull();
    expect(imageIdFromObjectKey(`elsewhere/${imageId}`)).toBeNull();
  });
});

describe('checkStoredSize', () => {
  it('accepts 1 byte up to exactly 5,242,880 bytes', () => {
    expect(MAX_IMAGE_BYTES).toBe(5_242_880);
    expect(checkStoredSize(1, MAX_IMAGE_BYTES)).toBeNull();
    expect(checkStoredSize(MAX_IMAGE_BYTES, MAX_IMAGE_BYTES)).toBeNull();
  });

  it('refuses an empty file and one byte over the limit', () => {
    expect(checkStoredSize(0, MAX_IMAGE_BYTES)?.code).toBe('EMPTY_FILE');
    expect(checkStoredSize(MAX_IMAGE_BYTES + 1, MAX_IMAGE_BYTES)).toEqual({
      code: 'FILE_TOO_LARGE',
      message: 'The uploaded file has 5242881 bytes; the limit is 5242880 bytes.',
    });
  });
});

describe('checkDetectedType', () => {
  it('passes when the magic bytes say what was declared', () => {
    expect(checkDetectedType('image/png', 'image/png')).toBeNull();
  });

  it('names both types on a mismatch, and says so when the content is not an image at all', () => {
    expect(checkDetectedType('image/jpeg', 'application/pdf')).toEqual({
      code: 'TYPE_MISMATCH',
      message: 'The file was declared as image/jpeg but its content is application/pdf.',
    });
    expect(checkDetectedType('image/webp', 'image/jpeg')?.code).toBe('TYPE_MISMATCH');
    expect(checkDetectedType('image/jpeg', undefined)?.message).toBe('The file was declared as image/jpeg but its content is not a recognised image.');
  });
});

describe('waiting for the upload', () => {
  it('sleeps one poll interval, but never past the deadline', () => {
    expect(nextUploadCheckInMs(0, 100_000, 15_000)).toBe(15_000);
    expect(nextUploadCheckInMs(90_000, 100_000, 15_000)).toBe(10_000);
  });

  it('stops once the deadline has passed', () => {
    expect(nextUploadCheckInMs(100_000, 100_000, 15_000)).toBeNull();
    expect(nextUploadCheckInMs(100_001, 100_000, 15_000)).toBeNull();
  });

  it('gives a late PUT a minute, or the URL lifetime when that is shorter', () => {
    expect(uploadGraceMs(600_000)).toBe(60_000);
    expect(uploadGraceMs(2_000)).toBe(2_000);
  });
});

describe('file names', () => {
  it('are plain without a path separator or a control character', () => {
    expect(isPlainFilename('living-room.jpg')).toBe(true);
    for (const name of ['a/b.jpg', 'a\\b.jpg', 'tab\there.jpg', 'nul\u0000.jpg']) expect(isPlainFilename(name)).toBe(false);
  });

  it('are made plain by dropping every such character, at most 200 long by default', () => {
    expect(plainFilename('a/b\\c\u0001d.jpg')).toBe('abcd.jpg');
    expect(plainFilename('x'.repeat(300))).toHaveLength(200);
    expect(isPlainFilename(plainFilename('..//\u001f..'))).toBe(true);
  });
});

import {
  ExistingAttachment,
  checkAttachmentType,
  checkAttachmentUrlShape,
  failureForStatus,
  firstFailure,
  hostOf,
  isTransientFailure,
  pickRunnable,
  planAttachments,
  titleImageIndex,
} from '../../../src/domain/attachments';

const row = (id: string, url: string, position: number, overrides: Partial<ExistingAttachment> = {}): ExistingAttachment => ({
  id,
  url,
  kind: 'image',
  title: null,
  sort_order: position,
  is_title: false,
  state: 'ready',
  position,
  ...overrides,
});

describe('planAttachments', () => {
  it('creates every attachment of a first write, in request order, each to be fetched', () => {
    const plan = planAttachments([], [
      { url: 'https://a.example/1.jpg', kind: 'image' },
      { url: 'https://a.example/2.pdf', kind: 'document', title: 'Exposé', sort_order: 7 },
    ]);
    expect(plan.changed).toBe(true);
    expect(plan.removedIds).toEqual([]);
    expect(plan.attachments).toEqual([
      { keepId: null, position: 0, url: 'https://a.example/1.jpg', kind: 'image', title: null, sort_order: 0, is_title: false, fetch: true },
      { keepId: null, position: 1, url: 'https://a.example/2.pdf', kind: 'document', title: 'Exposé', sort_order: 7, is_title: false, fetch: true },
    ]);
  });

  it('keeps a ready attachment whose URL and kind are unchanged, without a fetch', () => {
    const existing = [row('att_1', 'https://a.example/1.jpg', 0)];
    const same = planAttachments(existing, [{ url: 'https://a.example/1.jpg', kind: 'image' }]);
    expect(same).toEqual({ attachments: [expect.objectContaining({ keepId: 'att_1', fetch: false })], removedIds: [], changed: false });
  });

  it('fetches again an attachment that failed, and one whose kind changed', () => {
    const existing = [row('att_1', 'https://a.example/1.jpg', 0, { state: 'failed' }), row('att_2', 'https://a.example/2.pdf', 1, { kind: 'document' })];
    const plan = planAttachments(existing, [
      { url: 'https://a.example/1.jpg', kind: 'image' },
      { url: 'https://a.example/2.pdf', kind: 'floor_plan' },
    ]);
    expect(plan.attachments.map((planned) => [planned.keepId, planned.fetch])).toEqual([
      ['att_1', true],
      [null, true],
    ]);
    expect(plan.removedIds).toEqual(['att_2']);
    expect(plan.changed).toBe(true);
  });

  it('reorders, retitles and removes without fetching what is kept', () => {
    const existing = [row('att_1', 'https://a.example/1.jpg', 0), row('att_2', 'https://a.example/2.jpg', 1), row('att_3', 'https://a.example/3.jpg', 2)];
    const plan = planAttachments(existing, [
      { url: 'https://a.example/3.jpg', kind: 'image', title: 'Garden' },
      { url: 'https://a.example/1.jpg', kind: 'image' },
    ]);
    expect(plan.attachments.map((planned) => [planned.keepId, planned.position, planned.fetch])).toEqual([
      ['att_3', 0, false],
      ['att_1', 1, false],
    ]);
    expect(plan.removedIds).toEqual(['att_2']);
    expect(plan.changed).toBe(true);
  });

  it('matches duplicate URLs one for one', () => {
    const existing = [row('att_1', 'https://a.example/1.jpg', 0)];
    const plan = planAttachments(existing, [
      { url: 'https://a.example/1.jpg', kind: 'image' },
      { url: 'https://a.example/1.jpg', kind: 'image' },
    ]);
    expect(plan.attachments.map((planned) => planned.keepId)).toEqual(['att_1', null]);
  });

  it('clears every attachment with an empty list', () => {
    const plan = planAttachments([row('att_1', 'https://a.example/1.jpg', 0)], []);
    expect(plan).toEqual({ attachments: [], removedIds: ['att_1'], changed: true });
    expect(planAttachments([], []).changed).toBe(false);
  });
});

describe('titleImageIndex', () => {
  it('is the marked image, else the first image, else none', () => {
    expect(titleImageIndex([{ kind: 'floor_plan', is_title: false }, { kind: 'image', is_title: false }, { kind: 'image', is_title: true }])).toBe(2);
    expect(titleImageIndex([{ kind: 'document', is_title: false }, { kind: 'image', is_title: false }, { kind: 'image', is_title: false }])).toBe(1);
    expect(titleImageIndex([{ kind: 'document', is_title: false }])).toBe(-1);
  });
});

describe('checkAttachmentType', () => {
  it('accepts JPEG, PNG, WebP and AVIF images and PDF documents by their sniffed type', () => {
    for (const mime of ['image/jpeg', 'image/png', 'image/webp', 'image/avif']) expect(checkAttachmentType('image', mime)).toBeNull();
    expect(checkAttachmentType('document', 'application/pdf')).toBeNull();
    expect(checkAttachmentType('floor_plan', 'application/pdf')).toBeNull();
    expect(checkAttachmentType('floor_plan', 'image/png')).toBeNull();
    expect(checkAttachmentType('energy_certificate', 'application/pdf')).toBeNull();
  });

  it('refuses a PDF as an image, an image as a document, GIF and unknown bytes', () => {
    expect(checkAttachmentType('image', 'application/pdf')?.code).toBe('unsupported_type');
    expect(checkAttachmentType('document', 'image/jpeg')?.code).toBe('unsupported_type');
    expect(checkAttachmentType('image', 'image/gif')?.code).toBe('unsupported_type');
    expect(checkAttachmentType('image', undefined)).toEqual({ code: 'unsupported_type', message: expect.stringContaining('unknown type') });
  });
});

describe('failures', () => {
  it('maps statuses to codes', () => {
    expect(failureForStatus(200)).toBeNull();
    expect(failureForStatus(404)?.code).toBe('http_4xx');
    expect(failureForStatus(410)?.code).toBe('http_4xx');
    expect(failureForStatus(503)?.code).toBe('http_5xx');
  });

  it('retries only 5xx, timeouts and resets', () => {
    expect(['http_5xx', 'timeout', 'url_unreachable'].every((code) => isTransientFailure(code as never))).toBe(true);
    for (const code of ['http_4xx', 'too_large', 'unsupported_type', 'dns_failed', 'private_address_blocked', 'decode_failed', 'too_many_redirects']) {
      expect(isTransientFailure(code as never)).toBe(false);
    }
  });

  it('reports the first failure in order', () => {
    expect(firstFailure([{ id: 'a', state: 'ready' }])).toBeNull();
    expect(
      firstFailure([
        { id: 'a', state: 'ready' },
        { id: 'b', state: 'failed', failure: { code: 'http_4xx', message: '404' } },
        { id: 'c', state: 'failed', failure: { code: 'too_large', message: 'big' } },
      ]),
    ).toEqual({ code: 'http_4xx', message: '404' });
  });
});

describe('checkAttachmentUrlShape', () => {
  it('wants an http(s) URL of at most 2048 characters', () => {
    expect(checkAttachmentUrlShape('https://a.example/x.jpg')).toBeNull();
    expect(checkAttachmentUrlShape('ftp://a.example/x.jpg')).toBe('an https URL');
    expect(checkAttachmentUrlShape(`https://a.example/${'x'.repeat(2048)}`)).toContain('2048');
  });
});

describe('pickRunnable', () => {
  const item = (id: string, host: string) => ({ id, host });

  it('starts at most perListing at a time and perHost per host, in queue order', () => {
    const queue = [item('1', 'slow.example'), item('2', 'slow.example'), item('3', 'slow.example'), item('4', 'fast.example'), item('5', 'fast.example'), item('6', 'other.example')];
    expect(pickRunnable(queue, [], { perListing: 4, perHost: 2 }).map((picked) => picked.id)).toEqual(['1', '2', '4', '5']);
  });

  it('counts what is running, so a slow host cannot take every slot', () => {
    const running = [item('1', 'slow.example'), item('2', 'slow.example')];
    const queue = [item('3', 'slow.example'), item('4', 'fast.example'), item('5', 'slow.example')];
    expect(pickRunnable(queue, running, { perListing: 4, perHost: 2 }).map((picked) => picked.id)).toEqual(['4']);
    expect(pickRunnable(queue, [...running, item('9', 'x'), item('10', 'y')], { perListing: 4, perHost: 2 })).toEqual([]);
  });

  it('takes the host from the URL, lower case, with its port', () => {
    expect(hostOf('https://CDN.Example.com/a.jpg')).toBe('cdn.example.com');
    expect(hostOf('http://127.0.0.1:8080/a?b')).toBe('127.0.0.1:8080');
    expect(hostOf('https://user@files.example/a')).toBe('files.example');
  });
});

import {
  addBackfillTotals,
  backfillDisposition,
  emptyBackfillTotals,
  leaseBusyWait,
  PublicationView,
  PushedListing,
  decidePublicationAction,
  isTransientFailure,
  judgeTargetResponse,
  listingFingerprint,
  parseRetryAfter,
  planDriftRepair,
  publicationRetryDelay,
} from '../../../src/domain/publications';

const published: PublicationView = { remoteId: 'r-1', pushedRevision: 3, pushedImageIds: ['img_a', 'img_b'], state: 'published' };
const wish = { present: true, revision: 3, readyImageIds: ['img_b', 'img_a'], force: false };

describe('decidePublicationAction', () => {
  it('upserts a listing the target does not hold yet, or holds at another revision', () => {
    expect(decidePublicationAction(wish, undefined)).toBe('upsert');
    expect(decidePublicationAction({ ...wish, revision: 4 }, published)).toBe('upsert');
    expect(decidePublicationAction(wish, { ...published, state: 'failed' })).toBe('upsert');
  });

  it('does nothing when the target holds this revision and this gallery, in any order', () => {
    expect(decidePublicationAction(wish, published)).toBe('none');
  });

  it('upserts when the gallery changed without a new revision', () => {
    expect(decidePublicationAction({ ...wish, readyImageIds: ['img_a'] }, published)).toBe('upsert');
    expect(decidePublicationAction({ ...wish, readyImageIds: ['img_a', 'img_b', 'img_c'] }, published)).toBe('upsert');
    expect(decidePublicationAction({ ...wish, readyImageIds: ['img_a', 'img_c'] }, published)).toBe('upsert');
  });

  it('pushes again on a drift repair even when up to date', () => {
    expect(decidePublicationAction({ ...wish, force: true }, published)).toBe('upsert');
  });

  it('deletes only what the target holds', () => {
    expect(decidePublicationAction({ ...wish, present: false }, published)).toBe('delete');
    expect(decidePublicationAction({ ...wish, present: false }, { ...published, state: 'failed' })).toBe('delete');
    expect(decidePublicationAction({ ...wish, present: false }, { ...published, remoteId: null, state: 'deleted' })).toBe('none');
    expect(decidePublicationAction({ ...wish, present: false, force: true }, undefined)).toBe('none');
  });
});

describe('judgeTargetResponse', () => {
  it('maps reference 000 errors to publication failure codes', () => {
    expect(judgeTargetResponse(201, {})).toEqual({ ok: true });
    const invalid = judgeTargetResponse(400, { error: { code: 'VALIDATION_ERROR', message: 'bad', details: { fields: [{ path: 'title', message: 'required' }] } } });
    expect(invalid).toMatchObject({ ok: false, failureCode: 'validation_failed', fields: [{ path: 'title', message: 'required' }] });
    expect(invalid.message).toContain('HTTP 400 VALIDATION_ERROR: bad');
    expect(judgeTargetResponse(403, { error: { code: 'FORBIDDEN', message: 'Free plan cap' } }).failureCode).toBe('quota_exceeded');
    expect(judgeTargetResponse(403, { error: { code: 'INSUFFICIENT_SCOPE' } }).failureCode).toBe('unauthorized');
    expect(judgeTargetResponse(401, undefined).failureCode).toBe('unauthorized');
    expect(judgeTargetResponse(429, undefined, 5000)).toMatchObject({ failureCode: 'rate_limited', retryAfterMs: 5000 });
    expect(judgeTargetResponse(409, { error: { code: 'IDEMPOTENCY_KEY_REUSED' } }).failureCode).toBe('validation_failed');
  });

  it('waits for a target that is down or has its write API switched off', () => {
    for (const status of [404, 409, 500, 502, 503]) expect(judgeTargetResponse(status, 'not json').failureCode).toBe('target_unavailable');
    expect(isTransientFailure('target_unavailable')).toBe(true);
    expect(isTransientFailure('rate_limited')).toBe(true);
    for (const code of ['validation_failed', 'quota_exceeded', 'unauthorized'] as const) expect(isTransientFailure(code)).toBe(false);
  });
});

describe('parseRetryAfter and publicationRetryDelay', () => {
  it('reads seconds and HTTP dates, and ignores anything else', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(new Date(1_000).toUTCString(), 4_000)).toBe(0);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });

  it('walks the schedule and repeats its last wait', () => {
    const schedule = [1000, 5000, 60_000];
    expect([1, 2, 3, 4, 10].map((attempt) => publicationRetryDelay(schedule, attempt))).toEqual([1000, 5000, 60_000, 60_000, 60_000]);
    expect(publicationRetryDelay([], 1)).toBe(60_000);
  });
});

describe('listingFingerprint', () => {
  it('is the same for the same content however it is ordered, and ignores fields not pushed', () => {
    const a = { title: 'T', rent_cold: 900, energy_certificate: { type: 'demand', energy_value: 80 }, id: 'x' };
    const b = { energy_certificate: { energy_value: 80, type: 'demand' }, rent_cold: 900, title: 'T', id: 'y', status: 'draft' };
    expect(listingFingerprint(a)).toBe(listingFingerprint(b));
    expect(listingFingerprint({ ...a, rent_cold: 901 })).not.toBe(listingFingerprint(a));
    // Absent and null are the same: the target may leave out what is empty.
    expect(listingFingerprint({ title: 'T', floor: null })).toBe(listingFingerprint({ title: 'T' }));
  });
});

describe('planDriftRepair', () => {
  const fp = (rent: number) => listingFingerprint({ rent_cold: rent });
  const live = (listingId: string, externalRef: string, rent: number, extra: Partial<PushedListing> = {}): PushedListing => ({
    listingId,
    externalRef,
    present: true,
    fingerprint: fp(rent),
    inSync: true,
    remoteId: `r-${listingId}`,
    ...extra,
  });
  const gone = (listingId: string, externalRef: string, remoteId: string | null): PushedListing => ({ listingId, externalRef, present: false, fingerprint: null, inSync: false, remoteId });

  it('pushes again what is missing, changed or not active on the target, and takes down what Immoflow does not want there', () => {
    const plan = planDriftRepair(
      [
        { id: 'r1', external_ref: 'A', status: 'active', fingerprint: fp(1) },
        { id: 'r2', external_ref: 'B', status: 'active', fingerprint: fp(99) },
        { id: 'r3', external_ref: 'C', status: 'archived', fingerprint: fp(3) },
        { id: 'r4', external_ref: 'D', status: 'active', fingerprint: fp(4) },
        { id: 'r5', external_ref: 'OWN', status: 'active', fingerprint: fp(5) },
        { id: 'r7', external_ref: 'G', status: 'active', fingerprint: fp(7) },
      ],
      [live('a', 'A', 1), live('b', 'B', 2), live('c', 'C', 3), gone('d', 'D', null), live('e', 'E', 6), gone('f', 'F', null), gone('g', 'G', 'r7')],
    );
    expect(plan).toEqual({ repush: ['b', 'c', 'e'], resync: ['g'], deleteRemote: [{ remoteId: 'r4', externalRef: 'D' }], foreign: 1 });
  });

  it('leaves a listing whose push is in flight or failing to its workflow: repairing it too would push it twice', () => {
    const plan = planDriftRepair(
      [{ id: 'r2', external_ref: 'B', status: 'active', fingerprint: fp(1) }],
      [live('a', 'A', 1, { inSync: false, remoteId: null }), live('b', 'B', 2, { inSync: false })],
    );
    expect(plan).toEqual({ repush: [], resync: [], deleteRemote: [], foreign: 0 });
  });

  it('finds nothing to do when both sides agree', () => {
    expect(planDriftRepair([{ id: 'r1', external_ref: 'A', status: 'active', fingerprint: fp(1) }], [live('a', 'A', 1)])).toEqual({ repush: [], resync: [], deleteRemote: [], foreign: 0 });
  });
});

describe('a connection backfill', () => {
  it('counts each outcome, and hands only the ones that must wait to the listing\'s own workflow', () => {
    expect(backfillDisposition({ status: 'published' })).toBe('published');
    expect(backfillDisposition({ status: 'deleted' })).toBe('deleted');
    expect(backfillDisposition({ status: 'unchanged' })).toBe('unchanged');
    expect(backfillDisposition({ status: 'failed', failureCode: 'validation_failed' })).toBe('failed');
    expect(backfillDisposition({ status: 'retry', failureCode: 'target_unavailable' })).toBe('handedOver');
    expect(backfillDisposition({ status: 'busy', retryAfterMs: 500 })).toBe('handedOver');
  });

  it('adds page totals field by field', () => {
    const page = { published: 3, deleted: 1, unchanged: 2, failed: 0, handedOver: 4 };
    expect(addBackfillTotals(emptyBackfillTotals(), page)).toEqual(page);
    expect(addBackfillTotals(page, page)).toEqual({ published: 6, deleted: 2, unchanged: 4, failed: 0, handedOver: 8 });
  });

  it('looks at a leased pair again within a second, or when its lease runs out if sooner', () => {
    expect(leaseBusyWait(300_000)).toBe(1000);
    expect(leaseBusyWait(400)).toBe(400);
    expect(leaseBusyWait(0)).toBe(100);
  });
});

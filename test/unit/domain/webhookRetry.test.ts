import {
  classifyResponse,
  DEFAULT_RETRY_SCHEDULE,
  MAX_RETRY_AFTER_MS,
  nextAttemptDelay,
  pacedRetrySlot,
  parseRetryAfter,
  parseRetrySchedule,
  withJitter,
} from '../../../src/domain/webhookRetry';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const NOW = Date.UTC(2025, 5, 15, 12, 0, 0); // Sun, 15 Jun 2025 12:00:00 GMT

describe('DEFAULT_RETRY_SCHEDULE', () => {
  it('is an immediate first attempt followed by eight retries with growing delays', () => {
    expect(parseRetrySchedule(DEFAULT_RETRY_SCHEDULE)).toEqual([0, 5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H, 10 * H]);
  });
});

describe('parseRetrySchedule', () => {
  it('parses every unit and tolerates whitespace around entries', () => {
    expect(parseRetrySchedule(' 0s , 250ms,1m ,\t2h')).toEqual([0, 250, M, 2 * H]);
  });

  it('accepts a single entry', () => {
    expect(parseRetrySchedule('10s')).toEqual([10 * S]);
  });

  it.each(['', '   '])('rejects an empty schedule %j', (text) => {
    expect(() => parseRetrySchedule(text)).toThrow(/retry schedule is empty/);
  });

  it.each([
    ['0s,-5s,5m', 2, '-5s'],
    ['0s,5s,soon', 3, 'soon'],
    ['5 minutes', 1, '5 minutes'],
    ['0s,,5m', 2, ''],
    ['0s,5s,', 3, ''],
    ['0s;5s', 1, '0s;5s'],
    ['1.5s', 1, '1.5s'],
  ])('rejects %j naming entry #%d (%j)', (text, position, entry) => {
    expect(() => parseRetrySchedule(text)).toThrow(`retry schedule entry #${position} is not a duration: ${JSON.stringify(entry)}`);
  });
});

describe('withJitter', () => {
  it('maps random 0 to the lower bound, 0.5 to the delay and →1 to the upper bound (±20 % by default)', () => {
    expect(withJitter(10_000, 0)).toBe(8000);
    expect(withJitter(10_000, 0.5)).toBe(10_000);
    expect(withJitter(10_000, 0.75)).toBe(11_000);
    expect(withJitter(10_000, 0.999_999)).toBe(12_000); // rounded; 1 itself is not a valid input
  });

  it('honours a custom ratio', () => {
    expect(withJitter(10_000, 0, 0.5)).toBe(5000);
    expect(withJitter(10_000, 0.25, 0.1)).toBe(9500);
    expect(withJitter(10_000, 0.9, 0)).toBe(10_000);
  });

  it('keeps 0 at 0 whatever the random number', () => {
    for (const random of [0, 0.3, 0.5, 0.99]) expect(withJitter(0, random)).toBe(0);
  });

  it('rounds to whole milliseconds', () => {
    expect(withJitter(7, 0.1)).toBe(6); // 7 × 0.84 = 5.88
    expect(withJitter(1001, 0.5)).toBe(1001);
    expect(Number.isInteger(withJitter(333, 0.123))).toBe(true);
  });

  it('stays inside [0.8, 1.2] × delay over the whole random range', () => {
    for (let i = 0; i < 1000; i += 1) {
      const jittered = withJitter(5 * M, i / 1000);
      expect(jittered).toBeGreaterThanOrEqual(4 * M);
      expect(jittered).toBeLessThanOrEqual(6 * M);
    }
  });

  it.each([
    [1000, 1, 0.2],
    [1000, -0.1, 0.2],
    [1000, Number.NaN, 0.2],
    [-1, 0.5, 0.2],
    [Number.POSITIVE_INFINITY, 0.5, 0.2],
    [1000, 0.5, 1.5],
    [1000, 0.5, -0.1],
  ])('rejects delay=%p random=%p ratio=%p', (delay, random, ratio) => {
    expect(() => withJitter(delay, random, ratio)).toThrow(RangeError);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['1', 1000],
    ['120', 120_000],
    [' 30 ', 30_000],
    ['007', 7000],
  ])('delta-seconds %j → %d ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it('treats an absurdly large delta-seconds value as 2^31 seconds instead of overflowing', () => {
    expect(parseRetryAfter('99999999999999999999999', NOW)).toBe(2_147_483_648 * 1000);
  });

  it('parses an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Sun, 15 Jun 2025 12:02:00 GMT', NOW)).toBe(2 * M);
    expect(parseRetryAfter('Mon, 16 Jun 2025 12:00:00 GMT', NOW)).toBe(24 * H);
  });

  it('parses the obsolete RFC 850 and asctime forms', () => {
    expect(parseRetryAfter('Sunday, 15-Jun-25 12:00:30 GMT', NOW)).toBe(30 * S);
    expect(parseRetryAfter('Sun Jun 15 13:00:00 2025', NOW)).toBe(H);
    expect(parseRetryAfter('Tue Jul  1 12:00:00 2025', NOW)).toBe(16 * 24 * H);
  });

  it('resolves a two-digit RFC 850 year more than 50 years ahead into the past century', () => {
    // "94" is 1994, not 2094: long past, so retry now.
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(0);
  });

  it('turns a date in the past into 0 (retry now), never a negative delay', () => {
    expect(parseRetryAfter('Sun, 15 Jun 2025 11:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(0);
  });

  it.each([
    null,
    undefined,
    '',
    '   ',
    '-5',
    '+5',
    '1.5',
    '1e3',
    '0x10',
    '10s',
    'soon',
    'NaN',
    '2025-06-15T12:02:00Z', // ISO 8601 is not an HTTP-date
    'Sun, 15 Jun 2025 12:02:00 UTC', // must be GMT
    'Sun, 15 Jun 2025 12:02:00', // zone missing
    'Sun, 31 Feb 2025 12:02:00 GMT', // no such day
    'Sun, 15 Jun 2025 25:00:00 GMT', // no such hour
    'Sun, 15 Juni 2025 12:02:00 GMT',
    'sun, 15 jun 2025 12:02:00 gmt', // HTTP-date is case-sensitive
    '15 Jun 2025 12:02:00 GMT',
  ])('rejects %j', (header) => {
    expect(parseRetryAfter(header, NOW)).toBeNull();
  });
});

describe('nextAttemptDelay', () => {
  const schedule = parseRetrySchedule(DEFAULT_RETRY_SCHEDULE);
  const base = { schedule, retryAfterMs: null, random: 0.5 };

  it('after the initial attempt uses the second schedule entry (the first retry)', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 1 })).toBe(5 * S);
    expect(nextAttemptDelay({ ...base, attemptNumber: 2 })).toBe(5 * M);
    expect(nextAttemptDelay({ ...base, attemptNumber: 3 })).toBe(30 * M);
  });

  it('allows exactly eight retries with the default schedule, then reports exhaustion', () => {
    const delays = [];
    for (let attempt = 1; ; attempt += 1) {
      const delay = nextAttemptDelay({ ...base, attemptNumber: attempt });
      if (delay === null) break;
      delays.push(delay);
    }
    expect(delays).toEqual([5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H, 10 * H]);
    expect(nextAttemptDelay({ ...base, attemptNumber: 9 })).toBeNull();
    expect(nextAttemptDelay({ ...base, attemptNumber: 50 })).toBeNull();
  });

  it('applies jitter to the scheduled delay', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 1, random: 0 })).toBe(4 * S);
    expect(nextAttemptDelay({ ...base, attemptNumber: 2, random: 0.75 })).toBe(5.5 * M);
  });

  it('lets a longer Retry-After postpone the attempt', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 1, retryAfterMs: 2 * M })).toBe(2 * M);
  });

  it('never lets a shorter Retry-After bring the attempt forward', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 2, retryAfterMs: 10 * S })).toBe(5 * M);
    expect(nextAttemptDelay({ ...base, attemptNumber: 2, retryAfterMs: 0 })).toBe(5 * M);
  });

  it('caps Retry-After at 24 hours by default', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(24 * H);
    expect(nextAttemptDelay({ ...base, attemptNumber: 1, retryAfterMs: 30 * 24 * H })).toBe(24 * H);
  });

  it('caps Retry-After at a custom maxMs', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 1, retryAfterMs: 2 * H, maxMs: H })).toBe(H);
  });

  it('does not cap the schedule itself with maxMs', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 6, retryAfterMs: 2 * H, maxMs: H })).toBe(10 * H);
  });

  it('does not let Retry-After resurrect an exhausted delivery', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 9, retryAfterMs: 5 * S })).toBeNull();
  });

  it('ignores a nonsensical retryAfterMs', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 1, retryAfterMs: Number.NaN })).toBe(5 * S);
    expect(nextAttemptDelay({ ...base, attemptNumber: 1, retryAfterMs: -H })).toBe(5 * S);
  });

  it('raises the delay to minMs', () => {
    expect(nextAttemptDelay({ ...base, attemptNumber: 1, minMs: 30 * S })).toBe(30 * S);
    expect(nextAttemptDelay({ ...base, attemptNumber: 2, minMs: 30 * S })).toBe(5 * M);
  });

  it('works with a custom schedule and a Retry-After parsed from a header', () => {
    const custom = parseRetrySchedule('0s,1s');
    const retryAfterMs = parseRetryAfter('Sun, 15 Jun 2025 12:00:45 GMT', NOW);
    expect(nextAttemptDelay({ schedule: custom, attemptNumber: 1, retryAfterMs, random: 0.5 })).toBe(45 * S);
    expect(nextAttemptDelay({ schedule: custom, attemptNumber: 2, retryAfterMs, random: 0.5 })).toBeNull();
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects attemptNumber %p', (attemptNumber) => {
    expect(() => nextAttemptDelay({ ...base, attemptNumber })).toThrow(RangeError);
  });

  it('rejects minMs > maxMs', () => {
    expect(() => nextAttemptDelay({ ...base, attemptNumber: 1, minMs: 2 * H, maxMs: H })).toThrow(RangeError);
  });

  it('is deterministic for the same inputs', () => {
    const input = { ...base, attemptNumber: 4, random: 0.123_456 };
    expect(nextAttemptDelay(input)).toBe(nextAttemptDelay(input));
    expect(nextAttemptDelay(input)).toBe(Math.round(2 * H * (1 + 0.2 * (2 * 0.123_456 - 1))));
  });
});

describe('classifyResponse', () => {
  it.each([200, 201, 202, 204, 299])('%d → succeeded', (status) => {
    expect(classifyResponse(status)).toBe('succeeded');
  });

  it('410 Gone → gone', () => {
    expect(classifyResponse(410)).toBe('gone');
  });

  it.each([100, 199, 300, 301, 302, 304, 307, 308, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504])(
    '%d → retry',
    (status) => {
      expect(classifyResponse(status)).toBe('retry');
    },
  );

  it('a network error or timeout (null) → retry', () => {
    expect(classifyResponse(null)).toBe('retry');
  });
});

describe('pacedRetrySlot', () => {
  it('gives a lone attempt its due time', () => {
    expect(pacedRetrySlot({ dueAtMs: 5000, nextFreeMs: 0, perSecond: 10 })).toEqual({ slotMs: 5000, nextFreeMs: 5100 });
  });

  it('spaces a burst due together at the rate', () => {
    let nextFreeMs = 0;
    const slots = Array.from({ length: 4 }, () => {
      const paced = pacedRetrySlot({ dueAtMs: 5000, nextFreeMs, perSecond: 4 });
      nextFreeMs = paced.nextFreeMs;
      return paced.slotMs;
    });
    expect(slots).toEqual([5000, 5250, 5500, 5750]);
  });

  it('never brings an attempt forward, and forgets a burst once it is past', () => {
    expect(pacedRetrySlot({ dueAtMs: 9000, nextFreeMs: 5750, perSecond: 4 })).toEqual({ slotMs: 9000, nextFreeMs: 9250 });
  });

  it('rejects a rate that is not positive', () => {
    expect(() => pacedRetrySlot({ dueAtMs: 0, nextFreeMs: 0, perSecond: 0 })).toThrow(RangeError);
  });
});

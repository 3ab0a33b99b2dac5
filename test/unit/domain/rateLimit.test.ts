import { decideRateLimit, grantedFromLease, leaseSize, windowStart } from '../../../src/domain/rateLimit';

const HOUR = 3_600_000;
const MINUTE = 60_000;
// 2025-01-01T10:00:00Z, a whole hour.
const T = Date.UTC(2025, 0, 1, 10, 0, 0);

describe('windowStart', () => {
  it('rounds down to the start of the window', () => {
    expect(windowStart(T, HOUR)).toBe(T);
    expect(windowStart(T + 1, HOUR)).toBe(T);
    expect(windowStart(T + 59 * MINUTE + 59_999, HOUR)).toBe(T);
    expect(windowStart(T + HOUR, HOUR)).toBe(T + HOUR);
    expect(windowStart(T + HOUR - 1, HOUR)).toBe(T);
  });

  it('works for other window sizes', () => {
    expect(windowStart(T + 90_500, MINUTE)).toBe(T + MINUTE);
    expect(windowStart(12_345, 1000)).toBe(12_000);
    expect(windowStart(0, HOUR)).toBe(0);
    expect(windowStart(999, 1000)).toBe(0);
  });

  it('gives every instant of one window the same start and the next window a different one', () => {
    const starts = new Set([T, T + 1, T + HOUR / 2, T + HOUR - 1].map((now) => windowStart(now, HOUR)));
    expect([...starts]).toEqual([T]);
    expect(windowStart(T + HOUR, HOUR) - windowStart(T + HOUR - 1, HOUR)).toBe(HOUR);
  });
});

describe('decideRateLimit', () => {
  const now = T + 10 * MINUTE; // 50 minutes left in the window

  it('allows requests up to and including the limit', () => {
    expect(decideRateLimit(1, 1000, now, HOUR).allowed).toBe(true);
    expect(decideRateLimit(999, 1000, now, HOUR).allowed).toBe(true);
    expect(decideRateLimit(1000, 1000, now, HOUR).allowed).toBe(true);
  });

  it('refuses the request after the limit and every one after that', () => {
    expect(decideRateLimit(1001, 1000, now, HOUR).allowed).toBe(false);
    expect(decideRateLimit(5000, 1000, now, HOUR).allowed).toBe(false);
  });

  it('with a limit of 1 allows exactly the first request', () => {
    expect(decideRateLimit(1, 1, now, HOUR).allowed).toBe(true);
    expect(decideRateLimit(2, 1, now, HOUR).allowed).toBe(false);
  });

  it('echoes the limit', () => {
    expect(decideRateLimit(3, 1000, now, HOUR).limit).toBe(1000);
    expect(decideRateLimit(3, 7, now, HOUR).limit).toBe(7);
  });

  it('counts remaining requests down to zero and never below', () => {
    expect(decideRateLimit(1, 1000, now, HOUR).remaining).toBe(999);
    expect(decideRateLimit(999, 1000, now, HOUR).remaining).toBe(1);
    expect(decideRateLimit(1000, 1000, now, HOUR).remaining).toBe(0);
    expect(decideRateLimit(1001, 1000, now, HOUR).remaining).toBe(0);
    expect(decideRateLimit(1_000_000, 1000, now, HOUR).remaining).toBe(0);
  });

  it('returns the whole decision', () => {
    expect(decideRateLimit(10, 100, now, HOUR)).toEqual({ allowed: true, limit: 100, remaining: 90, resetSeconds: 3000 });
    expect(decideRateLimit(101, 100, now, HOUR)).toEqual({ allowed: false, limit: 100, remaining: 0, resetSeconds: 3000 });
  });

  describe('resetSeconds', () => {
    it('is the whole window at the first millisecond of a window', () => {
      expect(decideRateLimit(1, 10, T, HOUR).resetSeconds).toBe(3600);
    });

    it('is the time left until the next window, rounded up to whole seconds', () => {
      expect(decideRateLimit(1, 10, T + 1, HOUR).resetSeconds).toBe(3600); // 3599.999 s
      expect(decideRateLimit(1, 10, T + 1000, HOUR).resetSeconds).toBe(3599);
      expect(decideRateLimit(1, 10, T + 1001, HOUR).resetSeconds).toBe(3599); // 3598.999 s
      expect(decideRateLimit(1, 10, T + 30 * MINUTE, HOUR).resetSeconds).toBe(1800);
    });

    it('is correct near the end of the window', () => {
      expect(decideRateLimit(1, 10, T + HOUR - 10_000, HOUR).resetSeconds).toBe(10);
      expect(decideRateLimit(1, 10, T + HOUR - 2000, HOUR).resetSeconds).toBe(2);
      expect(decideRateLimit(1, 10, T + HOUR - 1500, HOUR).resetSeconds).toBe(2);
      expect(decideRateLimit(1, 10, T + HOUR - 1001, HOUR).resetSeconds).toBe(2);
      expect(decideRateLimit(1, 10, T + HOUR - 1000, HOUR).resetSeconds).toBe(1);
      expect(decideRateLimit(1, 10, T + HOUR - 999, HOUR).resetSeconds).toBe(1);
      expect(decideRateLimit(1, 10, T + HOUR - 1, HOUR).resetSeconds).toBe(1);
    });

    it('is never below 1, even for sub-second windows', () => {
      expect(decideRateLimit(1, 10, 0, 100).resetSeconds).toBe(1);
      expect(decideRateLimit(1, 10, 99, 100).resetSeconds).toBe(1);
      for (let offset = 0; offset < HOUR; offset += 997) {
        const { resetSeconds } = decideRateLimit(1, 10, T + offset, HOUR);
        expect(resetSeconds).toBeGreaterThanOrEqual(1);
        expect(resetSeconds).toBeLessThanOrEqual(3600);
      }
    });

    it('points at the start of the next window', () => {
      for (const offset of [0, 1, 999, 1000, 123_456, HOUR - 1]) {
        const nowMs = T + offset;
        const { resetSeconds } = decideRateLimit(1, 10, nowMs, HOUR);
        // nowMs + resetSeconds lands in the next window, and not more than a second past its start.
        expect(windowStart(nowMs + resetSeconds * 1000, HOUR)).toBe(T + HOUR);
        expect(nowMs + resetSeconds * 1000 - (T + HOUR)).toBeLessThan(1000);
      }
    });

    it('does not depend on the count', () => {
      const nowMs = T + HOUR - 4500;
      expect(decideRateLimit(1, 10, nowMs, HOUR).resetSeconds).toBe(5);
      expect(decideRateLimit(11, 10, nowMs, HOUR).resetSeconds).toBe(5);
    });
  });
});

describe('leaseSize', () => {
  it('claims a sixteenth of what is left, at most 100', () => {
    expect(leaseSize(1000, 0)).toBe(62);
    expect(leaseSize(1000, 840)).toBe(10);
    expect(leaseSize(100_000_000, 0)).toBe(100);
    expect(leaseSize(100_000_000, 0, 20)).toBe(20);
  });

  it('claims one request at a time near the end of the budget, and past it', () => {
    expect(leaseSize(1000, 985)).toBe(1);
    expect(leaseSize(1000, 1000)).toBe(1);
    expect(leaseSize(1000, 5000)).toBe(1);
    expect(leaseSize(5, 0)).toBe(1);
  });
});

describe('grantedFromLease', () => {
  it('grants the whole lease while the counter stays within the limit', () => {
    expect(grantedFromLease(62, 62, 1000)).toBe(62);
    expect(grantedFromLease(10, 1000, 1000)).toBe(10);
  });

  it('grants only the part of a lease below the limit', () => {
    // Another replica took the counter to 995; this claim of 10 ends at 1005.
    expect(grantedFromLease(10, 1005, 1000)).toBe(5);
  });

  it('grants nothing once the budget was spent before the claim', () => {
    expect(grantedFromLease(1, 1001, 1000)).toBe(0);
    expect(grantedFromLease(10, 1100, 1000)).toBe(0);
  });
});

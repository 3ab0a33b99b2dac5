/**
 * Webhook delivery retry policy: schedule parsing, jitter, Retry-After handling and response
 * classification.
 *
 * PURE and deterministic: imported by Temporal workflow code, so no I/O, no node built-ins, no
 * clock and no randomness of its own. The current time and a random number in [0, 1) are passed
 * in by the caller (a workflow passes its own seeded, replay-safe `Math.random()` / `Date.now()`).
 *
 * Reference 003: a non-2xx response is retried "up to eight times with exponential backoff".
 */
import { parseDurationMs } from './duration';

/**
 * Delay before each attempt. The first entry is the delay of the initial attempt (immediately);
 * the remaining eight are the retries, so a delivery is attempted at most nine times.
 */
export const DEFAULT_RETRY_SCHEDULE = '0s,5s,5m,30m,2h,5h,10h,10h,10h';

/** Default ± fraction applied to every scheduled delay so retries of many deliveries spread out. */
export const DEFAULT_JITTER_RATIO = 0.2;

/** Upper bound on how long a subscriber's Retry-After may postpone the next attempt. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * Parses a comma-separated list of durations (`0s,5s,5m,…`) into milliseconds. Entries may be
 * surrounded by whitespace. Throws on an empty schedule, an empty entry, or any entry that is not a
 * non-negative duration (`-5s`, `5 minutes`, …); the message names the bad entry and its position.
 */
export function parseRetrySchedule(text: string): number[] {
  if (text.trim() === '') throw new Error('retry schedule is empty (expected e.g. "0s,5s,5m,30m")');
  return text.split(',').map((entry, index) => {
    try {
      return parseDurationMs(entry);
    } catch {
      throw new Error(
        `retry schedule entry #${index + 1} is not a duration: ${JSON.stringify(entry.trim())} ` +
          `(expected a comma-separated list such as "0s,5s,5m,30m,2h")`,
      );
    }
  });
}

/**
 * Spreads `delayMs` uniformly over [delay × (1 − ratio), delay × (1 + ratio)) using `random`
 * (a number in [0, 1), supplied by the caller), rounded to whole milliseconds.
 * random = 0 gives the lower bound, random = 0.5 the delay itself. A delay of 0 stays 0.
 */
export function withJitter(delayMs: number, random: number, ratio = DEFAULT_JITTER_RATIO): number {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delay must be a finite number ≥ 0, got ${delayMs}`);
  if (!(random >= 0 && random < 1)) throw new RangeError(`random must be in [0, 1), got ${random}`);
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`jitter ratio must be in [0, 1], got ${ratio}`);
  return Math.round(delayMs * (1 + ratio * (2 * random - 1)));
}

const DELTA_SECONDS = /^\d+$/;
/** RFC 9111 §1.2.2: a delta-seconds value too large to represent is treated as 2^31 seconds. */
const MAX_DELTA_SECONDS = 2_147_483_648;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** IMF-fixdate, the preferred form: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** Obsolete RFC 850 form: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** Obsolete asctime form: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function utcMs(year: number, month: string, day: number, hour: number, minute: number, second: number): number | null {
  const monthIndex = MONTHS.indexOf(month);
  if (hour > 23 || minute > 59 || second > 60) return null; // 60: leap second, allowed by RFC 9110
  const ms = Date.UTC(year, monthIndex, day, hour, minute, Math.min(second, 59));
  const check = new Date(ms);
  // Date.UTC rolls 31 Feb over into March: reject dates that do not exist.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== monthIndex || check.getUTCDate() !== day) return null;
  return ms;
}

/** Parses an HTTP-date (RFC 9110 §5.6.7, all three forms) into epoch milliseconds, or null. */
function parseHttpDate(text: string, nowMs: number): number | null {
  let match = IMF_FIXDATE.exec(text);
  if (match) return utcMs(Number(match[3]), match[2], Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  match = RFC850_DATE.exec(text);
  if (match) {
    // RFC 9110: a two-digit year that appears to be more than 50 years in the future is in the past century.
    const currentYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(currentYear / 100) * 100 + Number(match[3]);
    if (year > currentYear + 50) year -= 100;
    return utcMs(year, match[2], Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  }
  match = ASCTIME_DATE.exec(text);
  if (match) return utcMs(Number(match[6]), match[1], Number(match[2].trim()), Number(match[3]), Number(match[4]), Number(match[5]));
  return null;
}

/**
 * Interprets a `Retry-After` response header (RFC 9110 §10.2.3) as a delay in milliseconds from
 * `nowMs`: either delta-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in
 * the past means "now" (0). Missing, empty, negative, fractional or otherwise invalid values → null.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | null {
  if (header == null) return null;
  const text = header.trim();
  if (text === '') return null;
  if (DELTA_SECONDS.test(text)) return Math.min(Number(text), MAX_DELTA_SECONDS) * 1000;
  const dateMs = parseHttpDate(text, nowMs);
  if (dateMs === null) return null;
  return Math.max(0, dateMs - nowMs);
}

export interface NextAttemptInput {
  /** Delays in ms (see parseRetrySchedule); entry 0 is the initial attempt. */
  schedule: readonly number[];
  /** 1-based count of attempts made so far (1 after the initial attempt failed). */
  attemptNumber: number;
  /** The subscriber's Retry-After as parsed by parseRetryAfter, or null when absent/invalid. */
  retryAfterMs: number | null;
  /** A number in [0, 1) for the jitter (a workflow's deterministic Math.random()). */
  random: number;
  /** Floor for the returned delay. Default 0. */
  minMs?: number;
  /** Cap on how far Retry-After may push the attempt out. Default MAX_RETRY_AFTER_MS (24 h). */
  maxMs?: number;
}

/**
 * Delay in ms before the next attempt, or null when the schedule is exhausted.
 *
 * Rule:
 *   scheduled = withJitter(schedule[attemptNumber], random)      (schedule[0] was the initial attempt)
 *   delay     = retryAfterMs == null
 *                 ? scheduled
 *                 : max(scheduled, min(retryAfterMs, maxMs))       (maxMs defaults to 24 h)
 *   result    = max(delay, minMs)                                  (minMs defaults to 0)
 *
 * So Retry-After can only postpone an attempt, never bring it forward (a subscriber cannot make us
 * retry faster than our schedule), and can postpone it by at most `maxMs`. The schedule itself is
 * operator configuration and is not capped by `maxMs`. Retry-After does not add attempts: the
 * delivery is still exhausted after the last schedule entry.
 */
export function nextAttemptDelay(input: NextAttemptInput): number | null {
  const { schedule, attemptNumber, retryAfterMs, random } = input;
  const minMs = input.minMs ?? 0;
  const maxMs = input.maxMs ?? MAX_RETRY_AFTER_MS;
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError(`attemptNumber is the 1-based count of attempts made so far, got ${attemptNumber}`);
  }
  if (!(minMs >= 0 && maxMs >= minMs)) throw new RangeError(`need 0 ≤ minMs ≤ maxMs, got minMs=${minMs} maxMs=${maxMs}`);
  if (attemptNumber >= schedule.length) return null;
  let delay = withJitter(schedule[attemptNumber], random);
  if (retryAfterMs != null && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    delay = Math.max(delay, Math.min(retryAfterMs, maxMs));
  }
  return Math.max(delay, minMs);
}

export type AttemptOutcome = 'succeeded' | 'gone' | 'retry';

/**
 * What a delivery attempt's HTTP status means (null = network error or timeout):
 * 2xx → succeeded; 410 Gone → gone (the subscriber asks us to stop); anything else → retry.
 * Redirects (3xx) are not followed and count as failures.
 */
export function classifyResponse(status: number | null): AttemptOutcome {
  if (status === null) return 'retry';
  if (Number.isInteger(status) && status >= 200 && status <= 299) return 'succeeded';
  if (status === 410) return 'gone';
  return 'retry';
}

/**
 * Spaces wake-ups at most `perSecond` apart: the slot for an attempt due at `dueAtMs`, given the
 * first free slot `nextFreeMs` (0 at first), and the free slot after it. A burst of refused first
 * attempts (a dead subscriber, a consumer outage) would otherwise wake all its retries together,
 * only for them to wait in the rate-limited queue (WEBHOOK_RETRY_ATTEMPTS_PER_SECOND): spaced,
 * each wakes when it can run, and next_attempt_at says when that is.
 */
export function pacedRetrySlot(input: { dueAtMs: number; nextFreeMs: number; perSecond: number }): { slotMs: number; nextFreeMs: number } {
  const { dueAtMs, nextFreeMs, perSecond } = input;
  if (!(perSecond > 0)) throw new RangeError(`perSecond must be > 0, got ${perSecond}`);
  const slotMs = Math.max(dueAtMs, nextFreeMs);
  return { slotMs, nextFreeMs: slotMs + 1000 / perSecond };
}

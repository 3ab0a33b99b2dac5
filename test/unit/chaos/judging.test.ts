import { badFailures, readinessLies } from '../../../bench/chaos/scenarios/postgresRestart';
import { onceNoneMore, statusCounts } from '../../../bench/chaos/support';
import type { WriteOutcome } from '../../../bench/chaos/support';

const outcome = (status: number, code?: string, extra: Partial<WriteOutcome> = {}): WriteOutcome => ({ index: 0, externalRef: 'x', startedAt: 0, ms: 5, status, code, ...extra });

describe('badFailures (scenario 3)', () => {
  it('accepts 2xx and 503 with a code, and nothing else', () => {
    const bad = badFailures([outcome(201), outcome(503, 'DATABASE_UNAVAILABLE'), outcome(503), outcome(500, 'INTERNAL_ERROR'), outcome(0, undefined, { timedOut: true }), outcome(400, 'VALIDATION_ERROR')]);
    expect(bad.map((o) => o.status)).toEqual([503, 500, 0, 400]);
  });
});

describe('readinessLies (scenario 3)', () => {
  // Postgres gone from 1000 to 5000 (start called at 5000, accepting at 6000); the run ends at 20000.
  const outages = [{ downAt: 900, goneAt: 1000, startAt: 5000, upAt: 6000 }];
  const sample = (startedAt: number, status: number, postgresOk: boolean | null) => ({ startedAt, endedAt: startedAt + 100, status, postgresOk });

  it('finds nothing when /readyz tells the truth', () => {
    expect(readinessLies([sample(0, 200, true), sample(2000, 503, false), sample(10_000, 200, true)], outages, 20_000, 0)).toEqual([]);
  });

  it('calls out ready while Postgres was down', () => {
    expect(readinessLies([sample(2000, 200, true)], outages, 20_000, 0)).toEqual(['/readyz said Postgres was fine 1 of 1 times while it was down']);
  });

  it('calls out not ready well after Postgres was back, but not during the grace after the start', () => {
    expect(readinessLies([sample(6500, 503, false)], outages, 20_000, 0)).toEqual([]);
    expect(readinessLies([sample(12_000, 503, false)], outages, 20_000, 0)).toEqual(['/readyz said not ready 1 of 1 times more than 3 s after Postgres was back']);
  });

  it('does not judge the moment between pg_ctl start and its return (pg_ctl polls)', () => {
    expect(readinessLies([sample(5200, 200, true)], outages, 20_000, 0)).toEqual([]);
  });

  it('counts a /readyz without an answer as a hang', () => {
    expect(readinessLies([sample(3000, 0, null)], outages, 20_000, 0)[0]).toMatch(/no answer within 5 s 1 times \(sent at \+3 s/);
  });
});

describe('counting helpers', () => {
  it('splits counts into exactly once, none and more than once', () => {
    expect(onceNoneMore(new Map([['a', 1], ['b', 0], ['c', 2], ['d', 1]]))).toEqual({ once: 2, none: ['b'], more: ['c'] });
  });

  it('labels outcomes by status and code', () => {
    expect(statusCounts([outcome(201), outcome(201), outcome(503, 'DATABASE_UNAVAILABLE'), outcome(0, undefined, { timedOut: true }), outcome(0)])).toEqual({
      '201': 2,
      '503 DATABASE_UNAVAILABLE': 1,
      timeout: 1,
      no_answer: 1,
    });
  });
});

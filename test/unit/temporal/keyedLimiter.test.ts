import { keyedLimiter } from '../../../src/temporal/keyedLimiter';

/** A task that stays in flight until released, recording how many of its key ran at once. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { done, release };
}

it('runs at most `limit` tasks per key at once, and lets other keys run meanwhile', async () => {
  const { run } = keyedLimiter(2);
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const gates = Array.from({ length: 6 }, gate);
  const task = (key: string, index: number) =>
    run(key, async () => {
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      peak.set(key, Math.max(peak.get(key) ?? 0, inFlight.get(key) as number));
      await gates[index].done;
      inFlight.set(key, (inFlight.get(key) as number) - 1);
      return index;
    });
  const slow = [0, 1, 2, 3].map((index) => task('slow-portal', index));
  const other = task('other-portal', 4);
  await new Promise((resolve) => setImmediate(resolve));
  expect(inFlight.get('slow-portal')).toBe(2);
  // The other target is not held up by the slow one's queue.
  gates[4].release();
  expect(await other).toBe(4);
  for (const index of [0, 1, 2, 3]) gates[index].release();
  expect(await Promise.all(slow)).toEqual([0, 1, 2, 3]);
  expect(peak.get('slow-portal')).toBe(2);
});

it('frees the slot of a task that fails', async () => {
  const { run } = keyedLimiter(1);
  await expect(run('k', async () => Promise.reject(new Error('portal down')))).rejects.toThrow('portal down');
  expect(await run('k', async () => 'next')).toBe('next');
});

it('tryRun gives up when no slot comes free in time, and that waiter never takes a slot later', async () => {
  const limiter = keyedLimiter(1);
  const held = gate();
  const first = limiter.run('host', () => held.done);
  expect(await limiter.tryRun('host', 20, async () => 'late')).toEqual({ ran: false });
  // Another host is not affected.
  expect(await limiter.tryRun('other', 20, async () => 'other')).toEqual({ ran: true, value: 'other' });
  const waiting = limiter.tryRun('host', 5_000, async () => 'next');
  held.release();
  await first;
  expect(await waiting).toEqual({ ran: true, value: 'next' });
  // The slot was released again: the given-up waiter did not keep it.
  expect(await limiter.tryRun('host', 0, async () => 'free')).toEqual({ ran: true, value: 'free' });
});

import { keyedLimiter } from '../../../src/targets/publisher';

/** A task that stays in flight until released, recording how many of its key ran at once. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { done, release };
}

it('runs at most `limit` tasks per key at once, and lets other keys run meanwhile', async () => {
  const run = keyedLimiter(2);
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
  const run = keyedLimiter(1);
  await expect(run('k', async () => Promise.reject(new Error('portal down')))).rejects.toThrow('portal down');
  expect(await run('k', async () => 'next')).toBe('next');
});

/**
 * A worker-side concurrency limit per key (a target, a host): at most `limit` tasks of one key in
 * flight in this process, the rest wait their turn in arrival order, and other keys are never held
 * up by one key's queue.
 */
export function keyedLimiter(limit: number) {
  const active = new Map<string, number>();
  const waiting = new Map<string, (() => void)[]>();

  function release(key: string): void {
    const next = waiting.get(key)?.shift();
    // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
    if (next) return next();
    const count = (active.get(key) ?? 1) - 1;
    if (count > 0) active.set(key, count);
    else active.delete(key);
    if (waiting.get(key)?.length === 0) waiting.delete(key);
  }

  /** Takes a slot of `key`; false when none came free within `waitMs` (no limit when undefined). */
  function acquire(key: string, waitMs?: number): Promise<boolean> {
    if ((active.get(key) ?? 0) < limit) {
      active.set(key, (active.get(key) ?? 0) + 1);
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const queue = waiting.get(key) ?? [];
      waiting.set(key, queue);
      let timer: NodeJS.Timeout | undefined;
      const grant = () => {
        clearTimeout(timer);
        resolve(true);
      };
      queue.push(grant);
      if (waitMs !== undefined) {
        timer = setTimeout(() => {
          queue.splice(queue.indexOf(grant), 1);
          resolve(false);
        }, waitMs);
      }
    });
  }

  return {
    /** Runs `task` in a slot of `key`, waiting as long as it takes. */
    async run<T>(key: string, task: () => Promise<T>): Promise<T> {
      await acquire(key);
      try {
        return await task();
      } finally {
        release(key);
      }
    },

    /** Runs `task` if a slot of `key` comes free within `waitMs`; `{ ran: false }` otherwise. */
    async tryRun<T>(key: string, waitMs: number, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
      if (!(await acquire(key, waitMs))) return { ran: false };
      try {
        return { ran: true, value: await task() };
      } finally {
        release(key);
      }
    },
  };
}

export type KeyedLimiter = ReturnType<typeof keyedLimiter>;

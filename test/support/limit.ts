/**
 * Bounded concurrency for tests that spawn many independent child processes (the `warden` CLI
 * costs ~0.4 s of CPU a run): a few at a time keeps both cores busy without swamping a machine
 * that runs three test files at once.
 */

/** How many child processes a test file runs at once by default. */
export const SPAWN_LIMIT = 4;

/** A gate letting at most `n` of the functions given to it run at once (first come, first served). */
export function limiter(n = SPAWN_LIMIT): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else running--;
    }
  };
}

/** fn over items, at most `n` at once; the results in the items' order. The first rejection rejects (after every started call has settled). */
export async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const gate = limiter(n);
  const settled = await Promise.allSettled(items.map((item, i) => gate(() => fn(item, i))));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

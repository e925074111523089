/**
 * Count `pg` pool checkouts while a function runs. Why: each catalog query or statement takes
 * one, so tests can assert how many round trips a cold and a warm cache cost.
 */
import pg from 'pg';

/** The number of pool checkouts (any pool) while `fn` runs. */
export async function checkouts(fn: () => Promise<unknown>): Promise<number> {
  let proto = pg.Pool.prototype as unknown as Record<string, unknown>;
  while (!Object.prototype.hasOwnProperty.call(proto, 'connect')) proto = Object.getPrototypeOf(proto) as Record<string, unknown>;
  const original = proto.connect as (...a: unknown[]) => unknown;
  let n = 0;
  proto.connect = function (this: unknown, ...a: unknown[]) {
    n++;
    return original.apply(this, a);
  };
  try {
    await fn();
  } finally {
    proto.connect = original;
  }
  return n;
}

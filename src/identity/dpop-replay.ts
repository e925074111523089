/**
 * The DPoP proof ids (`jti`, RFC 9449 section 11.1) a Warden process has taken, each until its
 * proof would be refused as too old anyway: bounded in time and in size. Full of ids still inside
 * their window, it refuses (fail closed) instead of forgetting one, since a forgotten id is a
 * proof that can be replayed. Only proofs that passed every other check are remembered, so only
 * holders of a valid token and its key can fill it. One process's memory: replicas do not share it.
 */

/** What `take` answers: the id was new (now remembered), seen before, or there is no room for it. */
export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

/** A replay cache of at most `max` ids. */
export interface ReplayCache {
  /** Remember `id` until `untilMs` (epoch ms) if it is new. */
  take(id: string, untilMs: number, nowMs?: number): ReplayVerdict;
  readonly size: number;
}

/** A replay cache holding at most `max` ids. */
export function createReplayCache(max: number): ReplayCache {
  // Insertion order is nearly expiry order (every id lives max_age + skew past its iat, and iat is
  // within the skew of now), so expired ids are swept from the front.
  const seen = new Map<string, number>();
  let fullSweepAt = -Infinity;
  const sweep = (now: number, all: boolean): void => {
    for (const [k, until] of seen) {
      if (until > now) {
        if (!all) return;
        continue;
      }
      seen.delete(k);
    }
  };
  return {
    take(id, untilMs, nowMs = Date.now()) {
      const prior = seen.get(id);
      if (prior !== undefined && prior > nowMs) return 'replayed';
      if (prior !== undefined) seen.delete(id);
      sweep(nowMs, false);
      // Full: a whole pass finds the expired ids the front sweep stopped short of (at most once a
      // second, so that a full cache does not cost a pass over every id per request).
      if (seen.size >= max && nowMs - fullSweepAt >= 1000) {
        fullSweepAt = nowMs;
        sweep(nowMs, true);
      }
      if (seen.size >= max) return 'full';
      seen.set(id, untilMs);
      return 'fresh';
    },
    get size() {
      return seen.size;
    },
  };
}

/**
 * Rate-limit counters shared by the replicas of one PostgreSQL store (schema: pg-rate-sql.ts).
 * Every method is one round trip. Failures become WARDEN_TRANSCRIPT_UNAVAILABLE (the counters
 * live in the transcript store): the caller refuses the call, fail closed. A release that
 * cannot reach the database is retried by the sweep, so a live replica does not keep a slot.
 * Concurrency slots carry this replica's liveness lock: while the liveness connection is down
 * (reconnecting), an admission that would take a slot is refused (fail closed), and once the lock
 * is held again the slots of calls still running are claimed again (reclaim), in case another
 * replica took them for dead meanwhile.
 */
import type pg from 'pg';
import { LIVENESS_GRACE_MS } from './pg-liveness-sql.js';
import { RATE_BUCKET_MS } from './pg-rate-sql.js';
import { ErrorCode, WardenError } from '../errors.js';
import { pgStoreError } from './pg-errors.js';

/** The limits of one scope (the shape of warden.yaml's `rate_limits:` and a rule's `limits:`). */
export interface RateScopeLimits {
  calls_per_minute?: number;
  concurrent?: number;
  rows_per_hour?: number;
  bytes_per_hour?: number;
}

/** A scope's counter key and the limits it is checked under. */
export interface RateScope {
  key: string;
  limits: RateScopeLimits;
}

/** Why a call was refused: the scope (index into the scopes admitted) and the limit it hit. */
export interface RateRefusal {
  i: number;
  limit: 'concurrent' | 'calls_per_minute' | 'rows_per_hour' | 'bytes_per_hour';
  max: number;
  retry_ms?: number;
}

/** The counters' API; why an interface: the pipeline's shared limiter depends on it alone. */
export interface RateCounterStore {
  /** Admit a call (ticket) under every scope at once; null when admitted, else the refusal. */
  admit(ticket: string, scopes: RateScope[], now?: number): Promise<RateRefusal | null>;
  /** Take up to `amount` from the hourly quotas of `keys` (max null: only charged); charged at once. */
  take(kind: 'rows' | 'bytes', keys: string[], max: (number | null)[], amount: number, now?: number): Promise<{ taken: number; at: number }>;
  /** Give back `amount` taken at `at` (a reservation's unused part). */
  giveBack(kind: 'rows' | 'bytes', keys: string[], at: number, amount: number): Promise<void>;
  /** Free a call's concurrency slots (never throws: a failure is retried by the sweep). */
  release(ticket: string): Promise<void>;
  /** Free slots of dead replicas, retry failed releases and prune passed windows; returns slots freed. */
  sweep(now?: number): Promise<number>;
}

type Query = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

const HOUR = 3_600_000;
const MINUTE = 60_000;

function counterError(e: unknown): WardenError {
  const base = pgStoreError('read', e);
  if (base.code !== ErrorCode.TRANSCRIPT) return base;
  return new WardenError(ErrorCode.TRANSCRIPT, `rate limits cannot be checked: ${base.message}`, base.details);
}

/** Options of PgRateCounters. */
export interface PgRateCountersOptions {
  /** Whether this replica holds its liveness lock now (default: always); false refuses slots. */
  live?: () => boolean;
  /** How long another replica's lock must stay free before its slots are freed (LIVENESS_GRACE_MS; recovery uses the same). */
  graceMs?: number;
}

/** The counters over a replica's pool; `ownerLock` is its liveness lock key. */
export class PgRateCounters implements RateCounterStore {
  private readonly unreleased = new Set<string>();
  /** Slots of calls running on this replica (ticket to keys), to claim again after a liveness reconnect. */
  private readonly held = new Map<string, Set<string>>();
  private readonly live: () => boolean;
  private readonly graceMs: number;

  constructor(private readonly q: Query, private readonly ownerLock: number, opts: PgRateCountersOptions = {}) {
    this.live = opts.live ?? (() => true);
    this.graceMs = Math.max(0, Math.floor(opts.graceMs ?? LIVENESS_GRACE_MS));
  }

  async admit(ticket: string, scopes: RateScope[], now?: number): Promise<RateRefusal | null> {
    const col = (f: keyof RateScopeLimits) => scopes.map((s) => s.limits[f] ?? null);
    const slots = scopes.filter((s) => s.limits.concurrent !== undefined).map((s) => s.key);
    if (slots.length && !this.live()) {
      // Its slots would carry a lock this replica does not hold: another replica could free them.
      throw new WardenError(ErrorCode.TRANSCRIPT, 'rate limits cannot be checked: this replica is reconnecting its liveness connection to the transcript store');
    }
    try {
      const r = await this.q(
        'SELECT warden_rate_admit($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6, $7, $8, $9) AS refusal',
        [scopes.map((s) => s.key), col('calls_per_minute'), col('concurrent'), col('rows_per_hour'), col('bytes_per_hour'), ticket, this.ownerLock, now ?? null, this.graceMs],
      );
      const refusal = (r.rows[0] as { refusal: RateRefusal | null }).refusal;
      if (!refusal && slots.length) {
        const mine = this.held.get(ticket) ?? new Set<string>();
        for (const k of slots) mine.add(k);
        this.held.set(ticket, mine);
      }
      return refusal ? { ...refusal, max: Number(refusal.max), ...(refusal.retry_ms !== undefined ? { retry_ms: Number(refusal.retry_ms) } : {}) } : null;
    } catch (e) {
      // The admission may have committed before the connection failed: its slots must not stay.
      if (slots.length) this.unreleased.add(ticket);
      throw counterError(e);
    }
  }

  /**
   * Claim again the slots of calls still running, over the liveness connection that has just taken
   * the lock again (PgLiveness.hold has cleared its "seen free" mark): another replica may have
   * freed them while the lock was free for longer than the grace. Then the key counts them again (possibly above its
   * limit, for as long as they run): later admissions wait for them.
   */
  async reclaim(q: Query): Promise<void> {
    const tickets: string[] = [];
    const keys: string[] = [];
    for (const [t, ks] of this.held) {
      if (this.unreleased.has(t)) continue;
      for (const k of ks) {
        tickets.push(t);
        keys.push(k);
      }
    }
    if (!tickets.length) return;
    await q(
      `INSERT INTO rate_inflight (ticket, key, owner_lock, started_at)
       SELECT t, k, $3, warden_rate_now() FROM unnest($1::text[], $2::text[]) AS x(t, k)
       ON CONFLICT (ticket, key) DO NOTHING`,
      [tickets, keys, this.ownerLock],
    );
  }

  async take(kind: 'rows' | 'bytes', keys: string[], max: (number | null)[], amount: number, now?: number): Promise<{ taken: number; at: number }> {
    try {
      const r = await this.q('SELECT warden_rate_take($1::text[], $2::bigint[], $3, $4, $5) AS t', [keys, max, kind, Math.max(0, Math.floor(amount)), now ?? null]);
      const [taken, at] = (r.rows[0] as { t: (string | number)[] }).t.map(Number) as [number, number];
      return { taken, at };
    } catch (e) {
      throw counterError(e);
    }
  }

  async giveBack(kind: 'rows' | 'bytes', keys: string[], at: number, amount: number): Promise<void> {
    if (amount <= 0 || !keys.length) return;
    try {
      // Into the reservation's bucket, so both leave the window together.
      await this.q(
        `INSERT INTO rate_buckets (key, kind, bucket, amount) SELECT DISTINCT u, $2, $3::bigint / ${RATE_BUCKET_MS}, $4::bigint FROM unnest($1::text[]) AS u
         ON CONFLICT (key, kind, bucket) DO UPDATE SET amount = rate_buckets.amount + excluded.amount`,
        [keys, kind, at, -Math.floor(amount)],
      );
    } catch (e) {
      throw counterError(e);
    }
  }

  async release(ticket: string): Promise<void> {
    this.held.delete(ticket); // the call ended: never claimed again
    try {
      await this.q('DELETE FROM rate_inflight WHERE ticket = $1', [ticket]);
      this.unreleased.delete(ticket);
    } catch {
      this.unreleased.add(ticket);
    }
  }

  async sweep(now?: number): Promise<number> {
    try {
      for (const t of [...this.unreleased]) await this.release(t);
      await this.q('DELETE FROM rate_usage WHERE at <= COALESCE($1, warden_rate_now()) - $2', [now ?? null, MINUTE]);
      await this.q(`DELETE FROM rate_buckets WHERE bucket < (COALESCE($1, warden_rate_now()) - $2) / ${RATE_BUCKET_MS}`, [now ?? null, HOUR]);
      const r = await this.q('SELECT warden_rate_release_dead(NULL, $1) AS n', [this.graceMs]);
      return Number((r.rows[0] as { n: number }).n);
    } catch (e) {
      throw counterError(e);
    }
  }
}

/**
 * Rate-limit counters shared by the replicas of one PostgreSQL store (schema: pg-rate-sql.ts).
 * Every method is one round trip. Failures become WARDEN_TRANSCRIPT_UNAVAILABLE (the counters
 * live in the transcript store): the caller refuses the call, fail closed. A release that
 * cannot reach the database is retried by the sweep, so a live replica does not keep a slot.
 */
import type pg from 'pg';
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

function counterError(e: unknown): WardenError {
  const base = pgStoreError('read', e);
  if (base.code !== ErrorCode.TRANSCRIPT) return base;
  return new WardenError(ErrorCode.TRANSCRIPT, `rate limits cannot be checked: ${base.message}`, base.details);
}

/** The counters over a replica's pool; `ownerLock` is its liveness lock key. */
export class PgRateCounters implements RateCounterStore {
  private readonly unreleased = new Set<string>();

  constructor(private readonly q: Query, private readonly ownerLock: number) {}

  async admit(ticket: string, scopes: RateScope[], now?: number): Promise<RateRefusal | null> {
    const col = (f: keyof RateScopeLimits) => scopes.map((s) => s.limits[f] ?? null);
    try {
      const r = await this.q(
        'SELECT warden_rate_admit($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6, $7, $8) AS refusal',
        [scopes.map((s) => s.key), col('calls_per_minute'), col('concurrent'), col('rows_per_hour'), col('bytes_per_hour'), ticket, this.ownerLock, now ?? null],
      );
      const refusal = (r.rows[0] as { refusal: RateRefusal | null }).refusal;
      return refusal ? { ...refusal, max: Number(refusal.max), ...(refusal.retry_ms !== undefined ? { retry_ms: Number(refusal.retry_ms) } : {}) } : null;
    } catch (e) {
      // The admission may have committed before the connection failed: its slots must not stay.
      if (scopes.some((s) => s.limits.concurrent !== undefined)) this.unreleased.add(ticket);
      throw counterError(e);
    }
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
      // Dated like the reservation, so both leave the window together.
      await this.q(`INSERT INTO rate_usage (key, kind, at, amount) SELECT u, $2, $3, $4 FROM unnest($1::text[]) AS u`, [keys, kind, at, -Math.floor(amount)]);
    } catch (e) {
      throw counterError(e);
    }
  }

  async release(ticket: string): Promise<void> {
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
      await this.q('DELETE FROM rate_usage WHERE at <= COALESCE($1, warden_rate_now()) - $2', [now ?? null, HOUR]);
      const r = await this.q('SELECT warden_rate_release_dead(NULL) AS n');
      return Number((r.rows[0] as { n: number }).n);
    } catch (e) {
      throw counterError(e);
    }
  }
}

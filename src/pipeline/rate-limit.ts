/**
 * Rate limits and quotas, per principal (warden.yaml `rate_limits:`) and per principal and rule
 * (a rule's `limits:`): calls per minute (sliding window), concurrent calls, rows and bytes per
 * hour (sliding window, checked before a call and charged as its result is produced). A table's
 * rows are cut to what the rows quotas have left as they are charged, and a result to what the
 * bytes quotas have left as it is rendered (bytes-quota.ts), so neither one large result nor
 * concurrent calls that all passed the check can take more than the hour allows. This module's
 * counters are per process (stdio sessions and replicas on SQLite each count their own); on a
 * PostgreSQL store the replicas share counters in the database (rate-limit-shared.ts), behind the
 * same RateLimiter interface. A refusal is a coded WARDEN_RATE_LIMITED error, so the pipeline
 * records it like any other failure.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { principalKey, type Principal, type ToolOutput } from '../tool-api.js';
import type { CallLimits } from '../policy/schema.js';
import type { CompiledRule } from '../policy/types.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A value now (the per-process limiter) or after a round trip (the shared one). */
export type Maybe<T> = T | Promise<T>;

/**
 * One admitted call: charge its usage, then release its concurrency slots (exactly once). The
 * per-process limiter answers at once; the one shared by replicas (rate-limit-shared.ts) after a
 * round trip to PostgreSQL, and only when a limit applies.
 */
export interface RateTicket {
  /** Admit the call under the limits of the rules that allowed it; throws RATE_LIMITED. */
  admitRules(rules: Pick<CompiledRule, 'id' | 'limits'>[]): Maybe<void>;
  /**
   * Take up to `rows` rows from the hourly rows quotas, charged at once (before any other call can
   * take them); returns how many fit, which the caller cuts its result to.
   */
  takeRows(rows: number): Maybe<number>;
  /**
   * Take up to `bytes` bytes from the hourly bytes quotas, charged at once (a reservation: a
   * result's size is known only once rendered; the caller cuts it to what was taken and gives the
   * unused part back), so no other call can take the same bytes in between (bytes-quota.ts).
   */
  takeBytes(bytes: number): Maybe<number>;
  /** Give back bytes taken by the last takeBytes and not sent. */
  returnBytes(bytes: number): Maybe<void>;
  /** Bytes the hourly bytes quotas have left (Infinity without one). */
  bytesLeft(): Maybe<number>;
  /** Count rows and bytes the call returned against the hourly quotas. */
  charge(rows: number, bytes: number): Maybe<void>;
  /** Free the call's concurrency slots; never throws. */
  release(): Maybe<void>;
}

/** The limiter the pipeline consults in its authenticate and decide stages. */
export interface RateLimiter {
  /** Admit a call for a principal under the per-principal limits; throws RATE_LIMITED. */
  admit(principal: Principal): Maybe<RateTicket>;
  /** Number of live counters (tests, and a bound on memory). */
  size(): number;
}

/** The per-process ticket: every answer at once. */
export interface LocalRateTicket extends RateTicket {
  admitRules(rules: Pick<CompiledRule, 'id' | 'limits'>[]): void;
  takeRows(rows: number): number;
  takeBytes(bytes: number): number;
  returnBytes(bytes: number): void;
  bytesLeft(): number;
  charge(rows: number, bytes: number): void;
  release(): void;
}

/** The per-process limiter (SQLite store, or no shared store). */
export interface LocalRateLimiter extends RateLimiter {
  admit(principal: Principal): LocalRateTicket;
}

interface Counter {
  calls: number[];
  concurrent: number;
  usage: { at: number; rows: number; bytes: number }[];
  touched: number;
}

/** Build a limiter; `now` is injectable so tests can move time. */
export function createRateLimiter(defaults: () => CallLimits, now: () => number = Date.now): LocalRateLimiter {
  const counters = new Map<string, Counter>();
  let sweeps = 0;

  const counter = (key: string): Counter => {
    let c = counters.get(key);
    if (!c) counters.set(key, (c = { calls: [], concurrent: 0, usage: [], touched: now() }));
    return c;
  };

  const sweep = () => {
    if (++sweeps % 1024 !== 0) return;
    const cutoff = now() - HOUR;
    for (const [k, c] of counters) if (c.concurrent === 0 && c.touched < cutoff) counters.delete(k);
  };

  /** Check one scope's limits and take a slot; returns the counter to charge and release. */
  function take(key: string, limits: CallLimits, scope: string): Counter {
    const c = counter(key);
    const t = now();
    c.touched = t;
    while (c.calls.length && c.calls[0]! <= t - MINUTE) c.calls.shift();
    while (c.usage.length && c.usage[0]!.at <= t - HOUR) c.usage.shift();
    if (limits.concurrent !== undefined && c.concurrent >= limits.concurrent) {
      throw limited(`${scope}: ${limits.concurrent} concurrent call(s) already running`, { limit: 'concurrent', max: limits.concurrent });
    }
    if (limits.calls_per_minute !== undefined && c.calls.length >= limits.calls_per_minute) {
      const retry = Math.max(1, Math.ceil((c.calls[0]! + MINUTE - t) / 1000));
      throw limited(`${scope}: ${limits.calls_per_minute} calls per minute reached; retry in ${retry}s`, { limit: 'calls_per_minute', max: limits.calls_per_minute, retry_after_s: retry });
    }
    if (limits.rows_per_hour !== undefined) {
      const rows = c.usage.reduce((n, u) => n + u.rows, 0);
      if (rows >= limits.rows_per_hour) throw limited(`${scope}: ${limits.rows_per_hour} rows per hour used`, { limit: 'rows_per_hour', max: limits.rows_per_hour });
    }
    if (limits.bytes_per_hour !== undefined) {
      const bytes = c.usage.reduce((n, u) => n + u.bytes, 0);
      if (bytes >= limits.bytes_per_hour) throw limited(`${scope}: ${limits.bytes_per_hour} bytes per hour used`, { limit: 'bytes_per_hour', max: limits.bytes_per_hour });
    }
    c.calls.push(t);
    c.concurrent++;
    return c;
  }

  return {
    size: () => counters.size,
    admit(principal) {
      sweep();
      const who = principalKey(principal);
      const base = defaults();
      const taken: Counter[] = [take(`p\0${who}`, base, `rate limit for ${principal.subject}`)];
      const limitsOf = new Map<Counter, CallLimits>([[taken[0]!, base]]);
      let released = false;
      let reserved: { at: number; rows: number; bytes: number } | null = null;
      const charge = (rows: number, bytes: number) => {
        if (rows <= 0 && bytes <= 0) return;
        const at = now();
        // A late charge keeps its counter from the idle sweep for the hour it counts.
        for (const c of taken) {
          c.usage.push({ at, rows, bytes });
          c.touched = at;
        }
      };
      /** What every quota on `what` has left within the hour (Infinity without one). */
      const left = (what: 'rows' | 'bytes'): number => {
        const t = now();
        let fit = Infinity;
        for (const c of taken) {
          const max = limitsOf.get(c)?.[what === 'rows' ? 'rows_per_hour' : 'bytes_per_hour'];
          if (max === undefined) continue;
          const used = c.usage.reduce((n, u) => (u.at > t - HOUR ? n + u[what] : n), 0);
          fit = Math.min(fit, Math.max(0, max - used));
        }
        return fit;
      };
      return {
        admitRules(rules) {
          for (const r of rules) {
            if (!r.limits) continue;
            const c = take(`r\0${r.id}\0${who}`, r.limits, `rule ${r.id} limit for ${principal.subject}`);
            taken.push(c);
            limitsOf.set(c, r.limits);
          }
        },
        takeRows(rows) {
          const fit = Math.min(rows, left('rows'));
          charge(fit, 0);
          return fit;
        },
        takeBytes(bytes) {
          const fit = Math.min(bytes, left('bytes'));
          reserved = null;
          if (fit <= 0) return 0;
          const at = now();
          reserved = { at, rows: 0, bytes: fit };
          for (const c of taken) {
            c.usage.push(reserved);
            c.touched = at;
          }
          return fit;
        },
        returnBytes(bytes) {
          // The same entry in every counter: what was reserved and not sent leaves the hour.
          if (reserved) reserved.bytes -= Math.min(bytes, reserved.bytes);
        },
        bytesLeft: () => left('bytes'),
        charge,
        release() {
          if (released) return;
          released = true;
          for (const c of taken) c.concurrent--;
        },
      };
    },
  };
}

/**
 * Cut a table to the rows its call's rows quotas have left (takeRows charges them at once). Why
 * here, after execute: every call passed the check before it ran, so only the charge can stop
 * one large result, or several concurrent ones, from taking more than the hour allows.
 */
export function withinRowsQuota(output: ToolOutput, ticket: LocalRateTicket): ToolOutput;
export function withinRowsQuota(output: ToolOutput, ticket: RateTicket): Maybe<ToolOutput>;
export function withinRowsQuota(output: ToolOutput, ticket: RateTicket): Maybe<ToolOutput> {
  if (output.kind !== 'table') return output;
  const fit = ticket.takeRows(output.rows.length);
  return fit instanceof Promise ? fit.then((n) => cutRows(output, n)) : cutRows(output, fit);
}

function cutRows(output: Extract<ToolOutput, { kind: 'table' }>, fit: number): ToolOutput {
  if (fit >= output.rows.length) return output;
  const note = `cut to ${fit} of ${output.rows.length} rows: the rows-per-hour quota is used up`;
  return { ...output, rows: output.rows.slice(0, fit), rowCount: fit, truncated: true, notes: [...(output.notes ?? []), note] };
}

/** A coded refusal; why exported: the shared limiter words its refusals alike. */
export function limited(message: string, details: Record<string, unknown>): WardenError {
  return new WardenError(ErrorCode.RATE_LIMITED, message, details);
}

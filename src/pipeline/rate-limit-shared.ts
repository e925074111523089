/**
 * Rate limits and quotas counted in the PostgreSQL store that replicas share (the counters:
 * recorder/pg-rate-counters.ts), so that a principal's limits hold across the fleet and across
 * stdio processes on one store. Same semantics as the per-process limiter (rate-limit.ts): checked
 * before the call (principal limits in authenticate, a rule's in decide), rows taken as they are
 * produced, bytes reserved at render and the unused part given back, concurrency released once.
 * Why async only where a limit applies: a call without limits pays no round trip. A counter store
 * that cannot answer refuses the call (WARDEN_TRANSCRIPT_UNAVAILABLE): fail closed.
 */
import { randomUUID } from 'node:crypto';
import { principalKey, type Principal } from '../tool-api.js';
import type { CallLimits } from '../policy/schema.js';
import type { RateCounterStore, RateRefusal } from '../recorder/index.js';
import { limited, type Maybe, type RateLimiter, type RateTicket } from './rate-limit.js';

interface Scope {
  key: string;
  limits: CallLimits;
  /** How a refusal names it ("rate limit for alice", "rule r1 limit for alice"). */
  label: string;
}

const any = (l: CallLimits | undefined): l is CallLimits =>
  !!l && (l.calls_per_minute !== undefined || l.concurrent !== undefined || l.rows_per_hour !== undefined || l.bytes_per_hour !== undefined);

/** The refusal, worded as the per-process limiter words it. */
function refusalError(s: Scope, r: RateRefusal): Error {
  const max = r.max;
  switch (r.limit) {
    case 'concurrent':
      return limited(`${s.label}: ${max} concurrent call(s) already running`, { limit: 'concurrent', max });
    case 'calls_per_minute': {
      const retry = Math.max(1, Math.ceil((r.retry_ms ?? 1000) / 1000));
      return limited(`${s.label}: ${max} calls per minute reached; retry in ${retry}s`, { limit: 'calls_per_minute', max, retry_after_s: retry });
    }
    case 'rows_per_hour':
      return limited(`${s.label}: ${max} rows per hour used`, { limit: 'rows_per_hour', max });
    default:
      return limited(`${s.label}: ${max} bytes per hour used`, { limit: 'bytes_per_hour', max });
  }
}

/**
 * Build the shared limiter over a store's counters; `now` (ms) is injectable for tests, else the
 * database's clock decides the windows (replicas whose clocks differ still agree).
 */
export function createSharedRateLimiter(defaults: () => CallLimits, counters: RateCounterStore, now?: () => number): RateLimiter {
  const at = () => now?.();

  function ticket(who: string, subject: string, id: string, scopes: Scope[]): RateTicket {
    let released = false;
    let reservedAt: number | null = null;
    const quota = (what: 'rows_per_hour' | 'bytes_per_hour') => {
      const with_ = scopes.filter((s) => s.limits[what] !== undefined);
      return { keys: with_.map((s) => s.key), max: with_.map((s) => s.limits[what]!) };
    };
    const take = (kind: 'rows' | 'bytes', amount: number): Maybe<number> => {
      const q = quota(kind === 'rows' ? 'rows_per_hour' : 'bytes_per_hour');
      if (!q.keys.length) return amount;
      return counters.take(kind, q.keys, q.max, amount, at()).then((r) => {
        if (kind === 'bytes') reservedAt = r.at;
        return r.taken;
      });
    };
    return {
      admitRules(rules) {
        const added = rules.filter((r) => any(r.limits)).map((r) => ({ key: JSON.stringify(['r', r.id, who]), limits: r.limits!, label: `rule ${r.id} limit for ${subject}` }));
        if (!added.length) return;
        return counters.admit(id, added, at()).then((refusal) => {
          if (refusal) throw refusalError(added[refusal.i]!, refusal);
          scopes.push(...added);
        });
      },
      takeRows: (rows) => take('rows', rows),
      takeBytes: (bytes) => take('bytes', bytes),
      returnBytes(bytes) {
        const q = quota('bytes_per_hour');
        if (!q.keys.length || reservedAt === null || bytes <= 0) return;
        return counters.giveBack('bytes', q.keys, reservedAt, bytes);
      },
      bytesLeft() {
        const q = quota('bytes_per_hour');
        if (!q.keys.length) return Infinity;
        // What a take of everything would get, given straight back: the quotas' least remainder.
        return counters.take('bytes', q.keys, q.max, Number.MAX_SAFE_INTEGER, at()).then(async (r) => {
          await counters.giveBack('bytes', q.keys, r.at, r.taken);
          return r.taken;
        });
      },
      charge(rows, bytes) {
        const jobs: Promise<unknown>[] = [];
        for (const [kind, n] of [['rows', rows], ['bytes', bytes]] as const) {
          const q = quota(kind === 'rows' ? 'rows_per_hour' : 'bytes_per_hour');
          if (n > 0 && q.keys.length) jobs.push(counters.take(kind, q.keys, q.keys.map(() => null), n, at()));
        }
        if (jobs.length) return Promise.all(jobs).then(() => undefined);
      },
      release() {
        if (released) return;
        released = true;
        if (scopes.some((s) => s.limits.concurrent !== undefined)) return counters.release(id);
      },
    };
  }

  return {
    size: () => 0, // the counters live in the database
    admit(principal: Principal) {
      const who = principalKey(principal);
      const id = randomUUID();
      const base = defaults();
      if (!any(base)) return ticket(who, principal.subject, id, []);
      const scope: Scope = { key: JSON.stringify(['p', who]), limits: base, label: `rate limit for ${principal.subject}` };
      return counters.admit(id, [scope], at()).then((refusal) => {
        if (refusal) throw refusalError(scope, refusal);
        return ticket(who, principal.subject, id, [scope]);
      });
    },
  };
}

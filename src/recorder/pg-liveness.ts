/**
 * Replica liveness for the PostgreSQL store: each replica holds a session-level advisory lock on
 * its own connection while it lives (and LISTENs there for approval changes); a replica whose
 * lock has been free for the grace is dead (warden_owner_dead, pg-liveness-sql.ts: the rule the
 * rate-limit counters use too), and recovery closes what it left open. Why its own module: the
 * store's reads and writes do not need to know how liveness is kept. When the connection drops,
 * it reconnects (after a second) and takes the same lock again, clearing the "seen free" mark
 * another replica may have left; until then `held` is false, and `onHeld` runs on the new
 * connection once the lock is back, before `held` turns true.
 */
import '../pg-stream-probe.js'; // before pg: spares its probe loading Node's fetch
import pg from 'pg';
import { APPROVALS_CHANNEL } from './pg-approvals.js';
import { LIVENESS_GRACE_MS, LIVENESS_MARK_KEEP_MS } from './pg-liveness-sql.js';
import { LOCK_CLASS } from './pg-schema.js';

/** This replica's liveness connection, the approval wake-ups it carries, and the dead-owner test. */
export class PgLiveness {
  private live: pg.Client | null = null;
  private closed = false;
  private waiters = new Set<() => void>();
  private timers: NodeJS.Timeout[] = [];
  /** Run on the connection that has just taken the lock, before it counts as held (a failure drops it). */
  onHeld: ((c: pg.Client) => Promise<void>) | null = null;
  /** How long another replica's lock must stay free before it counts as dead (ms, whole). */
  readonly graceMs: number;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    /** This replica's instance id and lock key, as written in its sessions' owner tag. */
    readonly instance: string,
    readonly lockKey: number,
    graceMs: number = LIVENESS_GRACE_MS,
  ) {
    this.graceMs = Math.max(0, Math.floor(graceMs));
  }

  /** Hold the lock and LISTEN for approval changes; reconnects while open. */
  async hold(): Promise<void> {
    if (this.closed) return;
    const c = new pg.Client(this.clientConfig);
    c.on('error', () => undefined);
    c.on('notification', () => this.wake());
    c.on('end', () => {
      if (this.live === c) this.live = null;
      if (!this.closed) this.timers.push(setTimeout(() => void this.hold().catch(() => undefined), 1000).unref());
    });
    try {
      await c.connect();
      await c.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, this.lockKey]);
      // Alive again: the time another replica saw the lock free no longer counts toward the grace.
      await c.query('DELETE FROM liveness_marks WHERE owner_lock = $1', [this.lockKey]);
      await c.query(`LISTEN ${APPROVALS_CHANNEL}`);
      await this.onHeld?.(c);
      if (this.closed) throw new Error('liveness closed');
      this.live = c;
      this.wake(); // a reconnect may have missed notifications
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
  }

  /** Whether this replica holds its liveness lock now (false while it reconnects). */
  get held(): boolean {
    return this.live !== null && !this.closed;
  }

  /** Wake everyone waiting for an approval change. */
  wake(): void {
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
  }

  /** Resolve at the next approval change, after `ms`, or on abort, whichever comes first. */
  changed(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  /** Run `fn` once after `ms`, unless closed first. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Run `fn` every `everyMs` until close. */
  every(everyMs: number, fn: () => void): void {
    const t = setInterval(fn, everyMs);
    t.unref();
    this.timers.push(t);
  }

  /**
   * Whether the replica that wrote `owner` counts as alive: it is this one (while open), or it
   * holds its advisory lock, or its lock has been free for less than the grace (it may be
   * reconnecting). The same test (warden_owner_dead) frees a dead replica's rate-limit slots.
   */
  async ownerLive(c: pg.PoolClient, owner: string | null, cache: Map<string, boolean>): Promise<boolean> {
    if (owner === null) return false;
    const hit = cache.get(owner);
    if (hit !== undefined) return hit;
    let o: { instance?: unknown; lock?: unknown };
    try {
      o = JSON.parse(owner) as typeof o;
    } catch {
      return false;
    }
    let alive: boolean;
    if (o.instance === this.instance) alive = !this.closed;
    else if (!Number.isInteger(o.lock)) alive = false;
    else {
      const r = (await c.query('SELECT warden_owner_dead($1, $2) AS dead', [o.lock, this.graceMs])).rows[0] as { dead: boolean };
      alive = !r.dead;
    }
    cache.set(owner, alive);
    return alive;
  }

  /**
   * Drop "seen free" marks of locks free for an hour past the grace (replicas that never came
   * back); returns whether a lock was seen free less than the grace ago (worth a look once the
   * grace has passed).
   */
  async tidyMarks(c: pg.PoolClient): Promise<boolean> {
    const now = '(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT';
    await c.query(`DELETE FROM liveness_marks WHERE free_since < ${now} - $1::bigint`, [this.graceMs + LIVENESS_MARK_KEEP_MS]);
    const r = await c.query(`SELECT EXISTS (SELECT 1 FROM liveness_marks WHERE free_since > ${now} - $1::bigint) AS soon`, [this.graceMs]);
    return (r.rows[0] as { soon: boolean }).soon;
  }

  /** Let go of the lock and stop timers and waiters. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.wake();
    const live = this.live;
    this.live = null;
    await live?.end().catch(() => undefined);
  }
}

/**
 * Recovery of what dead replicas left (PgStore.markInterrupted, startSweeps): which calls without
 * an outcome and which open sessions belong to a dead replica, and when to look. Dead: not this
 * replica, and its liveness lock free for the grace (PgLiveness.ownerLive, warden_owner_dead in
 * pg-liveness-sql.ts), so a replica reconnecting its liveness connection keeps its running calls
 * and open sessions.
 */
import type pg from 'pg';
import type { PgLiveness } from './pg-liveness.js';
import type { CallOutcome } from './types.js';

/** What a recovery pass found. */
export interface DeadWork {
  deadCalls: { id: string; started_at: string }[];
  deadSessions: string[];
  /** A lock was seen free less than the grace ago (so: look again once the grace has passed). */
  freeWithinGrace: boolean;
}

/** The outcome recovery records for a dead replica's call started at `startedAt`; why: the call never finished. */
export function interruptedOutcome(startedAt: string, now: string): CallOutcome {
  const started = Date.parse(startedAt);
  return { status: 'interrupted', errorCode: null, result: null, masking: null, durationMs: Number.isFinite(started) ? Math.max(0, Date.parse(now) - started) : 0, endedAt: now };
}

/** The calls and sessions of dead replicas (at most 10,000 of each per pass), on connection `c`. */
export async function findDeadWork(c: pg.PoolClient, liveness: PgLiveness): Promise<DeadWork> {
  const cache = new Map<string, boolean>();
  const deadCalls: DeadWork['deadCalls'] = [];
  const deadSessions: string[] = [];
  const calls = (await c.query(`SELECT c.id, c.started_at, s.owner FROM calls c JOIN sessions s ON s.id = c.session_id WHERE c.outcome_seq IS NULL ORDER BY c.seq LIMIT 10000`)).rows as { id: string; started_at: string; owner: string | null }[];
  for (const r of calls) if (!(await liveness.ownerLive(c, r.owner, cache))) deadCalls.push(r);
  const sessions = (await c.query('SELECT id, owner FROM sessions WHERE close_seq IS NULL ORDER BY open_seq LIMIT 10000')).rows as { id: string; owner: string | null }[];
  for (const s of sessions) if (!(await liveness.ownerLive(c, s.owner, cache))) deadSessions.push(s.id);
  return { deadCalls, deadSessions, freeWithinGrace: await liveness.tidyMarks(c) };
}

/**
 * Run `sweep` every `everyMs`, and once more as soon as the grace has passed when a pass saw a
 * lock free that was not yet dead (`freeWithinGrace`): a replica killed is recovered 5 to 20 s
 * after, not 15 to 30 s; one killed just before this replica started, 5 s after the start.
 */
export function scheduleSweeps(liveness: PgLiveness, everyMs: number, freeWithinGrace: () => boolean, sweep: () => Promise<void>): void {
  let recheckSet = false;
  const recheck = () => {
    if (!freeWithinGrace() || recheckSet || liveness.graceMs + 100 >= everyMs) return;
    recheckSet = true;
    liveness.after(liveness.graceMs + 100, () => {
      recheckSet = false;
      void run();
    });
  };
  const run = () => sweep().then(recheck);
  recheck(); // after the startup pass (openPgStore)
  liveness.every(everyMs, () => void run());
}

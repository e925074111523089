/**
 * The database's clock, for the approval writes that decide expiry. Why: replicas and reviewer
 * CLIs sharing one PostgreSQL store each have their own clock; a slow one would use (or approve)
 * a request after it expired. The server's clock is the one they share, so the PostgreSQL store
 * decides "expired or not" by it; the callers' times stay on the records they write.
 */

/**
 * The server's current time as the stored ISO text (`expires_at` is TEXT in exactly Node's
 * `toISOString` form, `2026-11-28T10:00:00.000Z`, so text order is time order). Why
 * clock_timestamp(), not now(): now() is the transaction's start, and a write may have waited
 * for the chain-head lock or a row lock since.
 */
export const DB_NOW_ISO = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

type Q = (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }>;

/** Read the database's time (call it after taking the row locks, so it is the moment of the decision). */
export async function dbNow(q: Q): Promise<string> {
  const row = (await q(`SELECT ${DB_NOW_ISO} AS now`)).rows[0] as { now: string } | undefined;
  if (!row || typeof row.now !== 'string') throw new Error('the database did not report its time');
  return row.now;
}

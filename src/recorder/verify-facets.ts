/**
 * Verify of the session filter index: call_facets must hold exactly one row per distinct
 * (session, tool, connection, decision) of the verified intents. A missing row hides a session
 * from a reviewer's filter ("every session that used ssh_run"); a forged one shows a session
 * under a filter its calls do not match. The walk collects each session's facets
 * (verify-fast.ts); this compares them with the table in one scan of it, in key order (by session).
 */
import type Database from 'better-sqlite3';

/** Where call_facets disagrees with the intents the walk verified, or null. */
export function facetMismatch(db: Database.Database, facets: ReadonlyMap<string, readonly string[]>): { seq: number; reason: string } | null {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'call_facets'`).get();
  if (!table) return null; // a file from before schema v6 is migrated on its first writable open
  const rows = db.prepare(`SELECT session_id, tool || char(0) || connection || char(0) || decision FROM call_facets ORDER BY session_id`).raw().iterate() as IterableIterator<[string, string]>;
  let n = 0;
  let session: string | null = null;
  let combos: readonly string[] | undefined;
  for (const [s, combo] of rows) {
    if (s !== session) {
      session = s;
      combos = facets.get(s);
    }
    n++;
    if (!combos?.includes(combo)) {
      rows.return?.();
      const open = db.prepare('SELECT open_seq FROM sessions WHERE id = ?').pluck().get(s) as number | undefined;
      return { seq: open ?? 0, reason: `call_facets lists ${describe(s, combo)}, which no recorded call has: the session shows under a filter it does not match` };
    }
  }
  // The table's primary key is the whole facet, so it holds no duplicates: every row found and as
  // many rows as facets means the two sets are equal.
  let expected = 0;
  for (const c of facets.values()) expected += c.length;
  if (n === expected) return null;
  const has = db.prepare('SELECT 1 FROM call_facets WHERE session_id = ? AND tool = ? AND connection = ? AND decision = ?');
  const firstCall = db.prepare(`SELECT MIN(seq) FROM calls WHERE session_id = ? AND tool = ? AND COALESCE(connection, '') = ? AND decision = ?`).pluck();
  for (const [s, list] of facets) {
    for (const combo of list) {
      const [tool, connection, decision] = combo.split('\u0000');
      if (has.get(s, tool, connection, decision)) continue;
      const seq = firstCall.get(s, tool, connection, decision) as number | null;
      return { seq: seq ?? 0, reason: `call_facets lacks ${describe(s, combo)} of the call recorded here: the session is hidden from that filter` };
    }
  }
  return null;
}

function describe(session: string, combo: string): string {
  const [tool, connection, decision] = combo.split('\u0000');
  return `session ${session} / tool ${tool} / connection ${connection === '' ? '(none)' : connection} / decision ${decision}`;
}

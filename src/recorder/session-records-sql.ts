/**
 * The SQL of a session's chain records (UI session page and its live refresh, `transcripts replay`),
 * both stores. Why: the records were read as every record from the session's open to its close
 * (or to the chain's end while it is open), filtered: a session kept open for days cost a scan of
 * every other session's records written since. They are now looked up by the session's own seqs
 * (its open and close, its calls' intent and outcome seqs) and by the approval events naming its
 * calls (an index on the call id the event's body names; the requests its calls made through
 * `approvals.session_id`), each part ordered and cut at the page size, so a page reads a number of
 * rows bounded by the page and by the session's own requests, whatever the store holds.
 * Which approval events belong to a session is unchanged: those naming the session or one of its calls.
 */

/** The partial index of approval events by the call their body names (SQLite v12, PostgreSQL v11). */
export const PG_APPROVAL_CALL_INDEX = 'records_approval_call';

/** The call an approval event names (PostgreSQL); the index's expression, so written once. */
export const PG_EVENT_CALL = `coalesce(body::jsonb ->> 'callId', body::jsonb ->> 'call_id')`;

/** The same in SQLite; a body that is not JSON names no call (it must never fail an append). */
export const SQLITE_EVENT_CALL = `CASE WHEN json_valid(body) THEN coalesce(json_extract(body, '$.callId'), json_extract(body, '$.call_id')) END`;

/**
 * PostgreSQL: $1 session id, $2 after seq, $3 open seq, $4 close seq (or -1), $5 page size, $6 the
 * last seq of the session (its close or its calls' last outcome, if later; unbounded while open).
 */
export const PG_SESSION_RECORDS = `
  WITH page_calls AS (SELECT id FROM calls WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $5),
  cand AS (
    SELECT seq FROM (SELECT seq FROM calls WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $5) i
    UNION ALL SELECT outcome_seq FROM (SELECT outcome_seq FROM calls WHERE session_id = $1 AND outcome_seq > $2 ORDER BY outcome_seq LIMIT $5) o
    UNION ALL SELECT e.seq FROM page_calls c CROSS JOIN LATERAL (SELECT seq FROM records
      WHERE kind = 'approval_event' AND ${PG_EVENT_CALL} = c.id AND seq > $2 ORDER BY seq LIMIT $5) e
    UNION ALL SELECT e.seq FROM approvals a CROSS JOIN LATERAL (SELECT seq FROM records
      WHERE kind = 'approval_event' AND ${PG_EVENT_CALL} = a.call_id AND seq > $2 ORDER BY seq LIMIT $5) e WHERE a.session_id = $1
    UNION ALL SELECT $3::bigint UNION ALL SELECT $4::bigint
  )
  SELECT r.* FROM records r WHERE r.seq IN (SELECT seq FROM cand) AND r.seq > $2 AND r.seq >= $3 AND r.seq <= $6
    AND (r.kind <> 'approval_event'
      OR coalesce(r.body::jsonb ->> 'sessionId', r.body::jsonb ->> 'session_id') = $1
      OR EXISTS (SELECT 1 FROM calls x WHERE x.id = coalesce(r.body::jsonb ->> 'callId', r.body::jsonb ->> 'call_id') AND x.session_id = $1))
  ORDER BY r.seq LIMIT $5`;

/**
 * SQLite: the calls whose approval events are looked up (the page's calls, those its requests
 * were made for); each is one seek (SQLITE_CALL_EVENTS): SQLite uses an expression index for a
 * constant or parameter only, never for a join or IN (subquery).
 */
export const SQLITE_EVENT_CALLS = `SELECT id FROM (SELECT id FROM calls WHERE session_id = @id AND seq > @after ORDER BY seq LIMIT @limit)
  UNION SELECT call_id FROM approvals WHERE session_id = @id AND call_id IS NOT NULL`;

/** SQLite: one call's approval events after a seq. */
export const SQLITE_CALL_EVENTS = `SELECT seq FROM records INDEXED BY ${PG_APPROVAL_CALL_INDEX}
  WHERE kind = 'approval_event' AND ${SQLITE_EVENT_CALL} = @call AND seq > @after ORDER BY seq LIMIT @limit`;

/** SQLite: the same as PG_SESSION_RECORDS, with named parameters @id, @after, @open, @close, @limit, @last, @events (the seqs SQLITE_CALL_EVENTS found, JSON). */
export const SQLITE_SESSION_RECORDS = `
  WITH cand(seq) AS (
    SELECT * FROM (SELECT seq FROM calls WHERE session_id = @id AND seq > @after ORDER BY seq LIMIT @limit)
    UNION ALL SELECT * FROM (SELECT outcome_seq FROM calls WHERE session_id = @id AND outcome_seq > @after ORDER BY outcome_seq LIMIT @limit)
    UNION ALL SELECT value FROM json_each(@events)
    UNION ALL SELECT @open UNION ALL SELECT @close
  )
  SELECT r.* FROM records r WHERE r.seq IN (SELECT seq FROM cand) AND r.seq > @after AND r.seq >= @open AND r.seq <= @last
    AND (r.kind <> 'approval_event'
      OR coalesce(json_extract(r.body, '$.sessionId'), json_extract(r.body, '$.session_id')) = @id
      OR EXISTS (SELECT 1 FROM calls x WHERE x.id = coalesce(json_extract(r.body, '$.callId'), json_extract(r.body, '$.call_id')) AND x.session_id = @id))
  ORDER BY r.seq LIMIT @limit`;

/**
 * The same records with the approval events' bodies alone (the other records' bodies and hashes
 * empty); why: the timeline reads the events, never its intents' arguments or outcomes' results.
 */
export function eventBodiesOnly(sql: string): string {
  return sql.replace('SELECT r.* FROM records r', `SELECT r.seq, r.kind, r.ref_id, r.ts, CASE WHEN r.kind = 'approval_event' THEN r.body ELSE '' END AS body,
    '' AS prev_hash, '' AS hash FROM records r`);
}

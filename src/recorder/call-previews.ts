/**
 * A session's calls as the reviewer's timeline draws them, both stores: each call's arguments
 * and result cut in SQL to a preview's length, with the whole text's length. Why: the timeline
 * shows a few thousand characters per call, and reading 101 calls whole (results up to
 * max_result_bytes, arguments up to the MCP body cap) made each view and live refresh of a
 * watched session read some 100 MB on the event loop that serves agents. The SQLite store keeps a
 * result only in its outcome record's body: SQLite cuts `body -> '$.result'` itself, so no body
 * reaches JavaScript; PostgreSQL cuts its calls.result column.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { rowToCall } from './columns.js';
import type { CallRecord } from './types.js';

/** A stored JSON text's head; why: the reader knows whether it holds the whole text (`cut` false) or a prefix. */
export interface TextHead {
  /** The text's first characters (code points, never half a surrogate pair), the whole text when not cut. */
  head: string;
  /** The whole text's length in characters (code points). */
  chars: number;
  cut: boolean;
}

/** A call without its facts and with `args` and `outcome.result` null (not read); their stored JSON texts' heads instead. */
export interface CallPreview extends CallRecord {
  argsHead: TextHead;
  /** Null while the call has no outcome. */
  resultHead: TextHead | null;
}

// Every calls column the timeline draws, none of the big ones (args, facts, result).
const COLS = `c.id, c.session_id, c.tool, c.connection, c.facts_summary, c.decision, c.rule_ids, c.policy_version,
  c.started_at, c.seq, c.outcome_seq, c.status, c.error_code, c.masking, c.duration_ms, c.ended_at`;

/** SQLite: @id, @after, @limit, @n (characters kept); the result is the outcome body's, calls.result when a row has one. */
export const SQLITE_CALL_PREVIEWS = `
  SELECT id, session_id, tool, connection, facts_summary, decision, rule_ids, policy_version, started_at, seq, outcome_seq,
    status, error_code, masking, duration_ms, ended_at,
    substr(args, 1, @n) AS args_head, length(args) AS args_chars, substr(res, 1, @n) AS result_head, length(res) AS result_chars
  FROM (SELECT ${COLS}, c.args AS args,
      CASE WHEN c.outcome_seq IS NULL THEN NULL ELSE coalesce(c.result, r.body -> '$.result', 'null') END AS res
    FROM calls c LEFT JOIN records r ON r.seq = c.outcome_seq
    WHERE c.session_id = @id AND c.seq > @after ORDER BY c.seq LIMIT @limit)
  ORDER BY seq`;

/** PostgreSQL: $1 session id, $2 after seq, $3 page size, $4 characters kept. */
export const PG_CALL_PREVIEWS = `
  SELECT ${COLS}, left(c.args, $4) AS args_head, length(c.args) AS args_chars,
    CASE WHEN c.outcome_seq IS NULL THEN NULL ELSE left(coalesce(c.result, 'null'), $4) END AS result_head,
    CASE WHEN c.outcome_seq IS NULL THEN NULL ELSE length(coalesce(c.result, 'null')) END AS result_chars
  FROM calls c WHERE c.session_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3`;

function head(text: unknown, chars: unknown, n: number): TextHead {
  const c = Number(chars ?? 0);
  return { head: String(text ?? ''), chars: c, cut: c > n };
}

/** A preview row as the public CallPreview; `n`: the characters the query kept. */
export function rowToPreview(r: Record<string, unknown>, n: number): CallPreview {
  const call = rowToCall({ ...r, args: null, facts: null, result: null, outcome_body: undefined });
  return { ...call, argsHead: head(r.args_head, r.args_chars, n), resultHead: call.outcome ? head(r.result_head, r.result_chars, n) : null };
}

/** SQLite: a session's calls after a seq, in order, their texts cut to `chars` characters. */
export function sqliteCallPreviews(db: Database.Database, sessionId: string, afterSeq: number, limit: number, chars: number): CallPreview[] {
  const rows = db.prepare(SQLITE_CALL_PREVIEWS).all({ id: sessionId, after: afterSeq, limit, n: chars }) as Record<string, unknown>[];
  return rows.map((r) => rowToPreview(r, chars));
}

/** PostgreSQL: the same (seq, limit and chars checked by the caller). */
export async function pgCallPreviews(
  q: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>, sessionId: string, afterSeq: number, limit: number, chars: number,
): Promise<CallPreview[]> {
  const rows = (await q(PG_CALL_PREVIEWS, [sessionId, afterSeq, limit, chars])).rows as Record<string, unknown>[];
  return rows.map((r) => rowToPreview(r, chars));
}

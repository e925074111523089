/**
 * The reviewer's queries: session search with keyset paging (fast on any page), free text over
 * an FTS5 index of calls, a session's calls and chain records in pages. Every filter maps to an
 * index (see the v2 migration); the free-text part is bounded so a common word stays fast.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, WardenError } from '../errors.js';
import { rowToCall, rowToSession } from './columns.js';
import { CALLS_WITH_BODY, DEFAULT_LIMIT } from './sqlite-queries.js';
import { SQLITE_CALL_EVENTS, SQLITE_EVENT_CALLS, SQLITE_SESSION_RECORDS, eventBodiesOnly } from './session-records-sql.js';
import type { CallRecord, ChainRecord, SessionPage, SessionSearch } from './types.js';

/** How many newest matching calls a free-text search considers; why: a bounded cost per query. */
export const TEXT_MATCH_BOUND = 5000;
/** The largest page of sessions. */
export const MAX_PAGE = 500;

/**
 * Turn reviewer text into an FTS5 query of quoted tokens; why: no FTS syntax from users. Words
 * match exactly except the last, which matches as a prefix (the word being typed): a prefix
 * query on a word found in every call loads that word's whole posting list, an exact one does not.
 */
export function ftsQuery(text: string): string | null {
  const tokens = (text.match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, 8).map((t) => t.slice(0, 64));
  if (tokens.length === 0) return null;
  return tokens.map((t, i) => (i === tokens.length - 1 ? `"${t}"*` : `"${t}"`)).join(' ');
}

function encodeCursor(startedAt: string, openSeq: number): string {
  return Buffer.from(JSON.stringify([startedAt, openSeq]), 'utf8').toString('base64url');
}

function decodeCursor(c: string): [string, number] {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isInteger(v[1])) return [v[0], v[1] as number];
  } catch {
    /* fall through */
  }
  throw new WardenError(ErrorCode.INVALID_INPUT, 'invalid page cursor');
}

/** Sessions newest first, filtered, one page plus the next cursor. */
export function searchSessions(db: Database.Database, f: SessionSearch): SessionPage {
  const where: string[] = [];
  const p: Record<string, string | number> = {};
  if (f.subject) (where.push('s.subject = @subject'), (p.subject = f.subject));
  if (f.since) (where.push('s.started_at >= @since'), (p.since = f.since));
  if (f.until) (where.push('s.started_at < @until'), (p.until = f.until));
  if (f.cursor) {
    const [at, seq] = decodeCursor(f.cursor);
    where.push('(s.started_at < @cAt OR (s.started_at = @cAt AND s.open_seq < @cSeq))');
    p.cAt = at;
    p.cSeq = seq;
  }
  const inner: string[] = [];
  if (f.tool) (inner.push('c.tool = @tool'), (p.tool = f.tool));
  if (f.connection) (inner.push('c.connection = @connection'), (p.connection = f.connection));
  if (f.decision) (inner.push('c.decision = @decision'), (p.decision = f.decision));
  const q = f.text ? ftsQuery(f.text) : null;
  if (q) {
    // Drive from the (bounded) text matches: FTS rowid = records.seq of the call's intent, whose
    // ref_id is the call id. Probing every session for a match instead costs a scan of all calls.
    where.push(`s.id IN (SELECT c.session_id FROM records r JOIN calls c ON c.id = r.ref_id AND c.seq = r.seq
      WHERE r.seq IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH @q ORDER BY rowid DESC LIMIT ${TEXT_MATCH_BOUND})
      ${inner.length ? 'AND ' + inner.join(' AND ') : ''})`);
    p.q = q;
  } else if (inner.length) where.push(`EXISTS (SELECT 1 FROM call_facets c WHERE c.session_id = s.id AND ${inner.join(' AND ')})`);
  const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(f.limit ?? DEFAULT_LIMIT)));
  p.limit = limit + 1;
  const sql = `SELECT s.* FROM sessions s ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY s.started_at DESC, s.open_seq DESC LIMIT @limit`;
  const rows = db.prepare(sql).all(p) as Record<string, unknown>[];
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    sessions: page.map(rowToSession),
    next: more && last ? encodeCursor(String(last.started_at), Number(last.open_seq)) : null,
  };
}

/** A session's calls after a seq, in order; why: a session page shows calls in pages. */
export function sessionCalls(db: Database.Database, sessionId: string, afterSeq: number, limit: number): CallRecord[] {
  const rows = db.prepare(`${CALLS_WITH_BODY} WHERE c.session_id = ? AND c.seq > ? ORDER BY c.seq LIMIT ?`).all(sessionId, afterSeq, limit);
  return (rows as Record<string, unknown>[]).map(rowToCall);
}

/** One call by id. */
export function getCall(db: Database.Database, id: string): CallRecord | null {
  const r = db.prepare(`${CALLS_WITH_BODY} WHERE c.id = ?`).get(id) as Record<string, unknown> | undefined;
  return r ? rowToCall(r) : null;
}

/** The newest record's seq (0 when empty); why: live views poll it to know when to refresh. */
export function headSeq(db: Database.Database): number {
  return (db.prepare('SELECT MAX(seq) AS s FROM records').get() as { s: number | null }).s ?? 0;
}

/** A row of `records` as the public ChainRecord. */
export function toChainRecord(r: Record<string, unknown>): ChainRecord {
  return {
    seq: Number(r.seq), kind: r.kind as ChainRecord['kind'], refId: String(r.ref_id), ts: String(r.ts),
    body: String(r.body), prevHash: String(r.prev_hash), hash: String(r.hash),
  };
}

/**
 * The chain records of one session after `afterSeq` (open, intents, outcomes, approval events
 * naming the session or one of its calls, close); why: replay and --follow walk them in order.
 * `eventsOnly`: the other records' bodies and hashes empty (the UI timeline draws the events alone).
 */
export function sessionRecords(db: Database.Database, sessionId: string, afterSeq: number, limit: number, eventsOnly = false): ChainRecord[] {
  // A closed session's records end at its close or at the last outcome of its calls, whichever is
  // later: a call still running when the client left records its outcome after the close.
  const s = db.prepare(
    `SELECT open_seq, close_seq, max(close_seq, coalesce((SELECT MAX(outcome_seq) FROM calls WHERE session_id = @id AND outcome_seq IS NOT NULL), 0)) AS last_seq
     FROM sessions WHERE id = @id`,
  ).get({ id: sessionId }) as
    | { open_seq: number; close_seq: number | null; last_seq: number | null }
    | undefined;
  if (!s) return [];
  // Read by the session's own seqs and its calls' approval events (session-records-sql.ts).
  const one = db.prepare(SQLITE_CALL_EVENTS).pluck();
  const calls = db.prepare(SQLITE_EVENT_CALLS).pluck().all({ id: sessionId, after: afterSeq, limit }) as string[];
  const events = calls.flatMap((call) => one.all({ call, after: afterSeq, limit }) as number[]);
  const rows = db.prepare(eventsOnly ? EVENTS_ONLY : SQLITE_SESSION_RECORDS)
    .all({ events: JSON.stringify(events), open: s.open_seq, close: s.close_seq ?? -1, last: s.last_seq ?? Number.MAX_SAFE_INTEGER, after: afterSeq, id: sessionId, limit });
  return (rows as Record<string, unknown>[]).map(toChainRecord);
}

const EVENTS_ONLY = eventBodiesOnly(SQLITE_SESSION_RECORDS);

/** Records in seq order from `fromSeq`, optionally bounded by record time; why: export --since/--until. */
export function readRecordsBetween(
  db: Database.Database, fromSeq: number, limit: number, since?: string, until?: string,
): ChainRecord[] {
  const rows = db
    .prepare('SELECT * FROM records WHERE seq >= @from AND ts >= @since AND ts < @until ORDER BY seq LIMIT @limit')
    .all({ from: fromSeq, since: since ?? '', until: until ?? '\uffff', limit });
  return (rows as Record<string, unknown>[]).map(toChainRecord);
}

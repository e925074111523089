/**
 * The PostgreSQL store's queries: the listings, the reviewer's search (keyset paging, bounded
 * free text), a session's calls and records, export windows. Same results as the SQLite store.
 */
import type pg from 'pg';
import { ErrorCode, WardenError } from '../errors.js';
import { rowToCall, rowToSession } from './columns.js';
import { listCallsSql, listSessionsSql } from './sqlite-queries.js';
import { TEXT_MATCH_BOUND } from './sqlite-search.js';
import { PG_SESSION_RECORDS, eventBodiesOnly } from './session-records-sql.js';

const PG_EVENTS_ONLY = eventBodiesOnly(PG_SESSION_RECORDS);
import type { CallFilter, CallRecord, ChainRecord, SessionFilter, SessionPage, SessionRecord, SessionSearch } from './types.js';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;
type Row = Record<string, unknown>;

const MAX_PAGE = 500;

/**
 * A seq, page position or row count as PostgreSQL may take it; why: a number past 2^53 (`1e300`
 * from a query string or a forged cursor) became a bigint syntax error, reported as the store
 * failing (HTTP 500); it is the reader's bad input (HTTP 400), as SQLite answers it with no rows.
 */
export function seqArg(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new WardenError(ErrorCode.INVALID_INPUT, `${what} must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  return n;
}

/** `?` placeholders (the shared listing SQL) to `$n`; why: one query builder for both stores. */
export function dollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A records row as the public ChainRecord. */
export function toChainRecord(r: Row): ChainRecord {
  return {
    seq: Number(r.seq), kind: r.kind as ChainRecord['kind'], refId: String(r.ref_id), ts: String(r.ts),
    body: String(r.body), prevHash: String(r.prev_hash), hash: String(r.hash),
  };
}

/** Sessions newest first (transcripts list). */
export async function pgListSessions(q: Q, f: SessionFilter): Promise<SessionRecord[]> {
  const s = listSessionsSql(f);
  return ((await q(dollarParams(s.sql), s.params)).rows as Row[]).map(rowToSession);
}

/** Calls newest first. */
export async function pgListCalls(q: Q, f: CallFilter): Promise<CallRecord[]> {
  const s = listCallsSql(f);
  return ((await q(dollarParams(s.sql), s.params)).rows as Row[]).map(rowToCall);
}

/** One session's row alone; why: a session page (and each live refresh) must not load all its calls. */
export async function pgSessionInfo(q: Q, id: string): Promise<SessionRecord | null> {
  const s = (await q('SELECT * FROM sessions WHERE id = $1', [id])).rows[0] as Row | undefined;
  return s ? rowToSession(s) : null;
}

/** One session with its calls. */
export async function pgGetSession(q: Q, id: string): Promise<{ session: SessionRecord; calls: CallRecord[] } | null> {
  const s = (await q('SELECT * FROM sessions WHERE id = $1', [id])).rows[0] as Row | undefined;
  if (!s) return null;
  const calls = (await q('SELECT * FROM calls WHERE session_id = $1 ORDER BY seq', [id])).rows as Row[];
  return { session: rowToSession(s), calls: calls.map(rowToCall) };
}

function cursorOf(c: string): [string, number] {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1])) return [v[0], v[1] as number];
  } catch {
    /* fall through */
  }
  throw new WardenError(ErrorCode.INVALID_INPUT, 'invalid page cursor');
}

/** The reviewer's session search; free text is a bounded case-insensitive substring match over the newest TEXT_MATCH_BOUND calls. */
export async function pgSearchSessions(q: Q, f: SessionSearch): Promise<SessionPage> {
  const where: string[] = [];
  const p: unknown[] = [];
  const add = (v: unknown) => (p.push(v), `$${p.length}`);
  if (f.subject) where.push(`s.subject = ${add(f.subject)}`);
  if (f.since) where.push(`s.started_at >= ${add(f.since)}`);
  if (f.until) where.push(`s.started_at < ${add(f.until)}`);
  if (f.cursor) {
    const [at, seq] = cursorOf(f.cursor);
    const a = add(at);
    where.push(`(s.started_at < ${a} OR (s.started_at = ${a} AND s.open_seq < ${add(seq)}))`);
  }
  // Call filters as [column, placeholder], rendered on whichever alias drives the query.
  const inner: Array<[string, string]> = [];
  if (f.tool) inner.push(['tool', add(f.tool)]);
  if (f.connection) inner.push(['connection', add(f.connection)]);
  if (f.decision) inner.push(['decision', add(f.decision)]);
  const on = (a: string) => inner.map(([col, ph]) => ` AND ${a}.${col} = ${ph}`).join('');
  const text = f.text?.trim().slice(0, 200);
  if (text) {
    // Driven from the text matches among the newest calls (calls_started_at read backwards, so at
    // most TEXT_MATCH_BOUND rows), their sessions then fetched by key: probing every session for a
    // match instead reads every session and call of the store when the text matches little.
    // `%`, `_` and `\` in the text are escaped: they match themselves, never as a pattern.
    const like = add(`%${text.replace(/[\\%_]/g, (m) => '\\' + m)}%`);
    where.push(`s.id = ANY (ARRAY(SELECT DISTINCT x.session_id FROM (
        SELECT session_id, tool, connection, decision, facts_summary, args FROM calls ORDER BY started_at DESC LIMIT ${TEXT_MATCH_BOUND}) x
      WHERE concat_ws(' ', x.tool, x.connection, x.facts_summary, x.args) ILIKE ${like}${on('x')}))`);
  } else if (inner.length) {
    // Driven from the newest matching calls (calls_decision, calls_connection, calls_tool read
    // backwards), as the text search: an EXISTS probe per session read every call of the store
    // when the filter matched little (a rare decision or connection).
    where.push(`s.id = ANY (ARRAY(SELECT DISTINCT x.session_id FROM (
        SELECT session_id FROM calls x WHERE TRUE${on('x')} ORDER BY started_at DESC LIMIT ${TEXT_MATCH_BOUND}) x))`);
  }
  const limit = Number.isFinite(f.limit) ? Math.min(MAX_PAGE, Math.max(1, Math.floor(f.limit!))) : 100;
  const rows = (await q(`SELECT s.* FROM sessions s ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY s.started_at DESC, s.open_seq DESC LIMIT ${add(limit + 1)}`, p)).rows as Row[];
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    sessions: page.map(rowToSession),
    next: rows.length > limit && last ? Buffer.from(JSON.stringify([String(last.started_at), Number(last.open_seq)]), 'utf8').toString('base64url') : null,
  };
}

/** A session's calls after a seq. */
export async function pgSessionCalls(q: Q, sessionId: string, afterSeq: number, limit: number): Promise<CallRecord[]> {
  const args = [sessionId, seqArg(afterSeq, 'after'), seqArg(limit, 'limit')];
  return ((await q('SELECT * FROM calls WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', args)).rows as Row[]).map(rowToCall);
}

/** The chain records of one session (open, intents, outcomes, its approval events, close): its own seqs, read by key (session-records-sql.ts); `eventsOnly` as in SQLite. */
export async function pgSessionRecords(q: Q, sessionId: string, afterSeq: number, limit: number, eventsOnly = false): Promise<ChainRecord[]> {
  seqArg(afterSeq, 'after');
  seqArg(limit, 'limit');
  // As in SQLite: a closed session's records end at its close or its calls' last outcome, if later.
  const s = (await q(
    `SELECT open_seq, close_seq, CASE WHEN close_seq IS NULL THEN NULL
       ELSE GREATEST(close_seq, (SELECT MAX(outcome_seq) FROM calls WHERE session_id = $1)) END AS last_seq
     FROM sessions WHERE id = $1`,
    [sessionId],
  )).rows[0] as { open_seq: number; close_seq: number | null; last_seq: number | null } | undefined;
  if (!s) return [];
  const rows = (await q(eventsOnly ? PG_EVENTS_ONLY : PG_SESSION_RECORDS, [sessionId, afterSeq, s.open_seq, s.close_seq ?? -1, limit, s.last_seq ?? Number.MAX_SAFE_INTEGER])).rows as Row[];
  return rows.map(toChainRecord);
}

/** Records from a seq, optionally within a time window (export). */
export async function pgRecordsBetween(q: Q, fromSeq: number, limit: number, since?: string, until?: string): Promise<ChainRecord[]> {
  const args = [seqArg(fromSeq, 'from'), since ?? '', until ?? '\uffff', seqArg(limit, 'limit')];
  const rows = (await q('SELECT * FROM records WHERE seq >= $1 AND ts >= $2 AND ts < $3 ORDER BY seq LIMIT $4', args)).rows as Row[];
  return rows.map(toChainRecord);
}

/** SQL for the listing queries; why: filters become WHERE clauses the indexes can serve. */
import type { CallFilter, SessionFilter } from './types.js';

/** A statement and its positional parameters. */
export interface Query {
  sql: string;
  params: Array<string | number>;
}

/** SELECT prefix for SQLite calls rows with their outcome body; why: a result is stored only there. */
export const CALLS_WITH_BODY = 'SELECT c.*, r.body AS outcome_body FROM calls c LEFT JOIN records r ON r.seq = c.outcome_seq';

/** Default list size; why: a listing must never load a whole store by accident. */
export const DEFAULT_LIMIT = 100;
/** The largest list a caller may ask for. */
export const MAX_LIMIT = 100_000;

function limitOf(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.floor(n)));
}

/** Sessions, newest first, by subject and/or a tool used in them; `facets`: the table holding (session_id, tool). */
export function listSessionsSql(f: SessionFilter, facets = 'calls'): Query {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (f.subject !== undefined) {
    where.push('s.subject = ?');
    params.push(f.subject);
  }
  if (f.tool !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM ${facets} c WHERE c.session_id = s.id AND c.tool = ?)`);
    params.push(f.tool);
  }
  params.push(limitOf(f.limit));
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT s.* FROM sessions s ${w} ORDER BY s.started_at DESC, s.open_seq DESC LIMIT ?`, params };
}

/** Calls across sessions, newest first; `select` may join more columns onto `calls c`. */
export function listCallsSql(f: CallFilter, select = 'SELECT c.* FROM calls c'): Query {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const add = (clause: string, v: string | undefined): void => {
    if (v === undefined) return;
    where.push(clause);
    params.push(v);
  };
  add('c.session_id = ?', f.sessionId);
  add('c.tool = ?', f.tool);
  add('c.decision = ?', f.decision);
  add('c.status = ?', f.status);
  add('c.started_at >= ?', f.since);
  add('c.started_at < ?', f.until);
  add('c.session_id IN (SELECT id FROM sessions WHERE subject = ?)', f.subject);
  params.push(limitOf(f.limit));
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `${select} ${w} ORDER BY c.started_at DESC, c.seq DESC LIMIT ?`, params };
}

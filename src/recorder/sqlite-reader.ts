/**
 * The read side of the SQLite store (sqlite-store.ts extends it with the writes): session and
 * call listings, records, search. Why a class of its own: reads share the statement cache and
 * the error mapping, and stay apart from the write path's group commit and chain.
 */
import type Database from 'better-sqlite3';
import { rowToCall, rowToSession } from './columns.js';
import { CALLS_WITH_BODY, listCallsSql, listSessionsSql } from './sqlite-queries.js';
import * as search from './sqlite-search.js';
import { sqliteCallPreviews, type CallPreview } from './call-previews.js';
import { storeError } from './store-errors.js';
import type { CallFilter, CallRecord, ChainRecord, SessionFilter, SessionPage, SessionRecord, SessionSearch } from './types.js';

/** Reads of one SQLite transcript file. */
export class SqliteReader {
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  /** A prepared statement, cached by its text. */
  protected stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Run a read; errors become coded transcript errors. */
  protected read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError('read', err);
    }
  }

  async listSessions(f: SessionFilter = {}): Promise<SessionRecord[]> {
    const q = listSessionsSql(f, 'call_facets');
    return this.read(() => (this.stmt(q.sql).all(...q.params) as Record<string, unknown>[]).map(rowToSession));
  }

  async getSession(id: string): Promise<{ session: SessionRecord; calls: CallRecord[] } | null> {
    return this.read(() => {
      const s = this.stmt('SELECT * FROM sessions WHERE id = ?').get(id) as Record<string, unknown> | undefined;
      if (!s) return null;
      const calls = this.stmt(`${CALLS_WITH_BODY} WHERE c.session_id = ? ORDER BY c.seq`).all(id) as Record<string, unknown>[];
      return { session: rowToSession(s), calls: calls.map(rowToCall) };
    });
  }

  async listCalls(f: CallFilter = {}): Promise<CallRecord[]> {
    const q = listCallsSql(f, CALLS_WITH_BODY);
    return this.read(() => (this.stmt(q.sql).all(...q.params) as Record<string, unknown>[]).map(rowToCall));
  }

  async readRecords(fromSeq: number, limit: number): Promise<ChainRecord[]> {
    return this.read(() => {
      const rows = this.stmt('SELECT * FROM records WHERE seq >= ? ORDER BY seq LIMIT ?').all(fromSeq, limit) as Array<
        Record<string, unknown>
      >;
      return rows.map((r) => ({
        seq: Number(r.seq), kind: r.kind as ChainRecord['kind'], refId: String(r.ref_id), ts: String(r.ts),
        body: String(r.body), prevHash: String(r.prev_hash), hash: String(r.hash),
      }));
    });
  }

  async searchSessions(f: SessionSearch): Promise<SessionPage> {
    return this.read(() => search.searchSessions(this.db, f));
  }

  async sessionInfo(id: string): Promise<SessionRecord | null> {
    return this.read(() => {
      const r = this.stmt('SELECT * FROM sessions WHERE id = ?').get(id) as Record<string, unknown> | undefined;
      return r ? rowToSession(r) : null;
    });
  }

  async sessionCalls(sessionId: string, afterSeq: number, limit: number): Promise<CallRecord[]> {
    return this.read(() => search.sessionCalls(this.db, sessionId, afterSeq, limit));
  }

  async sessionCallPreviews(sessionId: string, afterSeq: number, limit: number, chars: number): Promise<CallPreview[]> {
    return this.read(() => sqliteCallPreviews(this.db, sessionId, afterSeq, limit, chars));
  }

  async getCall(id: string): Promise<CallRecord | null> {
    return this.read(() => search.getCall(this.db, id));
  }

  async headSeq(): Promise<number> {
    return this.read(() => search.headSeq(this.db));
  }

  async sessionRecords(sessionId: string, afterSeq: number, limit: number): Promise<ChainRecord[]> {
    return this.read(() => search.sessionRecords(this.db, sessionId, afterSeq, limit));
  }

  async sessionEventRecords(sessionId: string, afterSeq: number, limit: number): Promise<ChainRecord[]> {
    return this.read(() => search.sessionRecords(this.db, sessionId, afterSeq, limit, true));
  }

  async readRecordsBetween(fromSeq: number, limit: number, since?: string, until?: string): Promise<ChainRecord[]> {
    return this.read(() => search.readRecordsBetween(this.db, fromSeq, limit, since, until));
  }
}

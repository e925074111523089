/**
 * The default transcript store: one SQLite file (WAL, synchronous FULL), an append-only hash-chained
 * `records` table, and `sessions`/`calls` tables for queries, all updated in one transaction.
 * Every write returns only once durable, or throws WardenError(TRANSCRIPT): the call then does not run.
 * Opening (create, migrate, read-only) is in sqlite-open.ts; the reads are in sqlite-reader.ts.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ErrorCode, WardenError } from '../errors.js';
import { canonicalParts, joinParts, quote } from './canonical-json.js';
import { type Columns, intentColumns, outcomeColumns, sessionOpenColumns } from './columns.js';
import { GENESIS_HASH, type RecordKind, recordHash } from './hash-chain.js';
import { verifyChain } from './sqlite-verify.js';
import { GroupCommit } from './sqlite-group-commit.js';
import { TextIndexer } from './sqlite-text-index.js';
import { AlreadyDone, storeError, text } from './store-errors.js';
import { LIVE_INSTANCES, ownerAlive, ownerTag } from './owner.js';
import { SqliteReader } from './sqlite-reader.js';
import { ApprovalTables } from './sqlite-approvals.js';
import { SESSION_RECORDS_DURABLE } from './durability.js';
import type { SqliteTranscriptStore } from './sqlite-open.js';
import type { ChainSigner } from './signing.js';
import { sqliteChainHead, verifySqliteStore } from './sqlite-head-checks.js';
import { SqliteHeadSigner } from './sqlite-head-signing.js';
import { erasing, purgeBefore } from './sqlite-purge.js';
import type { CallIntent, CallOutcome, ChainHeadInfo, PurgeResult, RecoveryResult, SessionPage, SessionSearch, SessionStart, SignedHead, VerifyOptions, VerifyResult } from './types.js';
import { HeadRefusal } from './head-refusal.js';

/**
 * The result of a call is stored once, in its outcome record (hash-chained), not again in
 * calls.result: a 1,000-row result is ~70 KB, and writing it twice doubled the WAL frames of the
 * outcome's commit. Readers join the record (CALLS_WITH_BODY, rowToCall); verify accepts a NULL
 * calls.result, and files written before keep their copies, which verify still compares.
 */
function chainResult(cols: Columns): Columns {
  return { ...cols, result: null };
}

/** The store behind openSqliteStore (sqlite-open.ts). */
export class SqliteStore extends SqliteReader implements SqliteTranscriptStore {
  private readonly instance = randomUUID();
  private readonly owner: string;
  private readonly appendTx: (kind: RecordKind, refId: string, ts: string, body: string, apply: (seq: number) => void) => [number, string];

  readonly path: string;
  readonly readonly: boolean;
  readonly approvals: ApprovalTables;

  private readonly signer: ChainSigner | undefined;
  private readonly heads: SqliteHeadSigner;
  /** Why the key holder last left the signed head as it was (head-refusal.ts), or null. */
  get signingRefused(): string | null { return this.heads.refused; } // prettier-ignore
  /** Free text is indexed behind the hot path (sqlite-text-index.ts); none for a read-only store. */
  private readonly textIndex: TextIndexer | null;

  /** The configured durability (FULL: fsync per commit; NORMAL: durable across process crashes only). */
  synchronous: 'FULL' | 'NORMAL' = 'FULL';
  private readonly commits: GroupCommit;

  constructor(path: string, readOnly: boolean, db: Database.Database, signer?: ChainSigner, refusal = new HeadRefusal()) {
    super(db);
    this.path = path;
    this.readonly = readOnly;
    this.signer = signer;
    this.heads = new SqliteHeadSigner(db, path, readOnly, signer, refusal);
    this.textIndex = readOnly ? null : new TextIndexer(db);
    this.owner = ownerTag(this.instance);
    this.commits = new GroupCommit(db, {
      synchronous: () => this.synchronous,
      beginBatch: () => this.heads.begin(),
      beforeCommit: () => this.heads.signInTx(),
      afterCommit: () => this.textIndex?.schedule(),
    });
    const tx = db.transaction((kind: RecordKind, refId: string, ts: string, body: string, apply: (seq: number) => void) => {
      const head = this.stmt('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as
        | { seq: number; hash: string }
        | undefined;
      const seq = head ? head.seq + 1 : 1;
      const prev = head ? head.hash : GENESIS_HASH;
      const hash = recordHash(prev, kind, refId, ts, body);
      this.stmt('INSERT INTO records (seq, kind, ref_id, ts, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        seq, kind, refId, ts, body, prev, hash,
      );
      this.heads.wrote(seq); // only records this transaction wrote may be signed over (sqlite-head-signing.ts)
      apply(seq);
      return [seq, hash] as [number, string];
    });
    this.appendTx = (...a) => tx.immediate(...a);
    this.approvals = new ApprovalTables(db, (fn) => this.approvalWrite(fn), (fn) => this.read(fn));
    LIVE_INSTANCES.add(this.instance);
  }

  // One transaction: the record, its table rows and the signed head land together or not at all.
  private append(kind: RecordKind, refId: string, ts: string, body: string, apply: (seq: number) => void): void {
    try {
      this.signedTx(() => void this.appendTx(kind, refId, ts, body, apply));
    } catch (err) {
      if (err instanceof AlreadyDone) return;
      throw storeError('write', err);
    }
  }

  /** Run `fn` in one IMMEDIATE transaction whose head is signed before it commits (sqlite-head-signing.ts). */
  private signedTx<T>(fn: () => T): T {
    return this.db.transaction(() => {
      this.heads.begin();
      const r = fn();
      this.heads.signInTx();
      return r;
    }).immediate();
  }

  private enqueue(run: () => void, durable: boolean): Promise<void> {
    if (this.readonly) return Promise.reject(new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: read-only'));
    return this.commits.enqueue(run, durable);
  }

  /** `warden transcripts adopt-head`: sign the head verify just checked, when there is no signed head or `over` is the one before it (head-adopt.ts). */
  async adoptHead(verified: { seq: number; hash: string }, over?: SignedHead): Promise<SignedHead> { return this.heads.adopt(verified, over); } // prettier-ignore
  /** The write path's signed-head check, once at startup (sqlite-head-signing.ts check()). */
  async checkHead(): Promise<string | null> { return this.read(() => this.heads.check()); } // prettier-ignore

  // Approval writes: checks, rows and approval_event records in one IMMEDIATE transaction.
  private approvalWrite<T>(fn: (event: (refId: string, ts: string, body: Record<string, unknown>) => number) => T): T {
    // Queued writes (a session's open record) go first, so the chain keeps the order of events.
    this.commits.flush();
    // The signed head covers approval events too: otherwise a tail of them (a `used` event, a
    // reviewer's deny) could be cut away with its rows reset and verify would still pass.
    try {
      return this.signedTx(() =>
        fn((refId, ts, body) => {
          let at = 0;
          this.appendTx('approval_event', refId, ts, joinParts(this.parts(body)), (seq) => void (at = seq));
          return at;
        }),
      );
    } catch (err) {
      throw storeError('write', err);
    }
  }

  // Positional parameters: binding by name looked up each column on a spread object, per call.
  private insert(table: string, cols: Columns): void {
    const keys = Object.keys(cols);
    const sql = `INSERT INTO ${table} (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`;
    this.stmt(sql).run(...Object.values(cols));
  }

  async openSession(s: SessionStart): Promise<void> {
    const parts = this.parts(s);
    const cols = sessionOpenColumns(parts);
    const id = text(cols.id, 'session id');
    const ts = text(cols.started_at, 'startedAt');
    const body = joinParts(parts);
    // Session records commit without their own fsync (SESSION_RECORDS_DURABLE): nothing an agent
    // sees depends on them, and the next durable commit (a call's outcome) carries them to disk.
    return this.enqueue(() => void this.appendTx('session_open', id, ts, body, (seq) => {
      this.insert('sessions', { ...cols, open_seq: seq, owner: this.owner });
    }), SESSION_RECORDS_DURABLE);
  }

  async closeSession(id: string, endedAt: string): Promise<void> {
    // Queued behind the session's outcomes, so the close is the session's last record.
    return this.enqueue(() => void this.closeSync(id, endedAt), SESSION_RECORDS_DURABLE);
  }

  private closeSync(id: string, endedAt: string): boolean {
    const parts = this.parts({ id, endedAt });
    text(id, 'session id');
    text(endedAt, 'endedAt');
    let done = false;
    this.append('session_close', id, endedAt, joinParts(parts), (seq) => {
      const row = this.stmt('SELECT close_seq FROM sessions WHERE id = ?').get(id) as { close_seq: number | null } | undefined;
      if (!row) throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: unknown session');
      if (row.close_seq !== null) throw new AlreadyDone(); // closing twice is a no-op
      this.stmt('UPDATE sessions SET ended_at = ?, close_seq = ? WHERE id = ?').run(endedAt, seq, id);
      done = true;
    });
    return done;
  }

  async recordIntent(c: CallIntent, opts: { durable?: boolean } = {}): Promise<void> {
    const parts = this.parts(c);
    const cols = intentColumns(parts);
    const id = text(cols.id, 'call id');
    const sessionId = text(cols.session_id, 'sessionId');
    const ts = text(cols.started_at, 'startedAt');
    const body = joinParts(parts);
    return this.enqueue(() => this.appendTx('call_intent', id, ts, body, (seq) => {
      const bumped = this.stmt('UPDATE sessions SET call_count = call_count + 1 WHERE id = ?').run(sessionId);
      if (bumped.changes !== 1) throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: unknown session');
      this.insert('calls', { ...cols, seq });
      // Nothing is written when the session already used this combination.
      this.stmt('INSERT OR IGNORE INTO call_facets (session_id, tool, connection, decision) VALUES (?, ?, ?, ?)').run(sessionId, cols.tool, cols.connection ?? '', cols.decision);
    }), opts.durable !== false);
  }

  async recordOutcome(callId: string, o: CallOutcome): Promise<void> {
    const parts = this.parts(o);
    parts.set('callId', quote(text(callId, 'call id')));
    const cols = chainResult(outcomeColumns(parts));
    const ts = text(cols.ended_at, 'endedAt');
    const body = joinParts(parts);
    return this.enqueue(() => this.appendTx('call_outcome', callId, ts, body, (seq) => this.applyOutcome(callId, cols, seq, false)), true);
  }

  private applyOutcome(callId: string, cols: Columns, seq: number, onlyIfOpen: boolean): void {
    const set = Object.keys(cols).map((k) => `${k} = ?`).join(', ');
    const guard = onlyIfOpen ? ' AND outcome_seq IS NULL' : '';
    const r = this.stmt(`UPDATE calls SET ${set}, outcome_seq = ? WHERE id = ?${guard}`).run(...Object.values(cols), seq, callId);
    if (r.changes !== 1) {
      if (onlyIfOpen) throw new AlreadyDone();
      throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: unknown call');
    }
  }

  private outcomeSync(callId: string, o: CallOutcome, onlyIfOpen: boolean): boolean {
    const parts = this.parts(o);
    parts.set('callId', quote(text(callId, 'call id')));
    const cols = chainResult(outcomeColumns(parts));
    const ts = text(cols.ended_at, 'endedAt');
    let done = false;
    this.append('call_outcome', callId, ts, joinParts(parts), (seq) => {
      this.applyOutcome(callId, cols, seq, onlyIfOpen);
      done = true;
    });
    return done;
  }

  /** A body's canonical parts; a body that cannot be encoded is a coded write error. */
  private parts(o: object): Map<string, string> { try { return canonicalParts(o); } catch (err) { throw storeError('write', err); } } // prettier-ignore

  async verify(opts: VerifyOptions = {}): Promise<VerifyResult> {
    return this.read(() => this.db.transaction(() => verifySqliteStore(this.db, this.path, this.signer, opts)).deferred());
  }

  async chainHead(): Promise<ChainHeadInfo> {
    return this.read(() => sqliteChainHead(this.db, this.path, this.signer));
  }

  override async searchSessions(f: SessionSearch): Promise<SessionPage> {
    if (f.text) this.textIndex?.catchUp(); // every call recorded so far is searchable
    return super.searchSessions(f);
  }

  async purge(before: string, now = new Date().toISOString()): Promise<PurgeResult> {
    if (this.readonly) throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: read-only');
    try {
      return erasing(this.db, () => this.signedTx(() => purgeBefore(this.db, before, now, (k, id, ts, body, apply) => void this.appendTx(k, id, ts, body, apply), this.signer)));
    } catch (err) {
      throw storeError('write', err);
    }
  }

  async verifyRange(fromSeq: number, toSeq: number): Promise<VerifyResult> {
    return this.read(() => this.db.transaction(() => verifyChain(this.db, fromSeq, toSeq, false)).deferred());
  }

  async markInterrupted(now?: string): Promise<RecoveryResult> {
    return this.recover(now ?? new Date().toISOString());
  }

  /**
   * Close what a dead process left open: calls with an intent and no outcome get
   * {status: 'interrupted'}; their sessions get closed. Sessions owned by a live process
   * (this one, or another Warden on this host sharing the file) are left alone.
   */
  recover(now: string): RecoveryResult {
    const result: RecoveryResult = { interruptedCalls: 0, closedSessions: 0 };
    const open = this.read(() =>
      this.stmt(
        `SELECT c.id, c.started_at, s.owner FROM calls c JOIN sessions s ON s.id = c.session_id
         WHERE c.outcome_seq IS NULL ORDER BY c.seq`,
      ).all(),
    ) as Array<{ id: string; started_at: string; owner: string | null }>;
    for (const c of open) {
      if (ownerAlive(c.owner)) continue;
      const started = Date.parse(c.started_at);
      const durationMs = Number.isFinite(started) ? Math.max(0, Date.parse(now) - started) : 0;
      const o: CallOutcome = { status: 'interrupted', errorCode: null, result: null, masking: null, durationMs, endedAt: now };
      if (this.outcomeSync(c.id, o, true)) result.interruptedCalls++;
    }
    const sessions = this.read(() =>
      this.stmt('SELECT id, owner FROM sessions WHERE close_seq IS NULL ORDER BY open_seq').all(),
    ) as Array<{ id: string; owner: string | null }>;
    for (const s of sessions) {
      if (!ownerAlive(s.owner) && this.closeSync(s.id, now)) result.closedSessions++;
    }
    return result;
  }

  async close(): Promise<void> {
    this.commits.flush(); // queued writes land before the file closes
    this.textIndex?.close();
    LIVE_INSTANCES.delete(this.instance);
    if (this.db.open) this.db.close();
  }
}

/**
 * The PostgreSQL transcript and approval store, for several Warden replicas behind a load
 * balancer: the same interface and records as the SQLite store. Appends go through a group-commit
 * writer that locks the one chain-head row, so concurrent replicas write one verifiable chain.
 * Each replica holds a session-level advisory lock while it lives (pg-liveness.ts); startup and a periodic sweep
 * mark calls of dead replicas (lock free for the grace, so not one reconnecting) as interrupted. Every failure is WARDEN_TRANSCRIPT_UNAVAILABLE;
 * the pool reconnects by itself when the database comes back. Opening (pool, migration) is in pg-open.ts;
 * the chain writes of sessions and calls, as the writer's transaction steps, in pg-record-ops.ts.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import '../pg-stream-probe.js'; // before pg: spares its probe loading Node's fetch
import pg from 'pg';
import { rowToCall } from './columns.js';
import { ErrorCode, WardenError } from '../errors.js';
import { PG_CLUSTER_ID_SQL } from '../tool-api.js';
import { PgApprovalTables } from './pg-approvals.js';
import { PgLiveness } from './pg-liveness.js';
import { type DeadWork, findDeadWork, interruptedOutcome, scheduleSweeps } from './pg-recovery.js';
import { pgStoreError } from './pg-errors.js';
import * as reads from './pg-reads.js';
import { pgChainHead, pgVerifyChain, pgVerifyStore } from './pg-verify.js';
import { pgPurgeBefore } from './pg-purge.js';
import { PgRateCounters } from './pg-rate-counters.js';
import { PgWriter } from './pg-writer.js';
import { closeOp, intentOp, openOp, outcomeOp } from './pg-record-ops.js';
import { pgAdoptHead } from './pg-signed-head.js';
import { pgCallPreviews, type CallPreview } from './call-previews.js';
import type { HeadRefusal } from './head-refusal.js';
import type { ChainSigner } from './signing.js';
import { text } from './store-errors.js';
import type { PgTranscriptStore } from './pg-open.js';
import { SESSION_RECORDS_DURABLE } from './durability.js';
import type {
  CallFilter, CallIntent, CallOutcome, CallRecord, ChainHeadInfo, ChainRecord, PurgeResult, RecoveryResult, SessionFilter,
  SessionPage, SessionRecord, SessionSearch, SessionStart, SignedHead, VerifyOptions, VerifyResult,
} from './types.js';

/** The store behind openPgStore (pg-open.ts). */
export class PgStore implements PgTranscriptStore {
  readonly kind = 'postgres' as const;
  readonly approvals: PgApprovalTables;
  readonly owner: string;
  readonly rateCounters: PgRateCounters;
  private readonly writer: PgWriter;
  private readonly liveness: PgLiveness;
  private closed = false;
  get livenessGraceMs(): number {
    return this.liveness.graceMs;
  }
  get signingRefused(): string | null {
    return this.writer.refusal.reason;
  }
  /** A lock was seen free less than the grace ago by the last recovery pass (so: look again then). */
  private freeWithinGrace = false;

  constructor(
    private readonly pool: pg.Pool,
    clientConfig: pg.ClientConfig,
    private readonly signer?: ChainSigner,
    livenessGraceMs?: number,
    refusal?: HeadRefusal,
    private readonly roles: { tableOwner?: string; trustedRoles?: readonly string[] } = {},
  ) {
    this.liveness = new PgLiveness(clientConfig, randomUUID(), randomInt(1, 2 ** 31 - 1), livenessGraceMs);
    this.owner = JSON.stringify({ host: hostname(), pid: process.pid, instance: this.liveness.instance, lock: this.liveness.lockKey });
    this.writer = new PgWriter(pool, signer, refusal);
    this.approvals = new PgApprovalTables((sql, p) => pool.query(sql, p), this.writer, (ms, signal) => this.liveness.changed(ms, signal));
    this.rateCounters = new PgRateCounters((sql, p) => pool.query(sql, p), this.liveness.lockKey, {
      live: () => this.liveness.held,
      graceMs: this.liveness.graceMs, // one grace for recovery and slots: both ask warden_owner_dead
    });
    // Back from a reconnect: claim again the slots of calls still running before admitting more.
    this.liveness.onHeld = (c) => this.rateCounters.reclaim((sql, p) => c.query(sql, p));
  }

  private async read<T>(fn: (q: (sql: string, p?: unknown[]) => Promise<pg.QueryResult>) => Promise<T>): Promise<T> {
    try {
      return await fn((sql, p) => this.pool.query(sql, p));
    } catch (e) {
      throw pgStoreError('read', e);
    }
  }

  async openSession(s: SessionStart): Promise<void> {
    // As in the SQLite store (SESSION_RECORDS_DURABLE): the next synchronous commit carries it.
    await this.writer.write(openOp(s, this.owner), SESSION_RECORDS_DURABLE);
  }

  async closeSession(id: string, endedAt: string): Promise<void> {
    text(id, 'session id');
    text(endedAt, 'endedAt');
    await this.writer.write(closeOp(id, endedAt), SESSION_RECORDS_DURABLE);
  }

  async recordIntent(c: CallIntent, opts: { durable?: boolean } = {}): Promise<void> {
    await this.writer.write(intentOp(c), opts.durable !== false);
  }

  async recordOutcome(callId: string, o: CallOutcome): Promise<void> {
    await this.writer.write(outcomeOp(callId, o, false));
  }

  listSessions(f: SessionFilter = {}): Promise<SessionRecord[]> {
    return this.read((q) => reads.pgListSessions(q, f));
  }
  getSession(id: string): Promise<{ session: SessionRecord; calls: CallRecord[] } | null> {
    return this.read((q) => reads.pgGetSession(q, id));
  }
  listCalls(f: CallFilter = {}): Promise<CallRecord[]> {
    return this.read((q) => reads.pgListCalls(q, f));
  }
  readRecords(fromSeq: number, limit: number): Promise<ChainRecord[]> {
    return this.read(async (q) => ((await q('SELECT * FROM records WHERE seq >= $1 ORDER BY seq LIMIT $2', [reads.seqArg(fromSeq, 'from'), reads.seqArg(limit, 'limit')])).rows as Record<string, unknown>[]).map(reads.toChainRecord));
  }
  searchSessions(f: SessionSearch): Promise<SessionPage> {
    return this.read((q) => reads.pgSearchSessions(q, f));
  }
  sessionInfo(id: string): Promise<SessionRecord | null> {
    return this.read((q) => reads.pgSessionInfo(q, id));
  }
  sessionCalls(sessionId: string, afterSeq: number, limit: number): Promise<CallRecord[]> {
    return this.read((q) => reads.pgSessionCalls(q, sessionId, afterSeq, limit));
  }
  sessionCallPreviews(sessionId: string, afterSeq: number, limit: number, chars: number): Promise<CallPreview[]> {
    return this.read((q) => pgCallPreviews(q, sessionId, reads.seqArg(afterSeq, 'after'), reads.seqArg(limit, 'limit'), reads.seqArg(chars, 'chars'))); }
  getCall(id: string): Promise<CallRecord | null> {
    return this.read(async (q) => {
      const r = (await q('SELECT * FROM calls WHERE id = $1', [id])).rows[0] as Record<string, unknown> | undefined;
      return r ? rowToCall(r) : null;
    });
  }
  headSeq(): Promise<number> {
    return this.read(async (q) => Number(((await q('SELECT seq FROM chain_head WHERE id = 1')).rows[0] as { seq: number } | undefined)?.seq ?? 0));
  }
  sessionRecords(sessionId: string, afterSeq: number, limit: number): Promise<ChainRecord[]> {
    return this.read((q) => reads.pgSessionRecords(q, sessionId, afterSeq, limit));
  }
  sessionEventRecords(sessionId: string, afterSeq: number, limit: number): Promise<ChainRecord[]> { return this.read((q) => reads.pgSessionRecords(q, sessionId, afterSeq, limit, true)); }
  readRecordsBetween(fromSeq: number, limit: number, since?: string, until?: string): Promise<ChainRecord[]> {
    return this.read((q) => reads.pgRecordsBetween(q, fromSeq, limit, since, until));
  }

  private async snapshot<T>(fn: (q: (sql: string, p?: unknown[]) => Promise<pg.QueryResult>) => Promise<T>): Promise<T> {
    let c: pg.PoolClient | undefined;
    try {
      c = await this.pool.connect();
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const r = await fn((sql, p) => c!.query(sql, p));
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c?.query('ROLLBACK').catch(() => undefined);
      throw pgStoreError('read', e);
    } finally {
      c?.release();
    }
  }

  verify(opts: VerifyOptions = {}): Promise<VerifyResult> { return this.snapshot((q) => pgVerifyStore(q, this.signer, opts, this.roles.tableOwner, this.roles.trustedRoles)); } // prettier-ignore

  chainHead(): Promise<ChainHeadInfo> {
    return this.snapshot((q) => pgChainHead(q, this.signer));
  }

  /** `warden transcripts adopt-head`: sign the head verify just checked, when there is none or (`over`) a tail beyond it (pg-signed-head.ts). */
  adoptHead(verified: { seq: number; hash: string }, over?: SignedHead): Promise<SignedHead> { return pgAdoptHead(this.pool, this.signer, verified, over); } // prettier-ignore
  /** The write path's signed-head check, once at startup (pg-writer.ts checkHead()). */
  checkHead(): Promise<string | null> { return this.writer.checkHead(); } // prettier-ignore
  verifyRange(fromSeq: number, toSeq: number): Promise<VerifyResult> {
    return this.snapshot((q) => pgVerifyChain(q, fromSeq, toSeq, false));
  }

  /** Retention: whole sessions that ended before `before` leave, a checkpoint record marks the cut. */
  purge(before: string, now = new Date().toISOString()): Promise<PurgeResult> {
    return this.writer.write(async (tx) => {
      try {
        return await pgPurgeBefore(tx, before, now, this.signer);
      } catch (e) {
        // A coded error fails this write alone (its savepoint), never the calls queued beside it.
        if (e instanceof WardenError) throw e;
        throw new WardenError(ErrorCode.TRANSCRIPT, `transcripts purge failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  /** Hold this replica's liveness lock (pg-liveness.ts). */
  holdLiveness(): Promise<void> {
    return this.liveness.hold();
  }

  /** Mark calls of dead replicas as interrupted, and free their rate-limit slots, every `everyMs` (pg-recovery.ts). */
  startSweeps(everyMs: number): void {
    scheduleSweeps(this.liveness, everyMs, () => this.freeWithinGrace, async () => {
      await Promise.all([this.markInterrupted().catch(() => undefined), this.rateCounters.sweep().catch(() => undefined)]);
    });
  }

  async clusterId(): Promise<string | null> {
    const sql = `SELECT ${PG_CLUSTER_ID_SQL} AS id`;
    return this.read(async (q) => ((await q(sql)).rows[0] as { id: string | null }).id);
  }

  async sharedSetting(name: string, create: () => string): Promise<string> {
    return this.read(async (q) => {
      await q('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, create()]);
      return String(((await q('SELECT value FROM settings WHERE name = $1', [name])).rows[0] as { value: string }).value);
    });
  }

  /**
   * Mark calls without an outcome of dead replicas as interrupted and close their sessions. Dead:
   * not this replica, and its liveness lock has been free for the grace (PgLiveness.ownerLive), so
   * a replica reconnecting its liveness connection keeps its running calls and open sessions.
   */
  async markInterrupted(now = new Date().toISOString()): Promise<RecoveryResult> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw pgStoreError('read', e);
    }
    let dead: DeadWork;
    try {
      dead = await findDeadWork(c, this.liveness);
      this.freeWithinGrace = dead.freeWithinGrace;
    } catch (e) {
      throw pgStoreError('read', e);
    } finally {
      c.release();
    }
    const interrupted = await Promise.all(dead.deadCalls.map((r) => this.writer.write(outcomeOp(r.id, interruptedOutcome(r.started_at, now), true))));
    const closed = await Promise.all(dead.deadSessions.map((id) => this.writer.write(closeOp(id, now))));
    return { interruptedCalls: interrupted.filter((x) => x === true).length, closedSessions: closed.filter((x) => x === true).length };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.idle();
    this.closed = true;
    this.writer.closed = true;
    await this.liveness.close();
    await this.pool.end().catch(() => undefined);
  }
}

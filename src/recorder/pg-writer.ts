/**
 * Group commit for the PostgreSQL store: writes queue, and one transaction per turn of the event
 * loop takes the chain-head row lock (`SELECT ... FOR UPDATE`), appends every queued record in
 * order, moves the head once and commits. Replicas serialise on that one row, so the hash chain
 * stays one chain; each write runs in a savepoint, so one refused write fails alone. With the
 * private key, the signed head is read under that lock before any append and signed in the same
 * transaction (pg-signed-head.ts); records beyond it refuse every append (unsigned tail).
 */
import type pg from 'pg';
import { ErrorCode, WardenError } from '../errors.js';
import { type RecordKind, recordHash } from './hash-chain.js';
import { itemError, pgStoreError } from './pg-errors.js';
import { AlreadyDone } from './store-errors.js';
import { HeadRefusal } from './head-refusal.js';
import { missingHeadReason, unsignedTailError } from './head-adopt.js';
import { writePgSignedHead } from './pg-signed-head.js';
import { type ChainSigner, signedHeadBlocks, trustKey } from './signing.js';

/** What a write sees: queries on the transaction's connection and the chain appender. */
export interface PgTx {
  q(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Append one record after the current head; returns its seq. */
  append(kind: RecordKind, refId: string, ts: string, body: string): Promise<number>;
}

/** One queued write; why: approval writes return rows, transcript writes nothing. */
export type PgOp<T> = (tx: PgTx) => Promise<T>;

interface Pending {
  run: PgOp<unknown>;
  durable: boolean;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

const MAX_BATCH = 256;

/**
 * What a key holder's transaction found under the chain-head lock, before its first append:
 * `refused`, why it signs nothing (the signed head is not valid, names no record of this chain, or
 * is missing); `tail`, the refusal of every append (records beyond a valid signed head).
 */
interface HeadGate {
  refused: string | null;
  tail?: WardenError;
}

function cutNumberOf(row: unknown): number | null {
  const v = (row as { s?: unknown } | undefined)?.s;
  return v === null || v === undefined ? null : Number(v);
}

/** The queue and its committer; why: one per store, so this replica holds the head lock at most once. */
export class PgWriter {
  private pending: Pending[] = [];
  private flushing = false;
  closed = false;

  constructor(
    private readonly pool: pg.Pool,
    /** With transcripts.signing_key: sign the new head, in the transaction that moves it. */
    private readonly signer?: ChainSigner,
    /** Told each signing attempt's outcome (head-refusal.ts: the store exposes it, the server logs it). */
    readonly refusal = new HeadRefusal(),
  ) {}

  /** The signature this replica last wrote or checked; why: not checked again on every commit. */
  private trusted: string | undefined;

  /**
   * Read the signed head under the chain-head lock this transaction holds, before any append, so
   * no other replica's commit falls between this check and the appends. Every key holder signs in
   * the transaction that moves the head, under the same lock, so a valid signed head behind the
   * head found here names records written without the key (a plain connection, a replica without
   * the private key): every append of this transaction is refused, as on SQLite. A signed head
   * that is forged or names a record this chain no longer holds (cut or rewritten) is reported and
   * left for verify; no signed head is signed only over a chain found empty (head-adopt.ts).
   */
  private async gate(c: pg.ClientBase, before: { seq: number; hash: string }): Promise<HeadGate> {
    const b = await this.blocks((sql) => c.query(sql));
    const refused = b.refused ?? (b.seq === undefined && before.seq > 0 ? missingHeadReason() : null);
    return !refused && b.seq !== undefined && b.seq < before.seq ? { refused, tail: unsignedTailError(b.seq, before) } : { refused };
  }

  /** Sign the new head in the transaction that moved it, unless the gate refused. */
  private async sign(c: pg.ClientBase, seq: number, hash: string, gate: HeadGate): Promise<void> {
    this.refusal.report(gate.refused);
    if (gate.refused) return;
    const signed = this.signer!.signHead!(seq, hash);
    await writePgSignedHead(c, signed);
    this.trusted = trustKey(signed);
  }

  /** Why the stored signed head may not be followed (signedHeadBlocks), and its trust key (trustKey). */
  private async blocks(q: (sql: string) => Promise<pg.QueryResult>): Promise<{ refused: string | null; key?: string; seq?: number }> {
    const r = (await q(
      `SELECT s.seq, s.hash, s.signed_at, s.key_id, s.signature, r.hash AS at FROM signed_head s LEFT JOIN records r ON r.seq = s.seq WHERE s.id = 1`,
    )).rows[0] as Record<string, unknown> | undefined;
    const cur = r ? { seq: Number(r.seq), hash: String(r.hash), signedAt: String(r.signed_at), keyId: String(r.key_id), signature: String(r.signature) } : null;
    const cutSeq = cur && r?.at === null ? cutNumberOf((await q('SELECT MAX(cut_seq) AS s FROM checkpoints')).rows[0]) : null;
    const refused = signedHeadBlocks(cur, this.signer!, () => (r?.at === null ? undefined : String(r?.at)), () => cutSeq, this.trusted);
    return cur ? { refused, key: trustKey(cur), seq: cur.seq } : { refused };
  }

  /**
   * The write path's head check, once at startup (serve): a stored signed head this replica would
   * refuse to sign over is reported now (warned about once, `found: startup`), not at its first
   * write; records beyond a valid signed head (appended since the store opened) refuse the start.
   * Two small queries, no chain walk; a head that passes is trusted by the next write.
   */
  async checkHead(): Promise<string | null> {
    if (!this.signer?.signHead) return null;
    let r: { refused: string | null; key?: string; seq?: number };
    let head: { seq: number; hash: string };
    try {
      // The chain head first: another replica's commit between the two reads then moves the signed
      // head past it (never a false tail), as it moves both in one transaction.
      const h = (await this.pool.query('SELECT seq, hash FROM chain_head WHERE id = 1')).rows[0] as { seq?: unknown; hash?: unknown } | undefined;
      head = { seq: Number(h?.seq ?? 0), hash: String(h?.hash ?? '') };
      r = await this.blocks((sql) => this.pool.query(sql));
    } catch (e) {
      throw pgStoreError('open', e);
    }
    if (!r.refused && r.seq !== undefined && r.seq < head.seq) throw unsignedTailError(r.seq, head, 'open for writing');
    if (!r.refused && r.seq === undefined && head.seq > 0) r.refused = missingHeadReason();
    this.refusal.report(r.refused, 'startup');
    if (!r.refused && r.key !== undefined) this.trusted = r.key;
    return r.refused;
  }

  /** Queue op; resolves once its transaction committed (durable unless durable === false). */
  write<T>(op: PgOp<T>, durable = true): Promise<T> {
    if (this.closed) return Promise.reject(new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run: op, durable, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Wait until nothing is queued or committing. */
  async idle(): Promise<void> {
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length) await this.commit(this.pending.splice(0, MAX_BATCH));
    } finally {
      this.flushing = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      const err = pgStoreError('write', e);
      for (const b of batch) b.reject(err);
      return;
    }
    const results: Array<{ ok: true; v: unknown } | { ok: false; e: unknown }> = [];
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      // Read-only intents alone: commit without waiting for the WAL flush; the outcome's commit makes them durable.
      if (!batch.some((b) => b.durable)) await c.query('SET LOCAL synchronous_commit = off');
      const h = (await c.query('SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE')).rows[0] as { seq: number; hash: string } | undefined;
      if (!h) throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: chain head row is missing');
      const head = { seq: Number(h.seq), hash: String(h.hash) };
      const gate = this.signer?.signHead ? await this.gate(c, { ...head }) : undefined;
      const tx: PgTx = {
        q: (sql, params) => c.query(sql, params),
        async append(kind, refId, ts, body) {
          if (gate?.tail) throw gate.tail; // this write alone fails (its savepoint rolls back): so does every write that appends
          const seq = head.seq + 1;
          const hash = recordHash(head.hash, kind, refId, ts, body);
          await c.query('INSERT INTO records (seq, kind, ref_id, ts, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)', [seq, kind, refId, ts, body, head.hash, hash]);
          head.seq = seq;
          head.hash = hash;
          return seq;
        },
      };
      for (const b of batch) {
        const saved = { ...head };
        await c.query('SAVEPOINT w');
        try {
          const v = await b.run(tx);
          await c.query('RELEASE SAVEPOINT w');
          results.push({ ok: true, v });
        } catch (e) {
          // A refusal (unknown session, duplicate id, unstorable text) fails this write alone; anything else, the batch.
          if (!(e instanceof WardenError || e instanceof AlreadyDone || itemError(e))) throw e;
          await c.query('ROLLBACK TO SAVEPOINT w');
          Object.assign(head, saved);
          results.push({ ok: false, e });
        }
      }
      await c.query('UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1', [head.seq, head.hash]);
      if (gate && head.seq !== Number(h.seq)) await this.sign(c, head.seq, head.hash, gate);
      await c.query('COMMIT');
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e));
      await c.query('ROLLBACK').catch(() => undefined);
      const err = pgStoreError('write', e);
      for (const b of batch) b.reject(err);
      return;
    } finally {
      c.release(broken);
    }
    batch.forEach((b, i) => {
      const r = results[i]!;
      if (r.ok) b.resolve(r.v);
      else if (r.e instanceof AlreadyDone) b.resolve(undefined);
      else b.reject(pgStoreError('write', r.e));
    });
  }
}

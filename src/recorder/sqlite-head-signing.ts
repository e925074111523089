/**
 * The signed chain head of a SQLite store, signed inside each write transaction (one signature per
 * commit: a group-commit batch, an approval write, a purge), into the `signed_head` row
 * (sqlite-signed-head.ts), so a commit and its signature land together or not at all. Every key
 * holder signs under the same write lock, so the records beyond the signed head when a transaction
 * starts were written without the key: the write is refused (unsignedTailError) and rolls back.
 * A signed head that is not valid or no longer names a record of the chain (cut or rewritten) is
 * reported (head-refusal.ts) and new records are left unsigned, for verify to report.
 */
import type Database from 'better-sqlite3';
import { HeadRefusal } from './head-refusal.js';
import { latestCheckpoint } from './sqlite-purge.js';
import { adoptSqliteHead, missingHeadReason, unsignedTailError } from './head-adopt.js';
import { type ChainSigner, signedHeadBlocks, trustKey } from './signing.js';
import { readHeadRow, writeHeadRow } from './sqlite-signed-head.js';
import { storeError } from './store-errors.js';
import type { SignedHead } from './types.js';

/** Signs the head of one store file (a no-op without a private key, in memory, or read-only). */
export class SqliteHeadSigner {
  private headStmt: Database.Statement | null = null;
  private hashStmt: Database.Statement | null = null;
  /** The signature this connection last wrote or checked; why: not checked again on every commit. */
  private trusted: string | undefined;
  /** The first record the current transaction appended, or null; why: only its own records may be signed over. */
  private firstOwn: number | null = null;
  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly readonly: boolean,
    private readonly signer: ChainSigner | undefined,
    /** Told each signing attempt's outcome (head-refusal.ts: the store exposes it, the server logs it). */
    private readonly refusal: HeadRefusal = new HeadRefusal(),
  ) {}

  /** Why the signed head was last left in place (a cut or rewritten chain), or null. */
  get refused(): string | null {
    return this.refusal.reason;
  }

  private get active(): boolean {
    return Boolean(this.signer?.signHead) && this.path !== ':memory:' && !this.readonly;
  }

  private head(): { seq: number; hash: string } | undefined {
    this.headStmt ??= this.db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1');
    return this.headStmt.get() as { seq: number; hash: string } | undefined;
  }

  /** A write transaction starts (before its first append). */
  begin(): void {
    this.firstOwn = null;
  }

  /** Note a record this transaction appended (O(1): only the first is kept). */
  wrote(seq: number): void {
    if (this.firstOwn === null || seq < this.firstOwn) this.firstOwn = seq;
  }

  /**
   * Sign the head inside the write transaction, just before it commits. Throws (rolling the whole
   * transaction back) when records beyond the signed head precede this transaction's own.
   */
  signInTx(): void {
    const first = this.firstOwn;
    this.firstOwn = null;
    if (!this.active || first === null) return;
    const h = this.head();
    if (!h || h.seq < first) return; // every record it appended rolled back (a refused write)
    const cur = readHeadRow(this.db);
    const refused = this.blocks(cur) ?? (cur === null && first > 1 ? missingHeadReason() : null);
    this.refusal.report(refused);
    if (refused) return;
    const signedSeq = cur === null || cur === 'malformed' ? 0 : cur.seq;
    // The error names the head before this transaction's records (they roll back with it).
    if (signedSeq < first - 1) throw unsignedTailError(signedSeq, { seq: first - 1, hash: this.hashAt(first - 1) ?? '' });
    let signed: SignedHead;
    try {
      signed = this.signer!.signHead!(h.seq, h.hash);
      writeHeadRow(this.db, signed);
    } catch (err) {
      throw storeError('write', err);
    }
    this.trusted = trustKey(signed);
  }

  private blocks(cur: SignedHead | null | 'malformed'): string | null {
    return signedHeadBlocks(cur, this.signer!, (s) => this.hashAt(s), () => latestCheckpoint(this.db)?.cutSeq ?? null, this.trusted);
  }

  /**
   * The write path's head check, run once when the server starts (the store just opened): a
   * signed head the key holder would refuse to sign over is reported now (warned about once, at
   * startup) instead of at the first write. Cheap: one row, one signature, one lookup.
   * A head that passes is trusted, so the first write does not check its signature again.
   */
  check(): string | null {
    if (!this.active) return null;
    try {
      const cur = readHeadRow(this.db);
      const refused = this.blocks(cur);
      this.refusal.report(refused, 'startup');
      if (!refused && cur !== null && cur !== 'malformed') this.trusted = trustKey(cur);
      return refused;
    } catch (err) {
      throw storeError('open', err);
    }
  }

  private hashAt(seq: number): string | undefined {
    this.hashStmt ??= this.db.prepare('SELECT hash FROM records WHERE seq = ?').pluck();
    return this.hashStmt.get(seq) as string | undefined;
  }

  /**
   * `warden transcripts adopt-head`: sign the verified head of a store that has none, or (`over`:
   * the valid signed head it found) of one whose chain goes on beyond it (head-adopt.ts).
   */
  adopt(verified: { seq: number; hash: string }, over?: SignedHead): SignedHead {
    const signed = adoptSqliteHead(this.db, this.path, this.readonly ? undefined : this.signer, verified, over);
    this.trusted = trustKey(signed);
    return signed;
  }
}

/**
 * The signed chain head of a SQLite store: after every commit the head (seq, hash) is signed with
 * the configured Ed25519 key and written beside the file (`<store>.head`, signing.ts), so verify
 * can tell a truncated tail from a chain that simply ended. Why apart: the store's write path
 * only says "a commit landed".
 */
import type Database from 'better-sqlite3';
import { HeadRefusal } from './head-refusal.js';
import { latestCheckpoint } from './sqlite-purge.js';
import { adoptSqliteHead, missingHeadReason } from './head-adopt.js';
import { type ChainSigner, readSignedHead, signedHeadBlocks, writeSignedHead } from './signing.js';
import { storeError } from './store-errors.js';
import type { SignedHead } from './types.js';

/** Passes of sign(): write, then re-sign while other commits moved the head on meanwhile. */
const MAX_SIGN_PASSES = 8;

/** foreign(): another key holder signed meanwhile; look at the head again. */
const RETRY = Symbol('retry');
/**
 * How long a write waits for another key holder to sign the records it committed just before
 * (it signs right after its commit), before taking them for records no key holder wrote.
 */
const RACE_WAIT_MS = 250;
const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/** What `serve` says when it signs records a crash (or someone without the key) left unsigned. */
export const ADOPT_WARNING =
  'transcripts: records newer than the signed head were not signed (a crash between a commit and its signature leaves a few; otherwise they were written without the key) and are signed now: run `warden transcripts verify`, and compare them with what you expect';

/** Signs the head of one store file (a no-op without a private key, in memory, or read-only). */
export class SqliteHeadSigner {
  private headStmt: Database.Statement | null = null;
  private hashStmt: Database.Statement | null = null;
  /** The signature this connection last wrote or checked; why: not checked again on every commit. */
  private trusted: string | undefined;
  /** Records this connection appended since its last signature (some may have rolled back). */
  private own: Array<{ seq: number; hash: string }> = [];
  /** The signed seq at which the last sign() met records it did not write; why: a second time is no race. */
  private gapAt: number | null = null;
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

  /** Sign the committed head; a failure here is loud but the record is already durable. */
  sign(seq: number, hash: string): void {
    if (!this.active) return;
    try {
      // Two connections of one file (the writer thread, the main one) sign after their own
      // commits: the head never moves back to an older record of this same chain, which would
      // leave the newer records unsigned (and so truncatable). The check and the rename are not
      // one step: the other connection may commit and sign a newer head in between, which our
      // rename then replaces. So whoever renames last looks at the committed head again and
      // signs it if it moved on; each pass only moves forward, and a few are plenty.
      let at = { seq, hash };
      for (let pass = 0; pass < MAX_SIGN_PASSES; pass++) {
        const cur = readSignedHead(this.path);
        if (this.newerSigned(cur, at.seq)) return;
        // Never sign over a chain that no longer holds the signed head (red-team: cut or rewritten
        // by someone without the key, then laundered by our next signature): leave it for verify.
        const refused = this.blocks(cur) ?? this.foreign(cur);
        if (refused === RETRY) continue;
        this.refusal.report(refused);
        if (refused) return;
        const signed = this.signer!.signHead!(at.seq, at.hash);
        writeSignedHead(this.path, signed);
        this.trusted = signed.signature;
        this.gapAt = null;
        const covered = at.seq;
        this.own = this.own.filter((o) => o.seq > covered);
        const now = this.head();
        if (!now || now.seq <= at.seq) return;
        at = now;
      }
    } catch (err) {
      throw storeError('write', err);
    }
  }

  /** Note a record this connection appended (inside its transaction); why: only these may be signed over. */
  wrote(seq: number, hash: string): void {
    if (this.active) this.own.push({ seq, hash });
  }

  /**
   * Records between the signed head and this connection's first unsigned one were committed by
   * another key holder that has not signed yet (it signs right after its commit), by a process that
   * crashed before signing, or by someone without the key. Signing now would vouch for them
   * (red-team: a forged outcome appended to the file was signed by the next write). So this write
   * waits briefly for the signed head to reach them (RETRY), and otherwise leaves the head as it is
   * with a refusal (warned about once); a gap it already waited for is refused at once.
   */
  private foreign(cur: ReturnType<typeof readSignedHead>): string | null | typeof RETRY {
    if (cur === 'malformed') return null;
    // No signed head: signed only when this connection wrote the chain from its first record
    // (an empty store); otherwise the head was deleted (head-adopt.ts), never trusted on first use.
    const signedSeq = cur?.seq ?? 0;
    const from = this.firstOwn();
    if (from === null) return cur === null && this.head() ? missingHeadReason() : null;
    if (signedSeq >= from - 1) return null;
    const reason = cur === null ? missingHeadReason() : `record ${signedSeq + 1}, after the signed head ${signedSeq}, was not signed by a key holder (written without the key, or left by a crash: \`warden serve\` signs those when it starts, with a warning): the records after it are left unsigned`;
    if (this.gapAt === signedSeq) return reason;
    this.gapAt = signedSeq;
    for (const end = Date.now() + RACE_WAIT_MS; Date.now() < end;) {
      Atomics.wait(SLEEP, 0, 0, 2);
      const now = readSignedHead(this.path);
      if (now !== null && now !== 'malformed' && now.seq >= from - 1) return RETRY;
    }
    return reason;
  }

  /** The first record this connection committed that no signature covers yet, or null. */
  private firstOwn(): number | null {
    const first = this.own.find((o) => this.hashAt(o.seq) === o.hash);
    this.own = first ? [first, ...this.own.filter((o) => o.seq > first.seq)] : [];
    return first?.seq ?? null;
  }

  /**
   * When `serve` opens the store: records newer than a valid signed head were left by a crash
   * between a commit and its signature (or written without the key, which cannot be told apart).
   * They are signed now, so the store signs on, and the operator is warned with their range.
   */
  adoptUnsignedTail(onWarning?: (message: string, fields: Record<string, unknown>) => void): void {
    if (!this.active) return;
    try {
      const cur = readSignedHead(this.path);
      if (cur === null || cur === 'malformed' || this.blocks(cur)) return; // checkHead reports those
      const h = this.head();
      if (!h || h.seq <= cur.seq) return;
      onWarning?.(ADOPT_WARNING, { from: cur.seq + 1, to: h.seq, signedHead: cur.seq, found: 'startup' });
      const signed = this.signer!.signHead!(h.seq, h.hash);
      writeSignedHead(this.path, signed);
      this.trusted = signed.signature;
    } catch (err) {
      throw storeError('open', err);
    }
  }

  private blocks(cur: ReturnType<typeof readSignedHead>): string | null {
    return signedHeadBlocks(cur, this.signer!, (s) => this.hashAt(s), () => latestCheckpoint(this.db)?.cutSeq ?? null, this.trusted);
  }

  /**
   * The write path's head check, run once when the server starts (the store just opened): a
   * signed head the key holder would refuse to sign over is reported now (warned about once, at
   * startup) instead of at the first write. Cheap: one small file, one signature, one lookup.
   * A head that passes is trusted, so the first write does not check its signature again.
   */
  check(): string | null {
    if (!this.active) return null;
    try {
      const cur = readSignedHead(this.path);
      const refused = this.blocks(cur);
      this.refusal.report(refused, 'startup');
      if (!refused && cur !== null && cur !== 'malformed') this.trusted = cur.signature;
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
   * A signed head beside the file already names a newer record of this chain. Its signature is
   * not checked here: a forged file that names a newer record by its true hash is left for
   * verify, which reports the bad signature.
   */
  private newerSigned(cur: ReturnType<typeof readSignedHead>, seq: number): boolean {
    if (cur === null || cur === 'malformed' || cur.seq <= seq) return false;
    return this.hashAt(cur.seq) === cur.hash;
  }

  /** `warden transcripts adopt-head`: sign the verified head of a store that has none (head-adopt.ts). */
  adopt(verified: { seq: number; hash: string }): SignedHead {
    const signed = adoptSqliteHead(this.db, this.path, this.readonly ? undefined : this.signer, verified);
    this.trusted = signed.signature;
    return signed;
  }

  /** Sign whatever the head is now (after a commit). */
  signCurrent(): void {
    if (!this.active) return;
    const h = this.head();
    if (h) this.sign(h.seq, h.hash);
  }
}

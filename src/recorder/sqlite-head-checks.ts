/**
 * The whole-store verify of a SQLite file and its head: the chain walk (sqlite-verify.ts), then,
 * on the same read transaction, the signed head row (sqlite-signed-head.ts) and any anchors the
 * operator copied off the host (verify-anchors.ts). Why apart: sqlite-store.ts is the write path.
 * Records beyond the signed head are a break: a key holder signs in the commit of its records.
 */
import type Database from 'better-sqlite3';
import { chainHeadInfo, compareSignedHead, type ChainSigner } from './signing.js';
import { readHeadRow } from './sqlite-signed-head.js';
import { latestCheckpoint } from './sqlite-purge.js';
import { verifyChain } from './sqlite-verify.js';
import type { ChainHeadInfo, VerifyOptions, VerifyResult } from './types.js';
import { anchorMismatch, unsignedTailBreak, withHeadChecks } from './verify-anchors.js';

/** Verify the whole chain of one file; why: the store's verify() in one call (run it in a read transaction). */
export function verifySqliteStore(db: Database.Database, path: string, signer: ChainSigner | undefined, opts: VerifyOptions): VerifyResult {
  const v = verifyChain(db, 1, Number.MAX_SAFE_INTEGER, true, signer);
  if (!v.ok) return v;
  const byHash = db.prepare('SELECT hash FROM records WHERE seq = ?').pluck();
  const hashAt = (seq: number) => byHash.get(seq) as string | undefined;
  const row = path === ':memory:' ? null : readHeadRow(db);
  const unsigned = opts.adopting && row === null; // adopt-head: no head yet is no break
  const signed = signer && path !== ':memory:' && !unsigned ? unsignedTailBreak(compareSignedHead(row, 'in the store', signer, v.head, hashAt), v.head, opts.adopting === true) : undefined;
  const anchors = opts.anchors?.length ? anchorMismatch(opts.anchors, hashAt, v.head, v.checkpoint) : undefined;
  return withHeadChecks(v, signed, anchors);
}

/** The newest record and the signed head row; why: `transcripts head` prints them without a walk. */
export function sqliteChainHead(db: Database.Database, path: string, signer: ChainSigner | undefined): ChainHeadInfo {
  const head = db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  const byHash = db.prepare('SELECT hash FROM records WHERE seq = ?').pluck();
  const hashAt = (seq: number) => byHash.get(seq) as string | undefined;
  return chainHeadInfo(head, path === ':memory:' ? null : readHeadRow(db), signer, hashAt, () => latestCheckpoint(db)?.cutSeq ?? null);
}

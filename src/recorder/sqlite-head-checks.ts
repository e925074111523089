/**
 * The whole-store verify of a SQLite file and its head: the chain walk (sqlite-verify.ts), then,
 * on the same read transaction, the signed head beside the file (signing.ts) and any anchors the
 * operator copied off the host (verify-anchors.ts). Why apart: sqlite-store.ts is the write path.
 */
import type Database from 'better-sqlite3';
import { chainHeadInfo, checkSignedHead, readSignedHead, type ChainSigner } from './signing.js';
import { latestCheckpoint } from './sqlite-purge.js';
import { verifyChain } from './sqlite-verify.js';
import type { ChainHeadInfo, VerifyOptions, VerifyResult } from './types.js';
import { anchorMismatch, withHeadChecks } from './verify-anchors.js';

/** Verify the whole chain of one file; why: the store's verify() in one call (run it in a read transaction). */
export function verifySqliteStore(db: Database.Database, path: string, signer: ChainSigner | undefined, opts: VerifyOptions): VerifyResult {
  const v = verifyChain(db, 1, Number.MAX_SAFE_INTEGER, true, signer);
  if (!v.ok) return v;
  const byHash = db.prepare('SELECT hash FROM records WHERE seq = ?').pluck();
  const hashAt = (seq: number) => byHash.get(seq) as string | undefined;
  const unsigned = opts.adopting && path !== ':memory:' && readSignedHead(path) === null; // adopt-head: no head yet is no break
  const signed = signer && path !== ':memory:' && !unsigned ? checkSignedHead(path, signer, v.head, hashAt) : undefined;
  const anchors = opts.anchors?.length ? anchorMismatch(opts.anchors, hashAt, v.head, v.checkpoint) : undefined;
  return withHeadChecks(v, signed, anchors);
}

/** The newest record and the signed head file; why: `transcripts head` prints them without a walk. */
export function sqliteChainHead(db: Database.Database, path: string, signer: ChainSigner | undefined): ChainHeadInfo {
  const head = db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  const byHash = db.prepare('SELECT hash FROM records WHERE seq = ?').pluck();
  const hashAt = (seq: number) => byHash.get(seq) as string | undefined;
  return chainHeadInfo(head, path === ':memory:' ? null : readSignedHead(path), signer, hashAt, () => latestCheckpoint(db)?.cutSeq ?? null);
}

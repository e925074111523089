/**
 * A key holder never signs a non-empty chain that has no signed head. Why: trust on first use let
 * whoever could write the store (not the key) delete the head file or `signed_head` row, rewrite
 * or cut the chain, and have the next key-holding write sign it. An empty store is signed from its
 * first record; a non-empty one without a head (a store from before signing, a key newly
 * configured, a deleted head) is refused for writing until an operator runs `warden transcripts
 * adopt-head`, which verifies the whole chain and then signs its head (SQLite here; PostgreSQL:
 * pg-signed-head.ts). The messages both stores use are here too.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, WardenError } from '../errors.js';
import type { ChainSigner } from './signing.js';
import { readHeadRow, writeHeadRow } from './sqlite-signed-head.js';
import type { SignedHead } from './types.js';

/** The `reason` detail of the refusal; why: scripts match on it, not on the message. */
export const NO_SIGNED_HEAD = 'no signed head';

/** The command that fixes it, as the operator runs it. */
export const ADOPT_COMMAND = 'warden transcripts adopt-head';

/** The `reason` detail of the refusal to write over records beyond the signed head; scripts match on it. */
export const UNSIGNED_TAIL = 'unsigned tail';

/** Opening a non-empty store without a signed head for writing, with a key: refused, naming the fix. */
export function unsignedStoreError(head: { seq: number; hash: string }, where: string): WardenError {
  return new WardenError(
    ErrorCode.TRANSCRIPT,
    `transcript store cannot open for writing: it holds ${head.seq} records but no signed head ${where}, and transcripts.signing_key is set. ` +
      'Warden signs only a chain it has seen signed: this is a store written before a key was configured (an upgrade, or a key newly set), or its signed head was deleted, after which the records may have been rewritten without the key. ' +
      `Check the chain and sign its head: stop every Warden writing this store, then run \`${ADOPT_COMMAND}\` with the same --config ` +
      '(add `--expect-head SEQ:HASH` with an anchor kept off the host, if you have one); it verifies the whole chain first and then trusts every record up to its head',
    { reason: NO_SIGNED_HEAD, head: head.seq },
  );
}

/** The refusal with the config file named in the command (`serve` knows it); anything else as it is. */
export function namingConfig(e: unknown, configPath: string): unknown {
  if (!(e instanceof WardenError) || e.details.reason !== NO_SIGNED_HEAD) return e;
  const cmd = `${ADOPT_COMMAND} --config ${/^[\w./@:+-]+$/.test(configPath) ? configPath : `'${configPath.replace(/'/g, "'\\''")}'`}`;
  return new WardenError(e.code, e.message.replace(`\`${ADOPT_COMMAND}\` with the same --config`, `\`${cmd}\``), e.details);
}

/** Why a write leaves a non-empty chain without a signed head unsigned (the head went missing while Warden ran). */
export function missingHeadReason(): string {
  return `no signed head, and the chain holds records this key holder did not write from an empty store (the signed head was deleted?): new records are left unsigned; run \`warden transcripts verify\`, then \`${ADOPT_COMMAND}\` with every Warden stopped`;
}

function newest(db: Database.Database): { seq: number; hash: string } | undefined {
  return db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
}

/**
 * At open for writing (not by adopt-head): refuse a non-empty store that has no signed head, and
 * one whose chain goes on beyond a valid signed head (the head is signed in the commit of its
 * records, sqlite-signed-head.ts, so those records were written without the key). A signed head
 * that is not valid or no longer names a record of the chain is left to the write path's check
 * (sqlite-head-signing.ts: reported, and new records are left unsigned).
 */
export function requireSqliteSignedHead(db: Database.Database, path: string, signer: ChainSigner | undefined): void {
  if (!signer?.signHead || path === ':memory:') return;
  const h = newest(db);
  if (!h) return;
  const cur = readHeadRow(db);
  if (cur === null) throw unsignedStoreError(h, 'in the store (table signed_head)');
  if (cur === 'malformed' || cur.seq >= h.seq || !signer.check(cur)) return;
  const at = db.prepare('SELECT hash FROM records WHERE seq = ?').pluck().get(cur.seq);
  if (at === cur.hash) throw unsignedTailError(cur.seq, h, 'open for writing');
}

/** Writing over records that no key holder signed: refused (the write rolls back), naming the fix. */
export function unsignedTailError(signed: number, head: { seq: number; hash: string }, verb = 'write'): WardenError {
  return new WardenError(
    ErrorCode.TRANSCRIPT,
    `transcript store cannot ${verb}: records ${signed + 1}-${head.seq} are newer than the signed head ${signed} and unsigned. ` +
      'A key holder signs the head in the same commit as its records, so they were written without the key (or by a Warden before the signed head moved into the store that stopped between a commit and its signature). ' +
      `Check them (\`warden transcripts verify\`, \`warden transcripts show\`), then, with every Warden stopped, run \`${ADOPT_COMMAND} --expect-head ${head.seq}:${head.hash}\` with the same --config to sign them`,
    { reason: UNSIGNED_TAIL, signedHead: signed, head: head.seq },
  );
}

/** Refusals of adopt-head itself; why: one wording for both stores. */
export function adoptRefusal(why: string): WardenError {
  return new WardenError(ErrorCode.TRANSCRIPT, `transcripts adopt-head: ${why}; nothing was signed`, { reason: 'adopt-head refused' });
}

/**
 * Sign the head `verified` (the end of the chain verify just walked), in one IMMEDIATE transaction
 * so no writer moves the head meanwhile; refused when the head moved, or when a signed head exists,
 * unless `over` names it (adopt-head --expect-head on records beyond a valid signed head).
 */
export function adoptSqliteHead(db: Database.Database, path: string, signer: ChainSigner | undefined, verified: { seq: number; hash: string }, over?: SignedHead): SignedHead {
  if (!signer?.signHead) throw adoptRefusal('transcripts.signing_key must be the private key');
  if (path === ':memory:') throw adoptRefusal('an in-memory store has no signed head');
  return db.transaction(() => {
    const cur = readHeadRow(db);
    if (cur !== null && (!over || cur === 'malformed' || cur.signature !== over.signature || cur.seq !== over.seq || cur.hash !== over.hash || cur.seq >= verified.seq)) {
      throw adoptRefusal('the store already has a signed head');
    }
    const h = newest(db);
    if (!h || h.seq !== verified.seq || h.hash !== verified.hash) throw adoptRefusal('the store changed while it was verified (is a Warden still writing it?)');
    const signed = signer.signHead!(h.seq, h.hash);
    writeHeadRow(db, signed);
    return signed;
  }).immediate();
}

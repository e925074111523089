/**
 * Chain-head signing: an Ed25519 signature over (seq, hash) of the newest record, kept in the
 * store (a `signed_head` row, written in the commit of the records it covers: pg-writer.ts,
 * sqlite-signed-head.ts). Deleting the tail of the chain (and the rows it backs) leaves a store
 * that hashes cleanly, but no longer contains the signed head: verify reports it. A SQLite store
 * before schema v13 kept it in a file beside the store (`<store>.head`, read here once, when the
 * store migrates).
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ErrorCode, WardenError } from '../errors.js';
import { AtRestRefusal, readPrivateFile, writePrivateFileAtomic } from './at-rest.js';
import type { ChainHeadInfo, SignedHead } from './types.js';

/** Signs and checks chain heads; why: the store and verify share one key handling. */
export interface ChainSigner {
  readonly keyId: string;
  /** Absent when only a public key was given (verify-only). */
  signHead?(seq: number, hash: string, at?: string): SignedHead;
  check(h: SignedHead): boolean;
  /** Signature over an arbitrary canonical text (retention checkpoints). */
  signText?(text: string): string;
  checkText(text: string, signature: string): boolean;
}

/** The signed message; why: a fixed prefix keeps a head signature from meaning anything else. */
export function headMessage(seq: number, hash: string): string {
  return `warden-chain-head\n${seq}\n${hash}`;
}

function keyIdOf(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/**
 * Build a signer from PEM text: an Ed25519 private key (sign and verify) or public key (verify only).
 * Why: `transcripts.signing_key: file:...` resolves to this text; nothing else ever sees it.
 */
export function createChainSigner(pem: string): ChainSigner {
  let priv: KeyObject | null = null;
  let pub: KeyObject;
  try {
    if (/PRIVATE KEY/.test(pem)) {
      priv = createPrivateKey(pem);
      pub = createPublicKey(priv);
    } else {
      pub = createPublicKey(pem);
    }
  } catch {
    throw new WardenError(ErrorCode.CONFIG, 'transcripts.signing_key: not a PEM Ed25519 key');
  }
  if (pub.asymmetricKeyType !== 'ed25519') {
    throw new WardenError(ErrorCode.CONFIG, 'transcripts.signing_key: the key must be Ed25519');
  }
  const keyId = keyIdOf(pub);
  const checkText = (text: string, signature: string): boolean => {
    try {
      return verify(null, Buffer.from(text, 'utf8'), pub, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  };
  const signer: ChainSigner = {
    keyId,
    check: (h) => h.keyId === keyId && checkText(headMessage(h.seq, h.hash), h.signature),
    checkText,
  };
  if (priv) {
    const key = priv;
    signer.signText = (text) => sign(null, Buffer.from(text, 'utf8'), key).toString('base64');
    signer.signHead = (seq, hash, at = new Date().toISOString()) => ({
      seq, hash, signedAt: at, keyId, signature: sign(null, Buffer.from(headMessage(seq, hash), 'utf8'), key).toString('base64'),
    });
  }
  return signer;
}

/** Where a SQLite store before schema v13 kept its signed head (copied into the store by the v13 migration). */
export function headPath(storePath: string): string {
  return `${storePath}.head`;
}

/** Largest signed head file read (one is about 250 bytes). */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Write a pre-v13 signed head file atomically (tests build such stores) (temp file + rename; at-rest.ts: created 0600 and exclusively,
 * so a link planted at the temp name is never written through); why: a crash never leaves half a signature.
 */
export function writeSignedHead(storePath: string, h: SignedHead): void {
  writePrivateFileAtomic(headPath(storePath), JSON.stringify(h) + '\n');
}

/**
 * Read the signed head, or null when there is none; a malformed file reads as a forged one. A
 * symbolic link at its name (or anything but a regular file) is refused with a coded error:
 * never followed (a link to /dev/zero or a FIFO would never end, one to a file someone else
 * writes would let them choose the head).
 */
export function readSignedHead(storePath: string): SignedHead | null | 'malformed' {
  let text: string;
  try {
    const r = readPrivateFile(headPath(storePath), 'the signed head file beside the transcript store', MAX_HEAD_BYTES);
    if (r === null) return null;
    text = r.text;
  } catch (e) {
    if (e instanceof AtRestRefusal) throw new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot read its signed head: ${e.message}`);
    return 'malformed';
  }
  try {
    const v = JSON.parse(text) as Partial<SignedHead>;
    if (typeof v.seq !== 'number' || typeof v.hash !== 'string' || typeof v.signature !== 'string' || typeof v.keyId !== 'string') {
      return 'malformed';
    }
    return { seq: v.seq, hash: v.hash, signedAt: String(v.signedAt ?? ''), keyId: v.keyId, signature: v.signature };
  } catch {
    return 'malformed';
  }
}

/** What comparing a chain with its signed head found. */
export interface SignedHeadCheck {
  broken?: { seq: number; reason: string };
  signedHead?: SignedHead;
  unsignedTail?: number;
}

/** Compare a chain with a signed head read from anywhere (`where` names the place in messages). */
export function compareSignedHead(
  h: SignedHead | null | 'malformed',
  where: string,
  signer: ChainSigner,
  head: { seq: number; hash: string } | undefined,
  hashAt: (seq: number) => string | undefined,
): SignedHeadCheck {
  const end = head?.seq ?? 0;
  if (h === null) {
    return end === 0 ? {} : { broken: { seq: end, reason: `no signed head ${where} (removed?)` } };
  }
  if (h === 'malformed' || !signer.check(h)) {
    return { broken: { seq: end, reason: 'the signed head does not carry a valid signature of the configured key' } };
  }
  if (h.seq > end) {
    return { signedHead: h, broken: { seq: end + 1, reason: `tail truncated: the signed head is record ${h.seq}, the store ends at ${end}` } };
  }
  const at = hashAt(h.seq);
  if (at !== h.hash) {
    return { signedHead: h, broken: { seq: h.seq, reason: `record ${h.seq} is not the record the signed head names` } };
  }
  return { signedHead: h, unsignedTail: end - h.seq };
}

/**
 * Why the signed head `cur` must not be replaced by a newer one, or null when it may. Why: the
 * key holder signs whatever head the store holds; without this, whoever can write the store (not
 * the key) cuts or rewrites the chain and waits for the next write to sign over it. A new head
 * may follow only a signed head that carries a valid signature (`trusted`: trustKey of one this
 * signer wrote or already checked, not checked again) and still names a record of this chain (or one a
 * retention cut removed: `cutSeq`, asked only then). No signed head at all (null) passes here: each
 * store signs it only over a chain it wrote from empty, else refuses (head-adopt.ts, never trust on first use).
 */
export function signedHeadBlocks(
  cur: SignedHead | null | 'malformed', signer: ChainSigner, hashAt: (seq: number) => string | undefined, cutSeq: () => number | null, trusted?: string,
): string | null {
  if (cur === null) return null;
  if (cur === 'malformed' || (trustKey(cur) !== trusted && !signer.check(cur))) return 'the signed head does not carry a valid signature of the configured key';
  return signedHeadStale(cur, hashAt, cutSeq);
}

/**
 * What a signer remembers of a head it wrote or checked (`trusted` above): every signed field, not
 * the signature alone. Why: a signature copied onto another seq or hash must be checked again.
 */
export function trustKey(h: SignedHead): string {
  return `${h.seq}\n${h.hash}\n${h.keyId}\n${h.signature}`;
}

/**
 * Why the signed head no longer names a record of this chain (gone, not by a retention cut, or
 * different), or null. Why apart: `transcripts head` shows it without a key too.
 */
export function signedHeadStale(cur: SignedHead, hashAt: (seq: number) => string | undefined, cutSeq: () => number | null): string | null {
  const at = hashAt(cur.seq);
  if (at === undefined) return cur.seq <= (cutSeq() ?? 0) ? null : `record ${cur.seq}, the signed head, is gone`;
  return at === cur.hash ? null : `record ${cur.seq} is not the record the signed head names`;
}

/**
 * The head and its signed copy as `transcripts head` shows them; why: one shape for both stores.
 * `hashAt` and `cutSeq` tell whether the signed head still names a record of the chain (`stale`).
 */
export function chainHeadInfo(
  head: { seq: number; hash: string } | undefined,
  signed: SignedHead | null | 'malformed',
  signer: ChainSigner | undefined,
  hashAt: (seq: number) => string | undefined,
  cutSeq: () => number | null,
): ChainHeadInfo {
  const stale = signed !== null && signed !== 'malformed' ? signedHeadStale(signed, hashAt, cutSeq) : null;
  return {
    ...(head ? { head: { seq: Number(head.seq), hash: String(head.hash) } } : {}),
    ...(signed !== null ? { signedHead: signed } : {}),
    ...(signer && signed !== null ? { signatureValid: signed !== 'malformed' && signer.check(signed) } : {}),
    ...(stale ? { stale } : {}),
  };
}

/**
 * Retention checkpoints, shared by both stores: the record body that names a cut (signed when a
 * key is configured) and the check that a checkpoint record agrees with its checkpoints row.
 */
import { canonicalJson } from './canonical-json.js';
import type { ChainSigner } from './signing.js';

/** The text a checkpoint signature covers; why: fixed prefix, nothing else can be replayed as one. */
export function checkpointMessage(cutSeq: number, cutHash: string): string {
  return `warden-checkpoint\n${cutSeq}\n${cutHash}`;
}

/** The canonical body of a checkpoint record; why: SQLite and PostgreSQL write the same bytes. */
export function checkpointBody(
  cut: number, cutHash: string, before: string, now: string,
  purged: { records: number; sessions: number; calls: number }, signer?: ChainSigner,
): string {
  const body: Record<string, unknown> = { cutSeq: cut, cutHash, before, purgedAt: now, purged };
  if (signer?.signText) {
    body.keyId = signer.keyId;
    body.signature = signer.signText(checkpointMessage(cut, cutHash));
  }
  return canonicalJson(body);
}

/**
 * Why a record (or an approvals row) found at or below the retention cut is reported; why
 * shared: both stores and the approval replay say it alike.
 */
export function belowCut(what: string, cutSeq: number): string {
  return `${what} lies at or below the retention cut at ${cutSeq}, where verify does not walk: what was purged cannot come back`;
}

/**
 * Why a checkpoint record (`seq`, `body`) disagrees with its checkpoints row or, with a key, is
 * not signed by it; null when it agrees.
 */
export function checkpointMismatch(seq: number, recordBody: string, row: Record<string, unknown> | undefined, signer?: ChainSigner): string | null {
  let body: { cutSeq?: unknown; cutHash?: unknown; signature?: unknown };
  try {
    body = JSON.parse(recordBody) as typeof body;
  } catch {
    return 'body is not valid JSON';
  }
  if (!row) return `checkpoints row for record ${seq} is missing`;
  if (Number(row.cut_seq) !== body.cutSeq || row.cut_hash !== body.cutHash || row.body !== recordBody) {
    return `checkpoints row for record ${seq} differs from its record`;
  }
  if (signer && !(typeof body.signature === 'string' && signer.checkText(checkpointMessage(Number(body.cutSeq), String(body.cutHash)), body.signature))) {
    return 'the retention checkpoint is not signed by the configured key';
  }
  return null;
}

import { createHash } from 'node:crypto';

/** The prev_hash of the first record; why: every chain starts from one well-known value. */
export const GENESIS_HASH = '0'.repeat(64);

/** Record kinds; why: one closed list that the schema CHECK and verify share. */
export const RECORD_KINDS = ['session_open', 'session_close', 'call_intent', 'call_outcome', 'approval_event', 'checkpoint'] as const;

/** One record kind. */
export type RecordKind = (typeof RECORD_KINDS)[number];

/**
 * hash = sha256_hex(prev_hash "\n" kind "\n" ref_id "\n" ts "\n" body), UTF-8.
 * Why the separators: plain concatenation would let a byte move between ref_id and ts unnoticed.
 * Any other store implementation must reproduce exactly this.
 */
export function recordHash(prevHash: string, kind: string, refId: string, ts: string, body: string): string {
  return createHash('sha256').update(`${prevHash}\n${kind}\n${refId}\n${ts}\n${body}`, 'utf8').digest('hex');
}

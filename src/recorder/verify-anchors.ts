/**
 * Anchored heads: a (seq, hash) copied off the host earlier (`warden transcripts head`) must still
 * name a record of the chain. The signed head only proves that the chain reaches it: whoever can
 * write the host can put back an older, validly signed head and rewrite or cut everything after
 * it, which verify alone reports as an unsigned tail. Each record hashes the one before it, so one
 * anchor kept elsewhere pins every record up to it. Checked once per anchor, never per record.
 */
import type { SignedHeadCheck } from './signing.js';
import type { HeadAnchor, VerifyResult } from './types.js';

const ANCHOR = /^([1-9][0-9]{0,15}):([0-9a-fA-F]{64})$/;

/** Parse `SEQ:HASH`; why: the form `transcripts head` prints and `verify --expect-head` takes. */
export function parseAnchor(text: string): HeadAnchor | null {
  const m = ANCHOR.exec(text.trim());
  if (!m) return null;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) ? { seq, hash: m[2]!.toLowerCase() } : null;
}

/** The `SEQ:HASH` text of a head; why: one spelling for printing and parsing. */
export function formatAnchor(h: { seq: number; hash: string }): string {
  return `${h.seq}:${h.hash}`;
}

/**
 * The first anchor (lowest seq) the chain contradicts: missing (cut below it), a different hash
 * (rewritten), or purged by retention (no longer checkable, so not silently passed).
 * Why: a verified chain whose end or middle no longer matches what was copied off the host.
 */
export function anchorMismatch(
  anchors: readonly HeadAnchor[],
  hashAt: (seq: number) => string | undefined,
  head: { seq: number } | undefined,
  cut: { cutSeq: number; cutHash: string } | undefined,
): { seq: number; reason: string } | undefined {
  const end = head?.seq ?? 0;
  for (const a of [...anchors].sort((x, y) => x.seq - y.seq)) {
    const why = problem(a, hashAt, end, cut);
    if (why) return { seq: a.seq, reason: why };
  }
  return undefined;
}

function problem(a: HeadAnchor, hashAt: (seq: number) => string | undefined, end: number, cut: { cutSeq: number; cutHash: string } | undefined): string | null {
  const name = `expected head ${a.seq}`;
  if (cut && a.seq < cut.cutSeq) {
    return `${name} was purged by retention (cut at ${cut.cutSeq}) and can no longer be checked: anchor a newer head`;
  }
  if (cut && a.seq === cut.cutSeq) {
    return a.hash === cut.cutHash ? null : `${name} is not the hash the retention checkpoint names: the history up to it was rewritten`;
  }
  if (a.seq > end) return `${name} is missing: the chain ends at ${end} (cut below the anchor)`;
  const at = hashAt(a.seq);
  if (at === undefined) return `${name} is missing from the chain`;
  if (at !== a.hash) return `record ${a.seq} is not the expected head (hash ${a.hash.slice(0, 16)}…): the history up to it was rewritten`;
  return null;
}

/** Fold the signed-head and anchor checks into a whole-chain result; why: both stores report alike. */
export function withHeadChecks(v: VerifyResult, signed: SignedHeadCheck | undefined, anchored: { seq: number; reason: string } | undefined): VerifyResult {
  const extra = {
    ...(signed?.signedHead ? { signedHead: signed.signedHead } : {}),
    ...(signed?.unsignedTail !== undefined ? { unsignedTail: signed.unsignedTail } : {}),
  };
  const broken = signed?.broken ?? anchored;
  return broken ? { ...v, ...extra, ok: false, firstBroken: broken } : { ...v, ...extra };
}

/**
 * Records beyond a valid signed head, as a break (adopt-head, which signs them once the operator
 * named the head, excepted). Why: a key holder signs in the commit of its records (both stores:
 * the SQLite store since v13, PostgreSQL in the transaction that moves the head), so no crash
 * leaves them; they were written without the key, or by a SQLite Warden before v13 that crashed.
 */
export function unsignedTailBreak(c: SignedHeadCheck, head: { seq: number } | undefined, adopting: boolean): SignedHeadCheck {
  if (adopting || c.broken || !c.unsignedTail || !c.signedHead || !head) return c;
  const first = c.signedHead.seq + 1;
  return {
    ...c,
    broken: { seq: first, reason: `records ${first}-${head.seq} are newer than the signed head ${c.signedHead.seq} and unsigned: a key holder signs in the commit of its records, so they were written without the key (check them; \`warden transcripts adopt-head --expect-head SEQ:HASH\` signs them)` },
  };
}

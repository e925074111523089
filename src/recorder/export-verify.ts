/**
 * The offline check of a `warden transcripts export` file (`warden transcripts verify --file`):
 * no store, only the lines and, for the signed head, the public key. Why: an auditor who holds an
 * export (a SIEM's copy, a ticket's attachment) must be able to tell it is an unaltered piece of
 * the chain without access to the store. Checked, line by line: each record's hash over its
 * contents, each prev_hash against the record before, consecutive seqs (a gap is a finding), the
 * first record's prev_hash (the genesis hash for record 1; otherwise the record the export starts
 * after, matched against an anchor or a retention checkpoint when one is at hand), retention
 * checkpoints' signatures, the legality of the approval state changes whose request is in the
 * export (approval-transitions.ts), and the signed head an export carries on the line of the
 * record it names (`signed_head`, docs/transcripts.md) against the public key. A time window's
 * export closes with a signed statement of where it starts and ends (`export_window` on its last
 * line, signed by the exporter's key): an export that starts after a record nothing ties it to
 * (no statement checked, no anchor, no checkpoint) fails, since a dropped first record looks the same.
 */
import { canonicalJson } from './canonical-json.js';
import { checkpointMessage } from './checkpoint.js';
import { GENESIS_HASH, RECORD_KINDS, recordHash } from './hash-chain.js';
import { ApprovalTransitions } from './approval-transitions.js';
import type { ChainSigner } from './signing.js';
import type { HeadAnchor, SignedHead } from './types.js';

/** What `verify --file` reports (its --json document). */
export interface ExportVerifyResult {
  ok: boolean;
  records: number;
  /** The first broken record (seq when the line names one) and why. */
  firstBroken?: { seq: number | null; line?: number; reason: string };
  /** The first record's seq and prev_hash, and the last record's seq and hash. */
  first?: { seq: number; prevHash: string };
  head?: { seq: number; hash: string };
  /** The retention checkpoint the export starts after, when the export holds it. */
  checkpoint?: { cutSeq: number; cutHash: string; recordSeq: number };
  /** The newest signed head the export carries, whether its signature was checked, and the records after it. */
  signedHead?: SignedHead;
  signatureChecked: boolean;
  unsignedTail?: number;
  anchorsFound: number;
  /** What could not be checked, in words (an older export, no key, a start no anchor names). */
  notes: string[];
}

type Obj = Record<string, unknown>;

/** Where a window's export starts (after which record) and ends, as its exporter signed it. */
export interface ExportWindow {
  since: string | null;
  until: string | null;
  after: { seq: number; hash: string };
  last: { seq: number; hash: string };
  keyId: string;
  signature: string;
}

/** The signed text of a window statement; why: a fixed prefix keeps it from meaning anything else. */
export function exportWindowMessage(w: Omit<ExportWindow, 'keyId' | 'signature'>): string {
  return `warden-export-window\n${canonicalJson({ since: w.since, until: w.until, after: w.after, last: w.last })}`;
}

/** Sign a window statement (`transcripts export --since/--until` with the private key), or undefined without one. */
export function signExportWindow(signer: ChainSigner | undefined, w: Omit<ExportWindow, 'keyId' | 'signature'>): ExportWindow | undefined {
  if (!signer?.signText) return undefined;
  return { ...w, keyId: signer.keyId, signature: signer.signText(exportWindowMessage(w)) };
}

const isLink = (v: unknown): v is { seq: number; hash: string } => isObj(v) && typeof v.seq === 'number' && Number.isSafeInteger(v.seq) && v.seq >= 0 && typeof v.hash === 'string';
const HEX64 = /^[0-9a-f]{64}$/;
const KINDS: ReadonlySet<string> = new Set(RECORD_KINDS);
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Feed lines in order, then finish(); why a class: a million-record export is streamed, never held. */
export class ExportVerifier {
  private records = 0;
  private line = 0;
  private prev: { seq: number; hash: string } | undefined;
  private first: { seq: number; prevHash: string } | undefined;
  private broken: ExportVerifyResult['firstBroken'];
  private signed: SignedHead | undefined;
  private checkpoint: ExportVerifyResult['checkpoint'];
  private readonly anchors: Map<number, string>;
  private readonly found = new Set<number>();
  private readonly transitions = new ApprovalTransitions();
  /** The window statement and the record whose line carried it (the export's last). */
  private window: { seq: number; hash: string; v: unknown } | undefined;

  constructor(private readonly opts: { signer?: ChainSigner; anchors?: readonly HeadAnchor[] } = {}) {
    this.anchors = new Map((opts.anchors ?? []).map((a) => [a.seq, a.hash]));
  }

  /** Check one line; false once the export is broken (the rest is not read). */
  add(text: string): boolean {
    this.line++;
    if (this.broken) return false;
    if (text.trim() === '') return true;
    const why = this.check(text);
    if (why) this.broken = { seq: why.seq, line: this.line, reason: why.reason };
    return !this.broken;
  }

  private check(text: string): { seq: number | null; reason: string } | null {
    let r: unknown;
    try {
      r = JSON.parse(text);
    } catch {
      return { seq: null, reason: 'not a JSON object (is this a `warden transcripts export` file?)' };
    }
    if (!isObj(r) || typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return { seq: null, reason: 'not an export record (no seq)' };
    const seq = r.seq;
    const bad = (reason: string) => ({ seq, reason });
    if (r.v !== 1) return bad(typeof r.v === 'number' && r.v > 1 ? `export schema version ${r.v} is newer than this Warden reads: upgrade Warden` : 'not an export record (v is not 1)');
    if (typeof r.kind !== 'string' || !KINDS.has(r.kind)) return bad(`unknown record kind ${JSON.stringify(r.kind)}`);
    if (typeof r.ref_id !== 'string' || typeof r.ts !== 'string' || !isObj(r.body)) return bad('ref_id, ts or body is missing');
    if (typeof r.prev_hash !== 'string' || !HEX64.test(r.prev_hash) || typeof r.hash !== 'string' || !HEX64.test(r.hash)) return bad('prev_hash or hash is not a sha256 hex digest');
    if (this.window) return bad(`record ${seq} follows the line that closes the export window (record ${this.window.seq})`);
    const prev = this.prev;
    if (!prev) {
      this.first = { seq, prevHash: r.prev_hash };
      if (seq === 1 && r.prev_hash !== GENESIS_HASH) return bad("record 1's prev_hash is not the genesis hash");
      const anchored = this.anchors.get(seq - 1);
      if (anchored !== undefined) {
        if (anchored !== r.prev_hash) return bad(`the export starts after record ${seq - 1}, but not after the expected head ${seq - 1} (its prev_hash differs): the history up to it was rewritten`);
        this.found.add(seq - 1);
      }
    } else {
      if (seq <= prev.seq) return bad(`record ${seq} comes after record ${prev.seq}: an export lists each record once, in seq order`);
      if (seq !== prev.seq + 1) {
        const gap = seq - prev.seq - 1 === 1 ? `record ${prev.seq + 1} is` : `records ${prev.seq + 1}-${seq - 1} are`;
        return bad(`${gap} missing: the export is not consecutive, so the chain cannot be followed across the gap`);
      }
      if (r.prev_hash !== prev.hash) return bad(`prev_hash does not match record ${prev.seq}'s hash`);
    }
    const body = canonicalJson(r.body);
    if (recordHash(r.prev_hash, r.kind, r.ref_id, r.ts, body) !== r.hash) return bad('hash does not match the record (its kind, ref_id, ts or body was changed)');
    this.prev = { seq, hash: r.hash };
    this.records++;
    const expected = this.anchors.get(seq);
    if (expected !== undefined) {
      if (expected !== r.hash) return bad(`record ${seq} is not the expected head (hash ${expected.slice(0, 16)}…): the history up to it was rewritten`);
      this.found.add(seq);
    }
    const why = this.content(seq, r.kind, r.ref_id, r.ts, r.body) ?? (r.signed_head === undefined ? null : this.signedHead(seq, r.hash, r.signed_head));
    if (r.export_window !== undefined) this.window = { seq, hash: r.hash, v: r.export_window };
    return why ? bad(why) : null;
  }

  /** Checkpoint signatures and approval state changes. */
  private content(seq: number, kind: string, refId: string, ts: string, body: Obj): string | null {
    if (kind === 'approval_event') {
      if (body.approvalId !== refId) return 'approval_event body does not name its request';
      return this.transitions.apply(refId, body, ts);
    }
    if (kind !== 'checkpoint') return null;
    const { cutSeq, cutHash, signature } = body;
    if (typeof cutSeq !== 'number' || typeof cutHash !== 'string') return 'the retention checkpoint names no cut';
    const signer = this.opts.signer;
    if (signer && !(typeof signature === 'string' && signer.checkText(checkpointMessage(cutSeq, cutHash), signature))) return 'the retention checkpoint is not signed by the configured key';
    if (this.first && this.first.seq === cutSeq + 1 && this.first.prevHash === cutHash) this.checkpoint = { cutSeq, cutHash, recordSeq: seq };
    return null;
  }

  private signedHead(seq: number, hash: string, v: unknown): string | null {
    if (!isObj(v) || typeof v.seq !== 'number' || typeof v.hash !== 'string' || typeof v.signedAt !== 'string' || typeof v.keyId !== 'string' || typeof v.signature !== 'string') {
      return 'signed_head is malformed';
    }
    const h: SignedHead = { seq: v.seq, hash: v.hash, signedAt: v.signedAt, keyId: v.keyId, signature: v.signature };
    if (h.seq !== seq) return `signed_head names record ${h.seq}, not this record`;
    if (h.hash !== hash) return `the signed head names another hash for record ${seq}: the chain was rewritten after it was signed`;
    const signer = this.opts.signer;
    if (signer && !signer.check(h)) {
      return h.keyId === signer.keyId ? 'the signed head does not carry a valid signature of the configured key' : `the signed head is signed by key ${h.keyId}, not the configured key ${signer.keyId}`;
    }
    this.signed = h;
    return null;
  }

  /**
   * Why the window statement does not describe this export, or null. Checked: its shape, its
   * signature (when a key is at hand), that the export starts after the record it names and ends at it.
   */
  private windowProblem(first: { seq: number; prevHash: string }): string | null {
    const w = this.window!;
    const v = w.v;
    if (!isObj(v) || !isLink(v.after) || !isLink(v.last) || typeof v.signature !== 'string' || typeof v.keyId !== 'string'
      || !(v.since === null || typeof v.since === 'string') || !(v.until === null || typeof v.until === 'string')) return 'export_window is malformed';
    const signer = this.opts.signer;
    const parts = { since: v.since as string | null, until: v.until as string | null, after: { seq: v.after.seq, hash: v.after.hash }, last: { seq: v.last.seq, hash: v.last.hash } };
    if (signer && !signer.checkText(exportWindowMessage(parts), v.signature)) return 'the export window is not signed by the configured key';
    if (v.after.seq !== first.seq - 1) return `the export window starts after record ${v.after.seq}, but the export starts after record ${first.seq - 1}: records at its start were removed or added`;
    if (v.after.hash !== first.prevHash) return `the export window starts after record ${v.after.seq} with another hash than the export's first record names`;
    if (v.last.seq !== w.seq || v.last.hash !== w.hash) return `the export window ends at record ${v.last.seq}, but its statement is on record ${w.seq}`;
    return null;
  }

  /** The result once every line was fed. */
  finish(): ExportVerifyResult {
    const notes: string[] = [];
    const r: ExportVerifyResult = { ok: false, records: this.records, signatureChecked: false, anchorsFound: this.found.size, notes };
    if (this.first) r.first = this.first;
    if (this.prev) r.head = this.prev;
    if (this.checkpoint) r.checkpoint = this.checkpoint;
    if (this.broken) return { ...r, firstBroken: this.broken };
    const missing = [...this.anchors.keys()].filter((s) => !this.found.has(s)).sort((a, b) => a - b)[0];
    if (missing !== undefined) {
      const span = this.first && this.prev ? `records ${this.first.seq}-${this.prev.seq}` : 'no records';
      return { ...r, firstBroken: { seq: missing, reason: `expected head ${missing} is not in the export (it holds ${span}): it cannot be checked` } };
    }
    r.ok = true;
    if (!this.first || !this.prev) {
      notes.push('the export holds no records');
      return r;
    }
    const after = this.first.seq - 1;
    const windowWhy = this.window ? this.windowProblem(this.first) : null;
    if (windowWhy) return { ...r, ok: false, firstBroken: { seq: this.window!.seq, reason: windowWhy } };
    const checked = this.window !== undefined && this.opts.signer !== undefined;
    if (after > 0 && !this.checkpoint && !this.found.has(after) && !checked) {
      // Fail closed: a window whose first records were dropped looks exactly like this.
      const why = this.window ? 'its window statement was not checked (no public key: pass --public-key FILE)' : 'it carries no signed window statement (exported without the private key, or its last line removed)';
      return { ...r, ok: false, firstBroken: { seq: this.first.seq, reason: `the export starts after record ${after}, which nothing ties it to: ${why}, and a dropped first record would look the same; pass --expect-head ${after}:${this.first.prevHash} from the export before or a head kept off the host` } };
    }
    if (this.signed) {
      r.signedHead = this.signed;
      r.signatureChecked = this.opts.signer !== undefined;
      const tail = this.prev.seq - this.signed.seq;
      if (tail > 0) r.unsignedTail = tail;
      if (!r.signatureChecked) notes.push(`the signed head (record ${this.signed.seq}, key ${this.signed.keyId}) was not checked: no public key (pass --public-key FILE, or a config whose transcripts.signing_key is set)`);
    } else {
      notes.push('the export carries no signed head (an export older than this check, a store without transcripts.signing_key, or a time window before the signed head): its records were checked against each other only, and a rewritten or cut export would pass');
    }
    return r;
  }
}

/**
 * `warden transcripts verify` and `warden transcripts head`. Verify walks the chain and checks the
 * signed head; `--expect-head SEQ:HASH` (a head printed by `head` earlier and kept off the host)
 * must still be in the chain, and `--strict` fails on a chain without a signed head (records newer
 * than the signed head fail every verify of a store: a key holder signs in their commit). Why:
 * whoever can write the host can put back an older signed head and cut everything after it, which
 * verify alone cannot see.
 */
import { readFileSync } from 'node:fs';
import { formatAnchor, parseAnchor } from '../recorder/verify-anchors.js';
import type { HeadAnchor, VerifyResult } from '../recorder/types.js';
import type { TranscriptsIo } from './transcripts-command.js';
import { clean } from './transcripts-format.js';
import { jsonDoc } from './terminal-out.js';
import { verifyExportFile } from './transcripts-verify-file.js';
import { options, seqOpt, storeOf, UsageError } from './transcripts-options.js';

/**
 * `verify [--from N --to N] [--strict] [--expect-head SEQ:HASH]... [--expect-head-file FILE] [--json]`,
 * or `verify --file EXPORT [--public-key FILE] [--strict] [--expect-head ...]` (an export, offline).
 */
export async function verify(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const { opts, all, flags, positional } = options(args, ['from', 'to', 'expect-head', 'expect-head-file', 'file', 'public-key'], ['strict']);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  const from = opts.get('from');
  const to = opts.get('to');
  const strict = flags.has('strict');
  const anchors = [
    ...(all.get('expect-head') ?? []).map((t) => anchorOpt(t, '--expect-head')),
    ...(all.get('expect-head-file') ?? []).flatMap((f) => anchorFile(f)),
  ];
  const range = from !== undefined || to !== undefined;
  const file = opts.get('file');
  const publicKey = opts.get('public-key');
  if (file !== undefined) {
    if (range) throw new UsageError('--file checks the whole export: drop --from/--to');
    return verifyExportFile(file, publicKey, anchors, strict, io, json);
  }
  if (publicKey !== undefined) throw new UsageError('--public-key goes with --file (a store is checked with transcripts.signing_key)');
  if (range && (strict || anchors.length)) throw new UsageError('--strict and --expect-head check the whole chain: drop --from/--to');
  const first = seqOpt(from ?? '1', '--from');
  const last = to === undefined ? Number.MAX_SAFE_INTEGER : seqOpt(to, '--to');
  const store = await storeOf(io);
  let v: VerifyResult;
  if (range) {
    if (!store.verifyRange) throw new UsageError('this store cannot verify a range');
    v = await store.verifyRange(first, last);
  } else {
    v = await store.verify(anchors.length ? { anchors } : {});
  }
  const tail = strict && v.ok ? unsignedTail(v) : undefined;
  if (tail) v = { ...v, ok: false, firstBroken: tail };
  if (json) io.out(jsonDoc(v));
  if (v.ok) {
    if (!json) {
      const signed = v.signedHead ? `; signed head ${v.signedHead.seq} (key ${v.signedHead.keyId})${v.unsignedTail ? `, ${v.unsignedTail} newer unsigned` : ''}` : '';
      const cp = v.checkpoint ? `; starts after retention checkpoint at ${v.checkpoint.cutSeq}` : '';
      const anchored = anchors.length ? `; ${anchors.length} expected head${anchors.length > 1 ? 's' : ''} found` : '';
      io.out(`transcript chain intact: ${v.records} records` + (v.head ? ` (head ${v.head.seq} ${v.head.hash})` : '') + signed + cp + anchored);
    }
    return 0;
  }
  const b = v.firstBroken;
  io.err(`transcript chain broken at record ${b?.seq ?? '?'}: ${clean(b?.reason ?? 'unknown reason')}`);
  return 1;
}

/**
 * Why --strict fails an intact chain: records the signed head does not cover (none at all; a
 * tail beyond it is already a break of the store's verify). Meant for scheduled checks.
 */
function unsignedTail(v: VerifyResult): { seq: number; reason: string } | undefined {
  if (!v.head) return undefined;
  if (!v.signedHead) return { seq: v.head.seq, reason: 'the chain has no signed head (--strict needs transcripts.signing_key)' };
  if (!v.unsignedTail) return undefined;
  const first = v.signedHead.seq + 1;
  return { seq: first, reason: `records ${first}-${v.head.seq} are newer than the signed head ${v.signedHead.seq} and unsigned (--strict)` };
}

/** One `SEQ:HASH` option value, or a usage error. */
export function anchorOpt(text: string, where: string): HeadAnchor {
  const a = parseAnchor(text);
  if (!a) throw new UsageError(`${where}: ${JSON.stringify(text)} is not SEQ:HASH (as \`warden transcripts head\` prints it)`);
  return a;
}

/** One SEQ:HASH per line; blank lines and `#` comments are skipped. */
export function anchorFile(path: string): HeadAnchor[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  return lines.flatMap((line, i) => {
    const t = line.trim();
    return t === '' || t.startsWith('#') ? [] : [anchorOpt(t, `${path}:${i + 1}`)];
  });
}

/** `head [--json]`: the newest record and the signed head, to copy off the host (no chain walk). */
export async function head(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const { positional } = options(args, []);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  const store = await storeOf(io);
  if (!store.chainHead) throw new UsageError('this store cannot report its head');
  const h = await store.chainHead();
  const invalid = h.signedHead === 'malformed' || h.signatureValid === false;
  const bad = invalid || h.stale !== undefined;
  if (json) {
    io.out(jsonDoc({
      seq: h.head?.seq ?? null, hash: h.head?.hash ?? null, anchor: h.head ? formatAnchor(h.head) : null,
      signedHead: h.signedHead ?? null, ...(h.signatureValid !== undefined ? { signatureValid: h.signatureValid } : {}),
      ...(h.stale !== undefined ? { stale: h.stale } : {}),
    }));
  } else if (!h.head) {
    io.out('no records');
  } else {
    const lines = [`head       ${h.head.seq} ${h.head.hash}`, `anchor     ${formatAnchor(h.head)}`];
    const s = h.signedHead;
    if (s === 'malformed') lines.push('signed     (the signed head is unreadable)');
    else if (s) {
      const state = h.signatureValid === undefined ? 'signature not checked (no signing_key)' : h.signatureValid ? 'signature valid' : 'signature INVALID';
      const behind = h.head.seq - s.seq;
      lines.push(`signed     ${s.seq} ${s.hash}${h.stale ? ` (STALE: ${h.stale})` : behind > 0 ? ` (${behind} newer unsigned)` : ''}`);
      lines.push(`           at ${s.signedAt}, key ${s.keyId}, ${state}`, `signature  ${s.signature}`);
    } else lines.push('signed     (no signed head)');
    io.out(clean(lines.join('\n')));
  }
  if (invalid) io.err('the signed head does not carry a valid signature of the configured key');
  // The key holder does not sign over a chain that lost or changed its signed head (signing.ts).
  else if (h.stale) io.err(`the signed head is stale (${clean(h.stale)}): the chain was cut or rewritten without the key, new records are not signed; run verify`);
  return bad ? 1 : 0;
}

/**
 * `warden transcripts adopt-head [--expect-head SEQ:HASH]... [--expect-head-file FILE]`: the
 * operator's explicit step for a store that holds records but no signed head (a store from before
 * signing, a key newly configured, a deleted `signed_head` row), or records beyond a valid signed
 * head (written without the key; or by a SQLite Warden before schema v13 that crashed between a
 * commit and its signature): then `--expect-head` must name the store's current head, the
 * operator's statement that they checked the records up to it. A key holder refuses
 * to write such a store (recorder/head-adopt.ts); this verifies the whole chain (the same walk as
 * `verify`, and every anchor kept off the host), then signs its head and prints it. Why a command:
 * signing it silently (trust on first use) let whoever could write the store, without the key,
 * delete the head and have a rewritten chain signed by the next write.
 */
import { formatAnchor } from '../recorder/verify-anchors.js';
import type { TranscriptsIo } from './transcripts-command.js';
import { clean } from './transcripts-format.js';
import { jsonDoc } from './terminal-out.js';
import { anchorFile, anchorOpt } from './transcripts-verify.js';
import { options, storeOf, UsageError } from './transcripts-options.js';

/** Run adopt-head; exit 0 when the head was signed (or the store is empty), 1 when refused. */
export async function adoptHead(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const { all, positional } = options(args, ['expect-head', 'expect-head-file']);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  const anchors = [
    ...(all.get('expect-head') ?? []).map((t) => anchorOpt(t, '--expect-head')),
    ...(all.get('expect-head-file') ?? []).flatMap((f) => anchorFile(f)),
  ];
  const store = await storeOf(io);
  if (!store.adoptHead || !store.chainHead) throw new UsageError('this store cannot adopt a head');
  const refuse = (why: string): number => {
    io.err(`transcripts adopt-head: ${clean(why)}; nothing was signed`);
    return 1;
  };
  const before = await store.chainHead();
  const over = before.signedHead;
  if (over !== undefined) {
    const h = before.head;
    const tail = over !== 'malformed' && before.signatureValid === true && !before.stale && h !== undefined && h.seq > over.seq;
    if (!tail) return refuse('the store already has a signed head (`warden transcripts head` shows it; `verify` checks the chain against it)');
    if (!anchors.some((a) => a.seq === h.seq)) {
      return refuse(`records ${over.seq + 1}-${h.seq} are newer than the signed head ${over.seq} and were not signed by a key holder: check them, then name the head you vouch for with --expect-head ${formatAnchor(h)}`);
    }
  }
  if (!before.head) {
    if (json) io.out(jsonDoc({ adopted: false, seq: null, hash: null, anchor: null }));
    else io.out('no records: nothing to adopt (the first write signs an empty store)');
    return 0;
  }
  const v = await store.verify({ adopting: true, ...(anchors.length ? { anchors } : {}) });
  if (!v.ok || !v.head) return refuse(`transcript chain broken at record ${v.firstBroken?.seq ?? '?'}: ${v.firstBroken?.reason ?? 'unknown reason'}`);
  const signed = await store.adoptHead(v.head, over);
  const anchor = formatAnchor(v.head);
  const warning = `every record up to ${v.head.seq} is now trusted as if a key holder wrote it: ${anchors.length ? `records after the expected head ${Math.max(...anchors.map((a) => a.seq))} were checked only against each other` : 'without --expect-head, the chain was checked only against itself'}; copy the anchor off the host`;
  if (json) io.out(jsonDoc({ adopted: true, seq: v.head.seq, hash: v.head.hash, anchor, signedHead: signed, records: v.records, warning }));
  else io.out(`transcript chain intact: ${v.records} records; signed head ${signed.seq} (key ${signed.keyId})\nanchor ${anchor}\nwarning: ${warning}`);
  return 0;
}

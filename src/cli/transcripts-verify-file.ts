/**
 * `warden transcripts verify --file EXPORT`: checks an export file on its own, offline, without
 * the store (src/recorder/export-verify.ts). The signed head it carries is checked against
 * `--public-key FILE` or the public part of the config's `transcripts.signing_key`. Exit codes
 * and messages as `verify`: 0 intact, 1 broken (`transcript chain broken at record N: ...`),
 * 2 usage. Why: an auditor holding an export has no store to run `verify` against.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ExportVerifier, type ExportVerifyResult } from '../recorder/export-verify.js';
import { createChainSigner, type ChainSigner } from '../recorder/signing.js';
import type { HeadAnchor } from '../recorder/types.js';
import type { TranscriptsIo } from './transcripts-command.js';
import { clean } from './transcripts-format.js';
import { jsonDoc } from './terminal-out.js';
import { UsageError } from './transcripts-options.js';

/** Verify the export at `file` (`-`: standard input); `strict` fails on anything unsigned or unchecked. */
export async function verifyExportFile(file: string, publicKey: string | undefined, anchors: HeadAnchor[], strict: boolean, io: TranscriptsIo, json: boolean): Promise<number> {
  const signer = publicKey !== undefined ? keyFile(publicKey) : await io.signer?.();
  const v = new ExportVerifier({ ...(signer ? { signer } : {}), anchors });
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  let readError: unknown;
  input.on('error', (e: unknown) => void (readError = e));
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (!v.add(line)) break;
  } catch (e) {
    readError = e;
  } finally {
    lines.close();
    if (file !== '-') (input as ReturnType<typeof createReadStream>).destroy();
  }
  if (readError) {
    const code = (readError as { code?: unknown }).code;
    io.err(`error: cannot read the export ${JSON.stringify(file)}${typeof code === 'string' ? ` (${code})` : ''}`);
    return 1;
  }
  let r = v.finish();
  const loose = strict && r.ok ? unchecked(r) : undefined;
  if (loose) r = { ...r, ok: false, firstBroken: loose };
  if (json) io.out(jsonDoc(r));
  if (r.ok) {
    if (!json) {
      const span = r.first && r.head ? ` (records ${r.first.seq}-${r.head.seq}, head ${r.head.seq} ${r.head.hash})` : '';
      const start = !r.first ? '' : r.checkpoint ? `; starts after retention checkpoint at ${r.checkpoint.cutSeq}` : r.first.seq === 1 ? '; starts at the first record' : `; starts after record ${r.first.seq - 1}`;
      const signed = r.signedHead ? `; signed head ${r.signedHead.seq} (key ${r.signedHead.keyId}, ${r.signatureChecked ? 'signature valid' : 'signature NOT checked'})${r.unsignedTail ? `, ${r.unsignedTail} newer unsigned` : ''}` : '';
      const anchored = r.anchorsFound ? `; ${r.anchorsFound} expected head${r.anchorsFound > 1 ? 's' : ''} found` : '';
      io.out(`transcript export intact: ${r.records} records${span}${start}${signed}${anchored}`);
      for (const n of r.notes) io.out(`note: ${clean(n)}`);
    }
    return 0;
  }
  const b = r.firstBroken!;
  const where = b.seq === null ? `line ${b.line}` : `record ${b.seq}${b.line ? ` (line ${b.line})` : ''}`;
  io.err(`transcript chain broken at ${where}: ${clean(b.reason)}`);
  return 1;
}

/** Why --strict fails an intact export: records no checked signature covers. */
function unchecked(r: ExportVerifyResult): ExportVerifyResult['firstBroken'] {
  if (!r.head) return undefined;
  const at = (seq: number, reason: string) => ({ seq, reason: `${reason} (--strict)` });
  if (!r.signedHead) return at(r.head.seq, 'the export carries no signed head');
  if (!r.signatureChecked) return at(r.signedHead.seq, 'the signed head was not checked: no public key');
  if (r.unsignedTail) return at(r.signedHead.seq + 1, `records ${r.signedHead.seq + 1}-${r.head.seq} are newer than the signed head ${r.signedHead.seq} and unsigned`);
  return undefined;
}

function keyFile(path: string): ChainSigner {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new UsageError(`--public-key: cannot read ${JSON.stringify(path)}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  try {
    return createChainSigner(pem);
  } catch {
    throw new UsageError(`--public-key: ${JSON.stringify(path)} is not a PEM Ed25519 key`);
  }
}

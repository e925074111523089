/**
 * secret-encodings.ts, memory: the encoded-secret scan of kubectl_exec's and kubectl_logs'
 * output took about 35 bytes of memory per output byte at its peak (every alphabet's characters
 * with a 4-byte place each, every alignment decoded at once, 10 bytes a number), so one call near
 * the 64 MiB output cap took 2 GB. Now each alphabet is scanned, decoded one alignment at a time
 * and dropped, in reused arrays of 1 or 2 bytes an entry. The proof runs the masker in a child
 * process over 16 MiB of output (log lines, base64, an xxd dump, byte numbers) holding a value in
 * several encodings made by the real programs, its heap capped, and compares its peak resident
 * memory (the kernel's high-water mark, not a timing) during the scan with the output's size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';

const VALUE = 'db-Pa55w0rd?>~for-the-orders-service-2026';
const MIB = 16;
/** Peak bytes per output byte allowed: the old scan took about 30 to 35 here, this one about 6. */
const BOUND = 10;

const sh = (script: string): string => execFileSync('sh', ['-c', script], { input: VALUE, encoding: 'utf8' });

/** The value's encodings, each on lines of its own, by the real programs. */
const ENCODED: Record<string, string> = {
  base64: sh('base64 -w 0'),
  hex: sh('xxd -p | tr -d "\\n"'),
  base32: sh('base32 -w 0'),
  decimal: sh('od -An -tu1 -v | tr -s " \\n" " "'),
  words: sh('od -An -x -v | tr -s " \\n" " "'),
};

/** The child: builds the output, masks it, prints what it found and its peak memory during the scan. */
const CHILD = `
const [url, mib, encodedJson, value] = process.argv.slice(1);
const { maskSecretValues } = await import(url);
const encoded = JSON.parse(encodedJson);
const filler = [];
for (let k = 0; k < 400; k++) {
  filler.push('2026-12-01T01:' + String(k % 60).padStart(2, '0') + ':00.123Z INFO req id=' + (k * 7919).toString(16) + ' bytes=' + k * 31 + ' path=/api/v1/items/' + k);
  filler.push(Buffer.from(Array.from({ length: 57 }, (_, i) => (i * 37 + k * 11) & 255)).toString('base64'));
  filler.push((k * 16).toString(16).padStart(8, '0') + ': ' + Array.from({ length: 8 }, (_, i) => ((k * 131 + i * 4099) & 65535).toString(16).padStart(4, '0')).join(' ') + '  ................');
  filler.push(' ' + Array.from({ length: 16 }, (_, i) => String((k * 13 + i * 29) & 255)).join(' '));
}
const block = filler.join('\\n') + '\\n' + Object.entries(encoded).map(([k, v]) => k + ': ' + v).join('\\n') + '\\n';
const text = block.repeat(Math.ceil((Number(mib) * 1048576) / block.length));
// Warm: the code compiled, the text flattened, before the peak is read.
maskSecretValues({ stdout: block }, [value], false);
text.charCodeAt(text.length >> 1);
const before = process.resourceUsage().maxRSS;
const out = maskSecretValues({ stdout: text }, [value], false);
const after = process.resourceUsage().maxRSS;
const left = Object.keys(encoded).filter((k) => out.streams.stdout.includes(encoded[k]));
process.stdout.write(JSON.stringify({ size: text.length, blocks: Math.ceil((Number(mib) * 1048576) / block.length), masked: out.masked, left, peak: (after - before) * 1024 }));
`;

function runChild(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

test(`encoded-secret scan of ${MIB} MiB: every encoding masked, heap capped, peak memory under ${BOUND} bytes per output byte`, { timeout: 120_000 }, async (t) => {
  const url = new URL('../../../tools/kubernetes/secret-env.js', import.meta.url).href;
  // The heap capped at 10 bytes per output byte: the text and its masked copy are 2 (one-byte strings).
  const r = await runChild([`--max-old-space-size=${10 * MIB}`, '--input-type=module', '-e', CHILD, url, String(MIB), JSON.stringify(ENCODED), VALUE]);
  assert.equal(r.code, 0, `the child failed: ${r.err.slice(-2000)}`);
  const res = JSON.parse(r.out) as { size: number; blocks: number; masked: number; left: string[]; peak: number };
  assert.deepEqual(res.left, [], 'every encoding of the value masked');
  assert.ok(res.masked >= res.blocks * Object.keys(ENCODED).length, `each occurrence masked: ${res.masked} of ${res.blocks * Object.keys(ENCODED).length}`);
  const perByte = res.peak / res.size;
  t.diagnostic(`peak ${perByte.toFixed(1)} bytes per output byte`);
  assert.ok(perByte < BOUND, `peak ${(res.peak / 1048576).toFixed(0)} MiB for ${(res.size / 1048576).toFixed(0)} MiB of output: ${perByte.toFixed(1)} bytes per output byte`);
});

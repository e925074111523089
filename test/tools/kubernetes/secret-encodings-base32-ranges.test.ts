/**
 * secret-encodings.ts, base32's ranges: base32's scan used to read the whole output a second
 * time, lower case too wherever 10 lower-case base32 characters stood in a row (most prose), and
 * it was the scan's main cost. Now base64's scan marks where a base32 run long enough to keep
 * can be (base32-runs.ts Windows32: an upper-case run of the least length, or 16 base32
 * characters in a row of either case, `=` counted) and base32's scan reads those ranges alone.
 * What must not change: each encoding of the value is masked wherever it stands in a long mixed
 * output (log lines, prose, JSON, base64, numbered lines), at a cut end too. What the old gate
 * missed: a short value's lower-case base32 right after capitals (`APITOKEN=mfrg...`): its 16
 * in a row were counted by base32's scan, but the gate counted lower case only, so the scan never
 * read lower case there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { maskSecretValues } from '../../../tools/kubernetes/secret-env.js';

const VALUE = 'orders-db-Pa55w0rd?>~2026';
const SHORT = 'k9#Qy';

const sh = (script: string, input: string): string => execFileSync('sh', ['-c', script], { input, encoding: 'utf8' });

/** Mixed output around the encoded lines: log lines, prose, JSON, base64, a numbered listing. */
function filler(k: number): string {
  return [
    `2026-12-01T01:${String(k % 60).padStart(2, '0')}:00.123Z INFO req id=${(k * 7919).toString(16)} path=/api/v1/items/${k}`,
    'the reconciliation of configuration succeeded; RETRYING the WARNING handler notification',
    JSON.stringify({ level: 'info', msg: 'scheduler completed background processing', latency_ms: k * 3 }),
    Buffer.from(Array.from({ length: 45 }, (_, i) => (i * 37 + k * 11) & 255)).toString('base64'),
    `   ${k}\tabcdefghijklmnopqrstuvwxyz SOMEUPPERCASEWORDS`,
  ].join('\n');
}

test('each base32 spelling of a value is masked wherever it stands in a long mixed output', () => {
  const forms = [
    sh('base32 -w 0', VALUE),
    sh('base32 -w 0 | tr A-Z a-z', VALUE),
    sh('base32 -w 20', VALUE),
    sh('base32 -w 20 | tr A-Z a-z | paste -sd,', VALUE),
    sh('base32 -w 0 | tr A-Z a-z', `PREFIX:${VALUE}:SUFFIX`),
  ].map((s) => s.trim());
  for (const [j, form] of forms.entries()) {
    const parts: string[] = [];
    for (let k = 0; k < 40; k++) parts.push(filler(k));
    parts.splice(7 + j * 5, 0, `value: ${form}`);
    const out = parts.join('\n') + '\n';
    const r = maskSecretValues({ o: out }, [VALUE], false);
    assert.equal(r.masked, 1, `form ${j}: ${form}`);
    for (const line of form.split(/[\n,]/)) if (line.length >= 16) assert.ok(!r.streams.o.includes(line), `form ${j}: ${line} left`);
    // The rest stays: only that line changed.
    const changed = out.split('\n').filter((l, i) => l !== r.streams.o.split('\n')[i]);
    assert.ok(changed.length >= 1 && changed.every((l) => form.includes(l.replace(/^value: /, '').split(',')[0]!)), `form ${j}: ${changed.join('|')}`);
  }
});

test('a cut output ending in the start of a value in lower-case base32 is masked from there', () => {
  const enc = sh('base32 -w 0 | tr A-Z a-z', VALUE).trim();
  const head = enc.slice(0, 24);
  const out = `${filler(1)}\n${filler(2)}\ntoken: ${head}`;
  const r = maskSecretValues({ o: out }, [VALUE], true);
  assert.ok(!r.streams.o.includes(head), r.streams.o.slice(-200));
  assert.ok(r.streams.o.endsWith('token: ***'), r.streams.o.slice(-200));
  // Not cut: a start of a value is no value.
  assert.equal(maskSecretValues({ o: out }, [VALUE], false).streams.o, out);
});

test("a short value's lower-case base32 right after capitals (16 in a row) is masked", () => {
  const enc = sh('base32 | tr A-Z a-z', SHORT).trim();
  assert.ok(enc.length < 10, enc);
  // No 10 lower-case letters in a row elsewhere (the old gate's trigger).
  const out = `INFO start pid=4242\nexport APITOKEN=${enc}\nINFO done\n`;
  const r = maskSecretValues({ o: out }, [SHORT], false);
  assert.ok(!r.streams.o.includes(enc), r.streams.o);
  assert.ok(r.streams.o.includes('\nexport APITOKEN=***\n') || r.streams.o.includes('\nexport ***\n'), r.streams.o);
  // Without the capitals it is under 16 in a row: not read (the documented limit).
  const alone = `INFO start pid=4242\nexport token=${enc}\n${filler(3)}\n`;
  assert.equal(maskSecretValues({ o: alone }, [SHORT], false).streams.o, alone);
});

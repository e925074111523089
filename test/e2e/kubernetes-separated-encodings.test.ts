/**
 * kubectl_exec and kubectl_logs, red team: a Secret's value encoded, then split by characters
 * other than ASCII whitespace or numbered line by line, was shown whole: `base64 -w8 |
 * paste -sd,`, `tr '\n' '|'`, quoted pieces, `jq -Rs .`, `xxd -i`, `cat -n`, `nl`, the hex
 * dumps with offsets and a text column (`xxd`, `hexdump -C`, `od -tx1`), and its bytes as
 * decimal or octal numbers (`od -An -tu1`, `od -b`), or the value with a backslash before each
 * sign (`printf %q`, `sed 's/[^a-z0-9]/\\&/g'`). Warden now skips every character outside
 * the alphabet between two encoded ones (encoded-runs.ts), reads numbers of up to 3 digits as
 * bytes, and also reads the output with line numbers, offsets and text columns left out
 * (numbered-lines.ts) and with backslash escapes undone (escaped-values.ts). Then: the value
 * written backwards (`rev`), as little-endian words (`od -x`, `hexdump`, `od -tx4`), as bits
 * (`xxd -b`) or in base32 was shown; now masked too (word-runs.ts, alphabet-runs.ts). A CSV,
 * `cat -n` and hex dumps (and those forms) of a file that is no secret stay. Through `warden serve`, the real MCP client
 * and the test API server running the commands for real.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { execAndLogsPolicy, setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const TOKEN = 'tok-Separated-9f3b27c1e5';
/** A hex token: a hex dump's text column of it is hex digits too. */
const HEXKEY = '3f9a0c1d2e4b5a69788c0d1e2f3a4b5c';
const PUBLIC = 'id,name,price\n1,apple,0.50\n2,beef,12.99\n3,cafe au lait,3.20\n';

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = execAndLogsPolicy('sep');

const b64 = (s: string) => Buffer.from(s).toString('base64');
const hex = (s: string) => Buffer.from(s).toString('hex');

/** Any 8 characters of the value's base64 or hex pieces (at 4-character steps) in the text, or 8 of its characters in a row? */
function shows(text: string, ...values: string[]): boolean {
  return values.some((v) => {
    const encs = [b64(v), hex(v), v];
    for (const e of encs) for (let i = 0; i + 8 <= e.length; i += 4) if (text.includes(e.slice(i, i + 8))) return true;
    // Bytes apart as hex pairs (hexdump -C, od -tx1, xxd -i) or decimal and octal numbers (od -tu1, od -b): 6 in a row.
    for (const radix of [16, 10, 8]) {
      const nums = [...Buffer.from(v)].map((b) => b.toString(radix).padStart(radix === 10 ? 1 : radix === 16 ? 2 : 3, '0'));
      for (let i = 0; i + 6 <= nums.length; i++) if (new RegExp(`(?<![0-9a-f])${nums.slice(i, i + 6).join('[^0-9a-fA-F]{1,5}')}`, 'i').test(text)) return true;
    }
    return false;
  });
}

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('secrets', { metadata: { name: 'sep', namespace: 'shop' }, type: 'Opaque', data: { token: b64(TOKEN), hexkey: b64(HEXKEY) } });
  const pod = server.store.addPod({
    namespace: 'shop', name: 'sep-1', labels: { app: 'sep' },
    files: { 'app/prices.csv': PUBLIC },
    containers: [{
      name: 'app',
      env: { TOKEN, HEXKEY },
      logs: [
        { line: 'config dump:', ageSeconds: 40 },
        ...(b64(TOKEN).match(/.{1,8}/g) ?? []).map((l, i) => ({ line: `${String(i + 1).padStart(6)}\t${l}`, ageSeconds: 30 })),
        { line: `key pieces: ${(b64(HEXKEY).match(/.{1,6}/g) ?? []).map((p) => `"${p}"`).join(',')}`, ageSeconds: 20 },
        { line: 'ready, 3 items, 12 ms', ageSeconds: 5 },
      ],
    }],
  }) as unknown as { spec: { containers: Record<string, unknown>[] } };
  Object.assign(pod.spec.containers[0]!, {
    env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sep', key: 'token' } } }, { name: 'HEXKEY', valueFrom: { secretKeyRef: { name: 'sep', key: 'hexkey' } } }],
  });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (script: string) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'sep-1', container: 'app', command: ['sh', '-c', script] });

test('base64 and hex of Secret values split by commas, pipes, quotes, escapes, 0x, or numbered and dumped with offsets: masked', async () => {
  const pipes = [
    'base64 -w8 | paste -sd,',
    "base64 -w8 | tr '\\n' '|'",
    "base64 -w8 | sed 's/.*/\"&\"/' | paste -sd,",
    'base64 -w8 | jq -Rs .',
    'base64 -w8 | cat -n',
    'base64 -w12 | nl',
    'xxd -p -c4 | paste -sd,',
    'xxd -i',
    'xxd',
    'hexdump -C',
    'od -tx1',
    'od -An -tu1',
    'od -b',
    "sed 's/[^a-zA-Z0-9]/\\\\&/g'",
  ];
  for (const v of ['TOKEN', 'HEXKEY']) {
    for (const p of pipes) {
      const script = `printf %s "$${v}" | ${p}; echo end`;
      const r = await exec(script);
      assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
      assert.ok(!shows(r.text, TOKEN, HEXKEY), `${script}: ${r.text.slice(0, 600)}`);
      assert.match(r.text, /\*\*\*/, script);
      assert.match(r.text, /end/, script);
    }
  }
  const dump = await exec('printf %s "$TOKEN" | xxd');
  assert.match(dump.text, /00000000: \*\*\*\n\*\*\*\n/, 'the first offset stays; each line of the value one mask, its text column with it');
});

test('a Secret value written backwards, as little-endian words, as bits or in base32: masked (rev, od -x, hexdump, od -tx4, xxd -b, base32)', async () => {
  for (const p of ['rev', 'od -x', 'od -An -tx2', 'hexdump', 'od -tx4', 'xxd -b', 'base32', 'base32 -w 12 | paste -sd,']) {
    for (const v of ['TOKEN', 'HEXKEY']) {
      // The value alone and at an odd byte (a word holding a neighbour's byte).
      const script = `printf 'A=%s\\n' "$${v}" | ${p}; printf %s "$${v}" | ${p}; echo end`;
      const r = await exec(script);
      assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /\*\*\*/, script);
      assert.match(r.text, /end/, script);
      // The program's own output of the value, offsets left out: no 12 characters of it in a row.
      const value = v === 'TOKEN' ? TOKEN : HEXKEY;
      const own = execFileSync('sh', ['-c', p], { input: value, encoding: 'utf8' }).replace(/^[0-9a-f]{7,8}:? ?/gm, '').replace(/\s+/g, ' ');
      const seen = r.text.replace(/\s+/g, ' ');
      for (let i = 0; i + 12 <= own.length; i += 3) assert.ok(!seen.includes(own.slice(i, i + 12)), `${script}: ${own.slice(i, i + 12)} in ${r.text.slice(0, 600)}`);
    }
  }
});

test('legit neighbours stay: a CSV, cat -n and hex dumps of a file that is no secret, numbers and commas', async () => {
  for (const script of ['rev /app/prices.csv', 'od -x /app/prices.csv', 'xxd -b /app/prices.csv', 'base32 /app/prices.csv', 'cat /app/prices.csv', 'cat -n /app/prices.csv', 'xxd /app/prices.csv', 'hexdump -C /app/prices.csv', 'od -tx1 /app/prices.csv', 'xxd -i /app/prices.csv', 'base64 -w8 /app/prices.csv | paste -sd,', 'seq 1 40 | paste -sd,', 'od -An -tu1 /app/prices.csv', 'od -b /app/prices.csv']) {
    const r = await exec(script);
    assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
    assert.doesNotMatch(r.text, /\*\*\*/, `${script}: ${r.text.slice(0, 600)}`);
  }
  const csv = await exec('cat -n /app/prices.csv');
  assert.match(csv.text, / {5}2\t1,apple,0\.50\n/);
});

test('a log with the token\'s base64 numbered line by line and the key\'s in quoted pieces shows neither; the rest stays', async () => {
  const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'sep-1', container: 'app' });
  assert.equal(r.isError, false, r.text.slice(0, 300));
  assert.ok(!shows(r.text, TOKEN, HEXKEY), r.text.slice(0, 600));
  assert.match(r.text, /config dump:\n/);
  assert.match(r.text, /key pieces: "\*\*\*=*"\n/);
  assert.match(r.text, /config dump:\n {5}1\t\*\*\*\n {5}\*\*\*\n/, 'each numbered line one mask');
  assert.match(r.text, /ready, 3 items, 12 ms/);
});

test('nothing of it reaches the transcript', () => {
  assert.ok(!shows(dumpTranscript(dir.dbPath), TOKEN, HEXKEY));
});

/**
 * kubectl_exec and kubectl_logs, red team: a private key or certificate a pod takes from a
 * Secret into its environment was masked as it is, but its encodings only up to 256 bytes, so
 * `echo "$TLS_KEY" | base64` or `printenv BIG | xxd -p` showed the key to anyone who decodes
 * it. Warden now masks the encodings of values of any length (secret-encodings.ts), also one
 * cut at the byte cap. Through `warden serve`, the real MCP client and the test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { execAndLogsPolicy, setupWardenKube } from '../support/kube-apiserver/warden-setup.js';
import { mulberry32 } from '../support/prng.js';

const rand = mulberry32(0x4b454e43);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
const wrap = (s: string, cols: number) => s.replace(new RegExp(`.{${cols}}`, 'g'), '$&\n').replace(/\n$/, '');
/** A 4 KiB PEM private key, and a 64 KiB value (printable, one line). */
const TLS_KEY = `-----BEGIN PRIVATE KEY-----\n${wrap(randomBytes(2990).toString('base64'), 64)}\n-----END PRIVATE KEY-----`;
const BIG = randomBytes(49152).toString('base64');
/** A binary key (no NUL: an environment variable holds it), not UTF-8: its text form is not its bytes. */
const RAW = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + ((i * 37) % 127)));
/** A file in the pod that is no secret: its base64 must stay. */
const PUBLIC = `-----BEGIN CERTIFICATE-----\n${wrap(randomBytes(2990).toString('base64'), 64)}\n-----END CERTIFICATE-----\n`;

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;
let keyLineCount = 0;

const POLICY = execAndLogsPolicy('tls');

const b64 = (s: string) => Buffer.from(s).toString('base64');
const hex = (s: string) => Buffer.from(s).toString('hex');

/** Does the text, with its line breaks and hex gaps gone, decoded from base64 or hex at any alignment, hold 16 bytes of a value in a row? */
function shows(text: string, ...values: string[]): boolean {
  const decoded: string[] = [];
  for (const run of text.replace(/\r?\n/g, '').match(/[A-Za-z0-9+/_-]{20,}/g) ?? []) {
    for (let s = 0; s < 4; s++) decoded.push(Buffer.from(run.slice(s).replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')), 'base64').toString('latin1'));
  }
  for (const run of text.replace(/\r?\n ?| {1,2}/g, '').match(/[0-9a-fA-F]{32,}/g) ?? []) for (let s = 0; s < 2; s++) decoded.push(Buffer.from(run.slice(s), 'hex').toString('latin1'));
  return values.some((value) => {
    for (let i = 0; i + 16 <= value.length; i += 8) if (decoded.some((d) => d.includes(value.slice(i, i + 16)))) return true;
    return false;
  });
}

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  // prod returns 256 KiB a call (the 64 KiB value's hex fits whole); certs keeps 64 KiB (its encodings are cut).
  writeFileSync(dir.configPath, readFileSync(dir.configPath, 'utf8').replace('max_bytes: 65536', 'max_bytes: 262144'));
  server.store.put('secrets', { metadata: { name: 'tls', namespace: 'shop' }, type: 'Opaque', data: { key: b64(TLS_KEY), big: b64(BIG), raw: RAW.toString('base64') } });
  const keyLines = wrap(b64(`${TLS_KEY}\n`), 76).split('\n');
  keyLineCount = keyLines.length;
  const pod = server.store.addPod({
    namespace: 'shop', name: 'tls-1', labels: { app: 'tls' },
    files: { 'app/public.pem': PUBLIC },
    containers: [{
      name: 'app',
      env: { TLS_KEY, BIG, LOG_LEVEL: 'info' },
      logs: [
        { line: 'booting', ageSeconds: 40 },
        ...keyLines.map((line) => ({ line, ageSeconds: 30 })),
        { line: `big ${hex(BIG)}`, ageSeconds: 20 },
        { line: `public ${b64(PUBLIC)}`, ageSeconds: 10 },
        { line: 'ready', ageSeconds: 5 },
      ],
    }],
  }) as unknown as { spec: { containers: Record<string, unknown>[] } };
  Object.assign(pod.spec.containers[0]!, {
    env: [{ name: 'TLS_KEY', valueFrom: { secretKeyRef: { name: 'tls', key: 'key' } } }, { name: 'BIG', valueFrom: { secretKeyRef: { name: 'tls', key: 'big' } } }, { name: 'RAW_KEY', valueFrom: { secretKeyRef: { name: 'tls', key: 'raw' } } }, { name: 'LOG_LEVEL', value: 'info' }],
  });
  // What `printenv RAW_KEY` prints (the test runner's environment is text): the same bytes, in a file.
  writeFileSync(join(server.store.podDir('shop', 'tls-1')!, 'app', 'raw.bin'), Buffer.concat([RAW, Buffer.from('\n')]));
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (script: string, connection = 'prod') => w.call('kubectl_exec', { connection, namespace: 'shop', pod: 'tls-1', container: 'app', command: ['sh', '-c', script] });

test('base64 (76 and 64 columns, one line, URL-safe) and hex (xxd -p, od) of a 4 KiB private key from a Secret are masked; other encoded text stays', async () => {
  for (const script of ['echo "$TLS_KEY" | base64', 'printenv TLS_KEY | openssl base64', 'printf %s "$TLS_KEY" | base64 -w0', 'printf "k=%s;" "$TLS_KEY" | base64 -w0 | tr "+/" "-_"', 'printenv TLS_KEY | xxd -p', 'printenv TLS_KEY | od -An -tx1']) {
    const r = await exec(`${script}; echo end`);
    assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
    assert.ok(!shows(r.text, TLS_KEY), `${script}: ${r.text.slice(0, 600)}`);
    assert.match(r.text, /\*\*\*/, script);
    assert.match(r.text, /end/, script);
  }
  const pub = await exec('base64 /app/public.pem');
  assert.equal(pub.isError, false, pub.text.slice(0, 300));
  assert.ok(pub.text.replace(/\r?\n/g, '').includes(b64(PUBLIC).slice(100, 3000)), pub.text.slice(0, 300));
});

test('base64 and hex of a 64 KiB value are masked, whole or cut at the byte cap', async () => {
  for (const [script, connection] of [['echo "$BIG" | base64', 'prod'], ['printenv BIG | xxd -p', 'prod'], ['echo "$BIG" | base64', 'certs'], ['printenv BIG | xxd -p', 'certs'], ['printenv BIG | od -An -tx1', 'certs']] as const) {
    const r = await exec(script, connection);
    assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
    assert.ok(!shows(r.text, BIG), `${script} on ${connection}: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /\*\*\*/, script);
    if (connection === 'certs') assert.match(r.text, /truncated/i, script);
  }
});

test('a log holding the key wrapped over many lines, and the 64 KiB value in hex, shows neither; the rest of the log stays', async () => {
  const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'tls-1', container: 'app' });
  assert.equal(r.isError, false, r.text.slice(0, 300));
  assert.ok(!shows(r.text, TLS_KEY, BIG), r.text.slice(0, 600));
  assert.match(r.text, /booting/);
  assert.match(r.text, /big \*\*\*/);
  assert.match(r.text, /ready/);
  assert.ok(r.text.includes(b64(PUBLIC).slice(100, 3000)), 'base64 of other data stays');
});

test('a log window that begins inside the wrapped key (tail_lines) shows none of it either', async () => {
  for (const tail of [keyLineCount + 2, keyLineCount - 10, 40]) {
    const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'tls-1', container: 'app', tail_lines: tail + 3 });
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.ok(!shows(r.text, TLS_KEY), `tail ${tail + 3}: ${r.text.slice(0, 600)}`);
    assert.match(r.text, /ready/);
  }
});

test('base64 and hex of a binary value (not UTF-8) from a Secret are masked: its bytes are looked for, not its text', async () => {
  for (const script of ['base64 /app/raw.bin', 'xxd -p /app/raw.bin', 'od -An -tx1 /app/raw.bin']) {
    const r = await exec(script);
    assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
    assert.ok(!r.text.includes(RAW.toString('base64').slice(4, 20)) && !r.text.includes(RAW.toString('hex').slice(4, 20)) && !r.text.replace(/\s/g, '').includes(RAW.toString('hex').slice(4, 20)), `${script}: ${r.text}`);
    assert.match(r.text, /\*\*\*/, script);
  }
});

test('nothing of it reaches the transcript', () => {
  const transcript = dumpTranscript(dir.dbPath);
  assert.ok(!shows(transcript, TLS_KEY, BIG));
  assert.ok(!transcript.includes(RAW.toString('base64').slice(4, 20)));
});

/**
 * kubectl_exec and kubectl_logs, red team: a Secret's value encoded, then broken up by
 * whitespace in other places than `base64`'s own wrapping, was shown whole: an indented YAML
 * block (`base64 | sed 's/^/    /'`), `base64 | tr '\n' ' '`, `paste -sd' '`, tabs, runs of
 * spaces, `xxd -p | tr '\n' ' '`. Each piece was decoded alone, and the value spans them.
 * Warden now reads ASCII whitespace between two encoded characters as part of the run
 * (encoded-runs.ts). Ordinary text, `ls -l` and hex dumps of other data stay. Through
 * `warden serve`, the real MCP client and the test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { execAndLogsPolicy, setupWardenKube } from '../support/kube-apiserver/warden-setup.js';
import { mulberry32 } from '../support/prng.js';

const rand = mulberry32(0x53504345);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
const wrap = (s: string, cols: number) => s.replace(new RegExp(`.{${cols}}`, 'g'), '$&\n').replace(/\n$/, '');
/** A 2 KiB PEM private key, and a short token. */
const TLS_KEY = `-----BEGIN PRIVATE KEY-----\n${wrap(randomBytes(1500).toString('base64'), 64)}\n-----END PRIVATE KEY-----`;
const TOKEN = 'tok-Spaced-9f3b27c1e5';
/** A file in the pod that is no secret: its spaced-out base64 must stay. */
const PUBLIC = `-----BEGIN CERTIFICATE-----\n${wrap(randomBytes(1500).toString('base64'), 64)}\n-----END CERTIFICATE-----\n`;

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = execAndLogsPolicy('spaced', `
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes: { namespaces: [shop], kinds: [pods, events] }
`);

const b64 = (s: string) => Buffer.from(s).toString('base64');
/** The key's base64 as `base64` wraps it. */
const KEY_LINES = wrap(b64(`${TLS_KEY}\n`), 76).split('\n');

/** Does the text, all its whitespace gone, decoded from base64 or hex at any alignment, hold 12 bytes of a value in a row? */
function shows(text: string, ...values: string[]): boolean {
  const joined = text.replace(/[ \t\r\n]+/g, '');
  const decoded: string[] = [];
  for (const run of joined.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    for (let s = 0; s < 4; s++) decoded.push(Buffer.from(run.slice(s).replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')), 'base64').toString('latin1'));
  }
  for (const run of joined.match(/[0-9a-fA-F]{24,}/g) ?? []) for (let s = 0; s < 2; s++) decoded.push(Buffer.from(run.slice(s), 'hex').toString('latin1'));
  return values.some((value) => {
    for (let i = 0; i + 12 <= value.length; i += 4) if (decoded.some((d) => d.includes(value.slice(i, i + 12)))) return true;
    return false;
  });
}

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('secrets', { metadata: { name: 'spaced', namespace: 'shop' }, type: 'Opaque', data: { key: b64(TLS_KEY), token: b64(TOKEN) } });
  const pod = server.store.addPod({
    namespace: 'shop', name: 'spaced-1', labels: { app: 'spaced' },
    files: { 'app/public.pem': PUBLIC },
    containers: [{
      name: 'app',
      env: { TLS_KEY, TOKEN, LOG_LEVEL: 'info' },
      logs: [
        { line: 'rendered config:', ageSeconds: 40 },
        { line: 'bundle:', ageSeconds: 40 },
        { line: '  blob: |', ageSeconds: 40 },
        ...KEY_LINES.map((l) => ({ line: `    ${l}`, ageSeconds: 30 })),
        { line: `  ref: ${wrap(b64(TOKEN), 8).replace(/\n/g, '\t')}`, ageSeconds: 20 },
        { line: `  ca: ${wrap(b64(PUBLIC), 76).replace(/\n/g, ' ')}`, ageSeconds: 20 },
        { line: 'The quick brown fox jumps over the lazy dog in 12 bad cafe beds.', ageSeconds: 10 },
        { line: 'ready', ageSeconds: 5 },
      ],
    }],
  }) as unknown as { metadata: { uid: string }; spec: { containers: Record<string, unknown>[] }; status: { containerStatuses: Record<string, unknown>[] } };
  Object.assign(pod.spec.containers[0]!, {
    env: [{ name: 'TLS_KEY', valueFrom: { secretKeyRef: { name: 'spaced', key: 'key' } } }, { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'spaced', key: 'token' } } }, { name: 'LOG_LEVEL', value: 'info' }],
  });
  // kubectl_get: a termination message and a probe's event holding them, spaced out.
  Object.assign(pod.status.containerStatuses[0]!, {
    lastState: { terminated: { exitCode: 1, reason: 'Error', message: `token ${wrap(Buffer.from(TOKEN).toString('hex'), 8).replace(/\n/g, ' \t ')} rejected`, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z' } },
  });
  const ref = { kind: 'Pod', name: 'spaced-1', namespace: 'shop', uid: pod.metadata.uid };
  server.store.put('events', { metadata: { name: 'spaced-1.probe', namespace: 'shop' }, involvedObject: ref, reason: 'Unhealthy', message: `Readiness probe failed: bundle:\n${KEY_LINES.map((l) => `    ${l}`).join('\n')}\n`, type: 'Warning' });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (script: string) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'spaced-1', container: 'app', command: ['sh', '-c', script] });

test('base64 and hex of a key and a token from a Secret, indented, joined by spaces or tabs, CRLF, several spaces: masked', async () => {
  const scripts = [
    `printf 'bundle:\\n  blob: |\\n'; echo "$TLS_KEY" | base64 | sed 's/^/    /'`,
    `echo "$TLS_KEY" | base64 | tr '\\n' ' '`,
    `echo "$TLS_KEY" | base64 -w0 | fold -w 20`,
    `echo "$TLS_KEY" | base64 | paste -sd' '`,
    `echo "$TLS_KEY" | base64 | sed 's/$/\\r/'`,
    `echo "$TLS_KEY" | base64 | tr '\\n' '\\t'`,
    `echo "$TLS_KEY" | base64 -w 30 | tr '\\n' ' ' | sed 's/ /   /g'`,
    `printenv TLS_KEY | xxd -p | tr '\\n' ' '`,
    `printenv TLS_KEY | xxd -p | sed 's/^/\\t/'`,
    `printf %s "$TOKEN" | base64 -w 8 | paste -sd' '`,
    `printf %s "$TOKEN" | xxd -p -c 4 | paste -sd' '`,
  ];
  for (const script of scripts) {
    const r = await exec(`${script}; echo; echo end`);
    assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
    assert.ok(!shows(r.text, TLS_KEY, TOKEN), `${script}: ${r.text.slice(0, 600)}`);
    assert.match(r.text, /\*\*\*/, script);
    assert.match(r.text, /end/, script);
  }
  const yaml = await exec(scripts[0]!);
  assert.match(yaml.text, /bundle:\n {2}blob: \|\n {4}\*\*\*\n {4}\*\*\*\n/, 'the YAML block\'s lines stay, each masked, its indentation kept');
});

test('legit neighbours stay: other data\'s base64 spaced out, ls -l, a hex dump with offsets, a sentence', async () => {
  const pub = await exec(`base64 /app/public.pem | tr '\\n' ' '`);
  assert.equal(pub.isError, false, pub.text.slice(0, 300));
  assert.ok(pub.text.includes(wrap(b64(PUBLIC), 76).replace(/\n/g, ' ').slice(0, 1500)), pub.text.slice(0, 300));
  assert.doesNotMatch(pub.text, /\*\*\*/);
  for (const script of ['ls -l /app', 'xxd /app/public.pem | head -20', 'od -Ax -tx1 /app/public.pem | head -20', `echo 'The quick brown fox jumps over the lazy dog, 12 bad cafe beds in 2024.'`]) {
    const r = await exec(script);
    assert.equal(r.isError, false, `${script}: ${r.text.slice(0, 300)}`);
    assert.doesNotMatch(r.text, /\*\*\*/, `${script}: ${r.text.slice(0, 600)}`);
  }
});

test('a log holding the key as an indented YAML block (under a name that does not look secret) and the token tab-separated shows neither; the rest of the log stays', async () => {
  const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'spaced-1', container: 'app' });
  assert.equal(r.isError, false, r.text.slice(0, 300));
  assert.ok(!shows(r.text, TLS_KEY, TOKEN), r.text.slice(0, 600));
  assert.match(r.text, /rendered config:\nbundle:\n {2}blob: \|\n {4}\*\*\*\n {4}\*\*\*\n/);
  assert.match(r.text, /\n {2}ref: \*\*\*\n/);
  assert.ok(r.text.includes(`  ca: ${wrap(b64(PUBLIC), 76).replace(/\n/g, ' ').slice(0, 1500)}`), 'other data stays');
  assert.match(r.text, /The quick brown fox jumps over the lazy dog in 12 bad cafe beds\.\nready/);
  // A window beginning inside the indented block: its start masked too.
  const tail = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'spaced-1', container: 'app', tail_lines: 12 });
  assert.equal(tail.isError, false, tail.text.slice(0, 300));
  assert.ok(!shows(tail.text, TLS_KEY, TOKEN), tail.text.slice(0, 600));
  assert.match(tail.text, /ready/);
});

test("kubectl_get: a termination message with the token's hex spaced out, an event with the key's base64 indented: masked", async () => {
  const pods = await w.call('kubectl_get', { connection: 'prod', namespace: 'shop', kind: 'pods', name: 'spaced-1' });
  assert.equal(pods.isError, false, pods.text.slice(0, 300));
  assert.match(pods.text, /token \*\*\* rejected/);
  assert.ok(!pods.text.includes(Buffer.from(TOKEN).toString('hex').slice(0, 8)), pods.text);
  const events = await w.call('kubectl_get', { connection: 'prod', namespace: 'shop', kind: 'events', name: 'spaced-1.probe' });
  assert.equal(events.isError, false, events.text.slice(0, 300));
  assert.match(events.text, /Readiness probe failed: bundle:/);
  assert.match(events.text, /\*\*\*/);
  assert.ok(KEY_LINES.slice(0, -1).every((l) => !events.text.includes(l.slice(0, 40))), events.text.slice(0, 600));
});

test('nothing of it reaches the transcript', () => {
  assert.ok(!shows(dumpTranscript(dir.dbPath), TLS_KEY, TOKEN));
});

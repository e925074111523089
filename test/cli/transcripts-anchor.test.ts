/**
 * `warden transcripts head`, `verify --expect-head` and `verify --strict` as an operator uses them
 * against the rollback attack: an older signed head file put back and the chain rewritten after
 * it. Since schema v13 a plain verify fails too (records beyond the signed head: a key holder signs
 * in the commit of its records; before, it passed with "N newer unsigned"), as do the strict check
 * and a head copied off the host earlier; a healthy store passes all three.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { tempDir } from '../recorder/fixtures.js';
import { keyPem, oneSession, rollbackAttack } from '../recorder/rollback-fixture.js';
import { WARDEN_BIN } from '../support/repo.js';
import { writeWardenDir } from '../support/warden-process.js';

async function run(store: SqliteTranscriptStore, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTranscriptsCommand(args, { store, json: false, out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('head prints the newest record, its SEQ:HASH anchor and the signed head with its signature', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'), { signer: createChainSigner(keyPem()) });
  t.after(() => store.close());
  assert.equal((await run(store, ['head'])).out, 'no records');
  await oneSession(store, 's1', 'c1', '2026-01-01');
  const v = await store.verify();
  const doc = JSON.parse((await run(store, ['head', '--json'])).out);
  assert.deepEqual([doc.seq, doc.hash, doc.anchor], [4, v.head!.hash, `4:${v.head!.hash}`]);
  assert.deepEqual([doc.signedHead.seq, doc.signedHead.signature, doc.signatureValid], [4, v.signedHead!.signature, true]);
  const human = await run(store, ['head']);
  assert.equal(human.code, 0);
  assert.match(human.out, new RegExp(`^anchor +4:${v.head!.hash}$`, 'm'));
  assert.match(human.out, /signature valid/);
  assert.match(human.out, new RegExp(`^signature +${v.signedHead!.signature.replace(/[+/]/g, '\\$&')}$`, 'm'));
  assert.equal((await run(store, ['head', 'x'])).code, 2);
});

test('rollback attack: verify, --strict and --expect-head of a later copied head fail', async (t) => {
  const dir = tempDir(t);
  const { store, copied } = await rollbackAttack(join(dir, 'w.db'), keyPem());
  t.after(() => store.close());
  const plain = await run(store, ['verify']);
  assert.equal(plain.code, 1, plain.out);
  assert.match(plain.err, /broken at record 5: records 5-8 are newer than the signed head 4 and unsigned/);

  const strict = await run(store, ['verify', '--strict']);
  assert.equal(strict.code, 1);
  assert.match(strict.err, /broken at record 5: records 5-8 are newer than the signed head 4 and unsigned/);
  const strictJson = await runTranscriptsCommand(['verify', '--strict', '--json'], { store, json: false, out: (s) => assert.equal(JSON.parse(s).ok, false), err: () => {} });
  assert.equal(strictJson, 1);

  const anchored = await run(store, ['verify', '--expect-head', `${copied.seq}:${copied.hash}`]);
  assert.equal(anchored.code, 1);
  assert.match(anchored.err, /broken at record 5: records 5-8 are newer than the signed head 4/);
  const file = join(dir, 'anchors.txt');
  writeFileSync(file, `# copied from the SIEM\n\n${copied.seq}:${copied.hash}\n`);
  assert.equal((await run(store, ['verify', '--expect-head-file', file])).code, 1);
});

test('a healthy signed store passes verify, --strict and --expect-head (repeated and from a file)', async (t) => {
  const dir = tempDir(t);
  const store = openSqliteStore(join(dir, 'w.db'), { signer: createChainSigner(keyPem()) });
  t.after(() => store.close());
  await oneSession(store, 's1', 'c1', '2026-01-01');
  const first = JSON.parse((await run(store, ['head', '--json'])).out).anchor as string;
  await oneSession(store, 's2', 'c2', '2026-03-01');
  const second = JSON.parse((await run(store, ['head', '--json'])).out).anchor as string;
  writeFileSync(join(dir, 'a.txt'), `${first}\r\n${second}\n`);
  for (const args of [['verify'], ['verify', '--strict'], ['verify', '--expect-head', first, '--expect-head', second], ['verify', '--strict', `--expect-head-file=${join(dir, 'a.txt')}`]]) {
    const r = await run(store, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  }
  assert.match((await run(store, ['verify', '--expect-head', first, '--expect-head', second])).out, /2 expected heads found/);
});

test('--strict without a signing key fails (nothing is signed); bad anchors and ranges are usage errors', async (t) => {
  const dir = tempDir(t);
  const store = openSqliteStore(join(dir, 'w.db'));
  t.after(() => store.close());
  assert.equal((await run(store, ['verify', '--strict'])).code, 0, 'an empty store has nothing unsigned');
  await oneSession(store, 's1', 'c1', '2026-01-01');
  const head = JSON.parse((await run(store, ['head', '--json'])).out);
  assert.equal(head.signedHead, null);
  assert.equal((await run(store, ['verify', '--expect-head', head.anchor])).code, 0);
  const strict = await run(store, ['verify', '--strict']);
  assert.equal(strict.code, 1);
  assert.match(strict.err, /no signed head \(--strict needs transcripts.signing_key\)/);
  assert.equal((await run(store, ['verify', '--expect-head', '4:abc'])).code, 2);
  assert.equal((await run(store, ['verify', '--strict', '--from', '2'])).code, 2);
  writeFileSync(join(dir, 'bad.txt'), 'nope\n');
  const bad = await run(store, ['verify', '--expect-head-file', join(dir, 'bad.txt')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /bad\.txt:1: "nope" is not SEQ:HASH/);
});

test('the warden bin passes --strict and --expect-head through (signing key from the config)', async (t) => {
  const pem = keyPem();
  const wd = writeWardenDir('transcripts: { store: sqlite:warden.db, signing_key: file:key.pem }\nconnections: {}\npolicies: []\n', {});
  t.after(() => wd.cleanup());
  writeFileSync(join(wd.dir, 'key.pem'), pem, { mode: 0o600 });
  const { store, copied } = await rollbackAttack(wd.dbPath, pem);
  await store.close();
  const warden = (...args: string[]) => spawnSync(process.execPath, [WARDEN_BIN, 'transcripts', ...args, '--config', wd.configPath], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  const head = warden('head', '--json');
  assert.equal(head.status, 0, head.stderr);
  assert.equal(JSON.parse(head.stdout).signedHead.seq, 4);
  const plain = warden('verify');
  assert.equal(plain.status, 1, plain.stdout + plain.stderr);
  assert.equal(warden('verify', '--strict').status, 1);
  const anchored = warden('verify', '--expect-head', `${copied.seq}:${copied.hash}`);
  assert.equal(anchored.status, 1);
  assert.match(anchored.stderr, /record 5/);
});

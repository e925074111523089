/**
 * `warden transcripts verify --file EXPORT`: an auditor checks an export offline, without the
 * store, as real `warden` child processes. The export carries the store's signed head on the
 * line of the record it names, checked against the configured key or `--public-key`; an edited,
 * re-hashed, gapped or cut export, a forged signature, a window that does not start after the
 * expected head, and an illegal approval history are reported; an older export (no signed head)
 * passes with a note and fails `--strict`. Before this change there was no `--file` (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { canonicalJson } from '../../src/recorder/canonical-json.js';
import { recordHash } from '../../src/recorder/hash-chain.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { approvalRequest } from '../recorder/fixtures.js';
import { keyPem, oneSession } from '../recorder/rollback-fixture.js';
import { WARDEN_BIN } from '../support/repo.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';

type Run = { status: number | null; stdout: string; stderr: string };
type Line = Record<string, unknown> & { seq: number; hash: string; prev_hash: string; body: Record<string, unknown> };

/** `warden transcripts ARGS` in `cwd` (a folder without warden.yaml unless it is the config's). */
function warden(cwd: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [WARDEN_BIN, 'transcripts', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A signed store with two sessions (records 1-8), its config, the key's public PEM and an empty folder. */
async function signedStore(t: { after: (fn: () => void) => void }): Promise<{ wd: WardenDir; pubPath: string; away: string; pem: string }> {
  const pem = keyPem();
  const wd = writeWardenDir('transcripts: { store: sqlite:warden.db, signing_key: file:key.pem }\nconnections: {}\npolicies: []\n', {});
  const away = mkdtempSync(join(tmpdir(), 'warden-auditor-'));
  t.after(() => {
    wd.cleanup();
    rmSync(away, { recursive: true, force: true });
  });
  writeFileSync(join(wd.dir, 'key.pem'), pem, { mode: 0o600 });
  const pubPath = join(away, 'transcripts.pub.pem');
  writeFileSync(pubPath, createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString());
  const store = openSqliteStore(wd.dbPath, { signer: createChainSigner(pem) });
  await oneSession(store, 's1', 'c1', '2026-01-01');
  await oneSession(store, 's2', 'c2', '2026-03-01');
  await store.close();
  return { wd, pubPath, away, pem };
}

function exported(wd: WardenDir, ...args: string[]): string {
  const r = warden(wd.dir, 'export', '--config', wd.configPath, ...args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const parse = (text: string): Line[] => text.trim().split('\n').map((l) => JSON.parse(l) as Line);
const unparse = (lines: Line[]): string => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

/** What a forger without the key does: recompute every hash from `from` on, so the chain holds again. */
function rehash(lines: Line[]): Line[] {
  let prev = lines[0]!.prev_hash;
  return lines.map((l) => {
    const hash = recordHash(prev, String(l.kind), String(l.ref_id), String(l.ts), canonicalJson(l.body));
    const out = { ...l, prev_hash: prev, hash };
    prev = hash;
    return out;
  });
}

test('an export of a signed store verifies offline: with the config key, with --public-key, and notes an unchecked signature', async (t) => {
  const { wd, pubPath, away } = await signedStore(t);
  const text = exported(wd);
  const lines = parse(text);
  assert.deepEqual(lines.map((l) => l.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
  // Only the record the signed head names carries it: the schema's other lines are unchanged.
  assert.deepEqual(lines.map((l) => l.signed_head !== undefined), [false, false, false, false, false, false, false, true]);
  const file = join(away, 'export.jsonl');
  writeFileSync(file, text);

  const withConfig = warden(wd.dir, 'verify', '--file', file, '--config', wd.configPath);
  assert.equal(withConfig.status, 0, withConfig.stderr);
  assert.match(withConfig.stdout, /^transcript export intact: 8 records \(records 1-8, head 8 [0-9a-f]{64}\); starts at the first record; signed head 8 \(key [0-9a-f]{16}, signature valid\)$/m);

  // The auditor's machine: no warden.yaml, no store, the public key only.
  const offline = warden(away, 'verify', '--file', file, '--public-key', pubPath, '--strict', '--json');
  assert.equal(offline.status, 0, offline.stderr);
  const doc = JSON.parse(offline.stdout);
  assert.deepEqual([doc.ok, doc.records, doc.signatureChecked, doc.signedHead.seq, doc.notes], [true, 8, true, 8, []]);

  const noKey = warden(away, 'verify', '--file', file);
  assert.equal(noKey.status, 0, noKey.stderr);
  assert.match(noKey.stdout, /signature NOT checked/);
  assert.match(noKey.stdout, /^note: the signed head \(record 8, key [0-9a-f]{16}\) was not checked: no public key/m);
  const strict = warden(away, 'verify', '--file', file, '--strict');
  assert.equal(strict.status, 1);
  assert.match(strict.stderr, /transcript chain broken at record 8: the signed head was not checked: no public key \(--strict\)/);
  // Standard input works too.
  const piped = spawnSync(process.execPath, [WARDEN_BIN, 'transcripts', 'verify', '--file', '-', '--public-key', pubPath], { cwd: away, input: text, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(piped.status, 0, piped.stderr);
  // Usage errors: --file with a range, --public-key without --file.
  assert.equal(warden(away, 'verify', '--file', file, '--from', '2').status, 2);
  assert.equal(warden(away, 'verify', '--public-key', pubPath).status, 2);
});

test('an edited export, the same re-hashed, a gap and a forged signature are reported; a cut or older export passes with a note and fails --strict', async (t) => {
  const { wd, pubPath, away } = await signedStore(t);
  const lines = parse(exported(wd));
  const check = (name: string, content: Line[], ...extra: string[]): Run => {
    const file = join(away, `${name}.jsonl`);
    writeFileSync(file, unparse(content));
    return warden(away, 'verify', '--file', file, '--public-key', pubPath, ...extra);
  };
  const edit = (l: Line): Line => (l.seq === 3 ? { ...l, body: { ...l.body, status: 'error' } } : l);

  const edited = check('edited', lines.map(edit));
  assert.equal(edited.status, 1);
  assert.match(edited.stderr, /^transcript chain broken at record 3 \(line 3\): hash does not match the record/m);

  const rehashed = check('rehashed', rehash(lines.map(edit)));
  assert.equal(rehashed.status, 1);
  assert.match(rehashed.stderr, /broken at record 8 \(line 8\): the signed head names another hash for record 8: the chain was rewritten after it was signed/);

  const gap = check('gap', lines.filter((l) => l.seq !== 5));
  assert.equal(gap.status, 1);
  assert.match(gap.stderr, /broken at record 6 \(line 5\): record 5 is missing: the export is not consecutive/);

  const other = createChainSigner(keyPem());
  const forged = check('forged', lines.map((l) => (l.signed_head ? { ...l, signed_head: other.signHead!(l.seq, l.hash) } : l)));
  assert.equal(forged.status, 1);
  assert.match(forged.stderr, /broken at record 8 \(line 8\): the signed head is signed by key [0-9a-f]{16}, not the configured key/);

  // The tail cut off (the signed head's line with it), and an export written before signed_head existed.
  for (const [name, content] of [['cut', lines.slice(0, 6)], ['older', lines.map(({ signed_head: _s, ...l }) => l as Line)]] as const) {
    const plain = check(name, content);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /^note: the export carries no signed head .*checked against each other only/m);
    const strict = check(name, content, '--strict');
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, /the export carries no signed head \(--strict\)/);
  }
  // ...which is why an older export re-hashed after an edit passes: the note says so.
  assert.equal(check('older-rehashed', rehash(lines.map(edit).map(({ signed_head: _s, ...l }) => l as Line))).status, 0);
});

test('an export of a time window starts after a record; --expect-head ties it to the export before', async (t) => {
  const { wd, pubPath, away } = await signedStore(t);
  const all = parse(exported(wd));
  const before = exported(wd, '--until', '2026-02-01');
  const window = exported(wd, '--since', '2026-02-01');
  const windowFile = join(away, 'window.jsonl');
  writeFileSync(windowFile, window);
  const last = parse(before).at(-1)!;
  assert.equal(last.seq, 4);

  // The window's last line carries its signed statement (where it starts and ends): checked with the key.
  const alone = warden(away, 'verify', '--file', windowFile, '--public-key', pubPath);
  assert.equal(alone.status, 0, alone.stderr);
  assert.match(alone.stdout, /intact: 4 records \(records 5-8, .*starts after record 4; signed head 8/);
  assert.doesNotMatch(alone.stdout, /note: the export starts after/);
  // Without a key the statement cannot be checked: the start is tied to nothing, which fails closed.
  const keyless = warden(away, 'verify', '--file', windowFile);
  assert.equal(keyless.status, 1, keyless.stdout);
  assert.match(keyless.stderr, new RegExp(`the export starts after record 4, which nothing ties it to: its window statement was not checked .*--expect-head 4:${last.hash}`));

  const anchored = warden(away, 'verify', '--file', windowFile, '--public-key', pubPath, '--expect-head', `4:${last.hash}`);
  assert.equal(anchored.status, 0, anchored.stderr);
  assert.match(anchored.stdout, /1 expected head found/);
  assert.doesNotMatch(anchored.stdout, /note: the export starts after/);

  const wrong = warden(away, 'verify', '--file', windowFile, '--expect-head', `4:${all[2]!.hash}`);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /broken at record 5 \(line 1\): the export starts after record 4, but not after the expected head 4/);
  const outside = warden(away, 'verify', '--file', windowFile, '--expect-head', `2:${all[1]!.hash}`);
  assert.equal(outside.status, 1);
  assert.match(outside.stderr, /broken at record 2: expected head 2 is not in the export \(it holds records 5-8\)/);
});

test('an export whose approval history no store could write (a request used twice) is reported', async (t) => {
  const wd = writeWardenDir('transcripts: { store: sqlite:warden.db }\nconnections: {}\npolicies: []\n', {});
  t.after(() => wd.cleanup());
  const store = openSqliteStore(wd.dbPath);
  const ok = () => undefined;
  await store.approvals.create(approvalRequest('a1', '2026-11-28T10:00:00.000Z'));
  await store.approvals.decide('a1', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:01:00.000Z' }, ok);
  assert.equal(await store.approvals.consume('a1', 'call-a1', '2026-11-28T10:02:00.000Z'), true);
  await store.close();
  const lines = parse(exported(wd));
  const file = join(wd.dir, 'export.jsonl');
  writeFileSync(file, unparse(lines));
  assert.equal(warden(wd.dir, 'verify', '--file', file).status, 0);
  const used = lines.at(-1)!;
  assert.equal(used.body.event, 'used');
  const twice = rehash([...lines, { ...used, seq: used.seq + 1, body: { ...used.body, callId: 'call-other' } }]);
  writeFileSync(file, unparse(twice));
  const r = warden(wd.dir, 'verify', '--file', file);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`broken at record ${used.seq + 1} \\(line ${twice.length}\\): approval request "a1" is used: a \`used\` event cannot follow`));
});

test('a window export whose first record was dropped fails verify --file (the export closes its window with a signed statement of where it starts and ends)', async (t) => {
  const { wd, pubPath, away } = await signedStore(t);
  const window = parse(exported(wd, '--since', '2026-02-01'));
  assert.deepEqual(window.map((l) => l.seq), [5, 6, 7, 8]);
  const check = (name: string, lines: Line[], ...args: string[]): Run => {
    const file = join(away, `${name}.jsonl`);
    writeFileSync(file, unparse(lines));
    return warden(away, 'verify', '--file', file, '--public-key', pubPath, ...args);
  };
  assert.equal(check('whole', window).status, 0);
  // Record 5 (the session's open) dropped: the export now starts after record 5, whose hash record 6 names.
  const dropped = check('dropped', window.slice(1));
  assert.equal(dropped.status, 1, dropped.stdout);
  assert.match(dropped.stderr, /the export window starts after record 4, but the export starts after record 5/);
  // The closing statement removed too (with the last record, or alone): the start is tied to nothing.
  const bare = window.slice(1).map(({ export_window: _w, ...l }) => l as Line);
  const none = check('bare', bare);
  assert.equal(none.status, 1, none.stdout);
  assert.match(none.stderr, /the export starts after record 5, which nothing ties it to/);
  // ...unless the operator ties it with the head of the export before.
  assert.equal(check('bare', bare, '--expect-head', `5:${window[0]!.hash}`).status, 0);
  // The statement is signed: moved to another start, it fails.
  const last = window.at(-1)!;
  const moved = check('moved', [...window.slice(1, -1), { ...last, export_window: { ...(last.export_window as Record<string, unknown>), after: { seq: 5, hash: window[0]!.hash } } }]);
  assert.equal(moved.status, 1);
  assert.match(moved.stderr, /the export window is not signed by the configured key/);
});

/**
 * Anchored heads on the SQLite store: an older, validly signed head put back and the chain
 * rewritten after it fails a plain verify since schema v13 (records beyond the signed head are a
 * break: a key holder signs in the commit of its records), and the head copied off the host
 * earlier is missed too. Anchors work with and without a key, and across a retention cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { anchorMismatch, formatAnchor, parseAnchor } from '../../src/recorder/verify-anchors.js';
import { tempDir } from './fixtures.js';
import { keyPem, oneSession, rollbackAttack } from './rollback-fixture.js';

test('SEQ:HASH parses as `transcripts head` prints it; anything else does not', () => {
  const hash = 'AB'.repeat(32);
  assert.deepEqual(parseAnchor(` 12:${hash} `), { seq: 12, hash: hash.toLowerCase() });
  assert.equal(formatAnchor({ seq: 12, hash: 'ab'.repeat(32) }), `12:${'ab'.repeat(32)}`);
  for (const bad of ['0:' + hash, '-1:' + hash, '12:' + hash.slice(1), '12', `12:${hash}:x`, `1e3:${hash}`, `99999999999999999:${hash}`]) {
    assert.equal(parseAnchor(bad), null, bad);
  }
});

test('an older signed head put back, the chain rewritten after it: a plain verify fails on the unsigned records, as the copied head does', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const { store, copied } = await rollbackAttack(path, keyPem());
  t.after(() => store.close());
  // The signed head (record 4) is in the chain; 5-8 are beyond it, which no key holder leaves.
  const plain = await store.verify();
  assert.equal(plain.ok, false);
  assert.deepEqual([plain.records, plain.signedHead?.seq, plain.unsignedTail, plain.firstBroken?.seq], [8, 4, 4, 5]);
  assert.match(plain.firstBroken?.reason ?? '', /records 5-8 are newer than the signed head 4 and unsigned/);
  assert.notEqual(plain.head?.hash, copied.hash);
  const anchored = await store.verify({ anchors: [copied] });
  assert.equal(anchored.ok, false);
  assert.equal(anchored.firstBroken?.seq, 5);
  // The anchor alone (no key: verify-anchors below) names record 8.
  const four = (await store.readRecords(4, 1))[0]!;
  assert.equal((await store.verify({ anchors: [{ seq: 4, hash: four.hash }] })).firstBroken?.seq, 5);
});

test('without a key too: a rewritten or cut chain misses the copied head', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const { store, copied } = await rollbackAttack(path, undefined);
  t.after(() => store.close());
  assert.equal((await store.verify()).ok, true);
  assert.equal((await store.verify({ anchors: [copied] })).firstBroken?.seq, 8);
  // Cut below the anchor: the chain ends before it.
  const later = { seq: 12, hash: 'f'.repeat(64) };
  const cut = await store.verify({ anchors: [later, copied] });
  assert.equal(cut.firstBroken?.seq, 8, 'the lowest contradicted anchor is named');
  const past = await store.verify({ anchors: [later] });
  assert.match(past.firstBroken?.reason ?? '', /expected head 12 is missing: the chain ends at 8/);
});

test('a healthy store passes its anchors, signed or not, and one read per anchor decides', async (t) => {
  for (const pem of [keyPem(), undefined]) {
    const path = join(tempDir(t), 'w.db');
    const store = openSqliteStore(path, pem ? { signer: createChainSigner(pem) } : {});
    await oneSession(store, 's1', 'c1', '2026-01-01');
    const first = (await store.chainHead()).head!;
    await oneSession(store, 's2', 'c2', '2026-03-01');
    const h = await store.chainHead();
    assert.equal(h.signatureValid, pem ? true : undefined);
    assert.equal(h.signedHead !== undefined, Boolean(pem));
    const v = await store.verify({ anchors: [first, h.head!] });
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.equal(v.unsignedTail, pem ? 0 : undefined);
    await store.close();
  }
  const reads: number[] = [];
  const hashAt = (seq: number) => (reads.push(seq), seq === 3 ? 'a'.repeat(64) : undefined);
  assert.equal(anchorMismatch([{ seq: 3, hash: 'a'.repeat(64) }], hashAt, { seq: 9 }, undefined), undefined);
  assert.deepEqual(reads, [3]);
});

test('anchors and retention: the cut itself is checked against the checkpoint, an older anchor can no longer be', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path, { signer: createChainSigner(keyPem()) });
  t.after(() => store.close());
  await oneSession(store, 's1', 'c1', '2026-01-01');
  const [two, four] = [(await store.readRecords(2, 1))[0]!, (await store.readRecords(4, 1))[0]!];
  await oneSession(store, 's2', 'c2', '2026-03-01');
  await store.purge('2026-02-01T00:00:00.000Z');
  assert.equal((await store.verify({ anchors: [{ seq: 4, hash: four.hash }] })).ok, true);
  const forged = await store.verify({ anchors: [{ seq: 4, hash: two.hash }] });
  assert.match(forged.firstBroken?.reason ?? '', /not the hash the retention checkpoint names/);
  const old = await store.verify({ anchors: [{ seq: 2, hash: two.hash }] });
  assert.equal(old.ok, false);
  assert.match(old.firstBroken?.reason ?? '', /purged by retention \(cut at 4\)/);
});

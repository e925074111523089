/**
 * Red-team: `warden approvals approve|deny` write approval events, so with
 * `transcripts.signing_key` they must sign the head like the server does. The CLI opened the store
 * without the key: a reviewer's deny stayed an unsigned tail, which someone with write access to
 * the file (not the key) could cut, setting the request back to pending, and `verify` passed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { keyPem } from '../recorder/rollback-fixture.js';
import { approvalsCli, cliShow, ORDERS_FIX_POLICY, pendingCliRequest } from './support.js';

let dir: WardenDir;
let pem: string;

before(() => {
  pem = keyPem();
  dir = writeWardenDir('', { 'p.yaml': ORDERS_FIX_POLICY });
  const keyPath = join(dir.dir, 'transcripts-ed25519.pem');
  writeFileSync(keyPath, pem);
  chmodSync(keyPath, 0o600);
  writeFileSync(dir.configPath, `transcripts: { store: sqlite:warden.db, signing_key: file:${keyPath} }
identity: { stdio: { subject: sam, groups: [sre] } }
connections:
  db: { type: postgres, url: env:UNUSED_URL }
policies: [policies/*.yaml]
`);
});

after(() => dir?.cleanup());

test('a reviewer\'s deny from the CLI is under the signed head: cutting it is reported', async () => {
  const id = await pendingCliRequest(dir.dbPath, 'UPDATE orders SET total = 9 WHERE id = 9', 'stdio', createChainSigner(pem));
  const ro = new Database(dir.dbPath, { readonly: true });
  const requested = (ro.prepare('SELECT MAX(seq) AS s FROM records').get() as { s: number }).s;
  ro.close();
  const r = await approvalsCli(['deny', id, '--as', 'dana', '--groups', 'dba', '--config', dir.configPath]);
  assert.equal(r.code, 0, r.err);
  assert.equal((await cliShow(dir.configPath, id)).state, 'denied');
  const store = openSqliteStore(dir.dbPath, { signer: createChainSigner(pem) });
  try {
    const v = await store.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.ok(v.head!.seq > requested, 'the deny wrote records');
    assert.equal(v.signedHead?.seq, v.head?.seq, 'the CLI signed the head over its own approval events');
    assert.equal(v.unsignedTail, 0);
  } finally {
    await store.close();
  }
  // Someone with write access to the file, not the key, takes the deny back.
  const evil = new Database(dir.dbPath);
  evil.exec('DROP TRIGGER records_append_only_delete');
  evil.prepare('DELETE FROM records WHERE seq > ?').run(requested);
  evil.prepare('DELETE FROM approval_decisions WHERE approval_id = ?').run(id);
  evil.prepare(`UPDATE approvals SET state = 'pending', decided_at = NULL WHERE id = ?`).run(id);
  evil.exec(`CREATE TRIGGER records_append_only_delete BEFORE DELETE ON records BEGIN SELECT RAISE(ABORT, 'transcript records are append-only'); END;`);
  evil.close();
  assert.equal((await cliShow(dir.configPath, id)).state, 'pending');
  const check = openSqliteStore(dir.dbPath, { signer: createChainSigner(pem), readonly: true });
  try {
    const v = await check.verify();
    assert.equal(v.ok, false, 'the cut deny is reported');
    assert.match(v.firstBroken!.reason, /tail truncated/);
  } finally {
    await check.close();
  }
});

/**
 * The running server logs once, with the reason, when the key holder refuses to sign over a
 * chain that lost its signed head (cut by someone without the key): otherwise nobody learns of it
 * until someone runs verify. Both SQLite write paths (serving thread, writer thread). A server
 * started on an already cut chain says so at startup (`found: startup`), before any call, and
 * its first writes add no second warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cutSignedStore, keyPem } from '../recorder/rollback-fixture.js';
import { connectWarden, writeWardenDir } from '../support/warden-process.js';

for (const writer of ['inline', 'thread'] as const) {
  test(`serve logs one warning when the signed head cannot be followed (writer: ${writer})`, async (t) => {
    const pem = keyPem();
    const wd = writeWardenDir(`transcripts: { store: sqlite:warden.db, signing_key: file:key.pem, writer: ${writer} }\nconnections: {}\npolicies: []\n`, {});
    t.after(() => wd.cleanup());
    writeFileSync(join(wd.dir, 'key.pem'), pem, { mode: 0o600 });
    await cutSignedStore(wd.dbPath, pem);
    const w = await connectWarden(wd.configPath);
    try {
      await w.call('list_connections', {});
      await w.call('list_connections', {});
      const lines = w.stderr().split('\n').filter((l) => /signed chain head/.test(l));
      assert.equal(lines.length, 1, w.stderr());
      const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.equal(entry.level, 'warn');
      assert.match(String(entry.reason), /record 8, the signed head, is gone/);
      assert.equal(entry.found, 'startup', 'found by the check at startup, not by the first write');
      assert.doesNotMatch(w.stderr(), /PRIVATE KEY/);
    } finally {
      await w.close();
    }
  });
}

test('serve warns at startup, before any call, when started on a chain cut without the key', async (t) => {
  const pem = keyPem();
  const wd = writeWardenDir('transcripts: { store: sqlite:warden.db, signing_key: file:key.pem }\nconnections: {}\npolicies: []\n', {});
  t.after(() => wd.cleanup());
  writeFileSync(join(wd.dir, 'key.pem'), pem, { mode: 0o600 });
  await cutSignedStore(wd.dbPath, pem);
  const w = await connectWarden(wd.configPath);
  try {
    // No tool call, so no call record: the warning comes from the startup check (stderr and the
    // MCP answer travel on different pipes, so wait a little for the line).
    const deadline = Date.now() + 5000;
    while (!/signed chain head/.test(w.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lines = w.stderr().split('\n').filter((l) => /signed chain head/.test(l));
    assert.equal(lines.length, 1, w.stderr());
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(entry.found, 'startup');
    assert.match(String(entry.reason), /record 8, the signed head, is gone/);
  } finally {
    await w.close();
  }
});

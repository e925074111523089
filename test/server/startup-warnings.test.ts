/**
 * `warden serve` says at startup what `policy check` would warn about a policies: pattern that
 * matches no file: a typo there otherwise loads as "0 rules" with nothing in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connectWarden, writeWardenDir } from '../support/warden-process.js';

test('serve logs a warning, with FILE:LINE, for a policies: pattern that matches no file', async () => {
  const dir = writeWardenDir('transcripts: { store: sqlite:warden.db }\npolicies:\n  - policies/*.yaml\n  - extra/*.yml\n', { 'p.yaml': 'rules: []\n' });
  mkdirSync(join(dir.dir, 'extra'));
  const w = await connectWarden(dir.configPath);
  try {
    const { tools } = await w.client.listTools();
    assert.ok(tools.length > 0, 'the server runs');
    assert.match(w.stderr(), /policy pattern matches no file/);
    assert.match(w.stderr(), /warden\.yaml:4/);
    assert.match(w.stderr(), /extra\/\*\.yml matches no policy file/);
    assert.doesNotMatch(w.stderr(), /policies\/\*\.yaml matches no policy file/);
  } finally {
    await w.close();
    dir.cleanup();
  }
});

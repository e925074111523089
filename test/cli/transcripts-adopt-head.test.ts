/**
 * The operator's view of a store with records but no signed head once `transcripts.signing_key`
 * is set (an upgrade, a key newly configured, a deleted head file): `warden serve` and the CLI
 * writers refuse with the command to run, reads still work, `warden transcripts adopt-head`
 * verifies and signs, and the writers then run. Real binary, real config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { keyPem, oneSession } from '../recorder/rollback-fixture.js';
import { hasSignedHead } from '../recorder/signed-head-row.js';
import { WARDEN_BIN } from '../support/repo.js';
import { writeWardenDir } from '../support/warden-process.js';

test('a key newly configured on a store with records: serve and purge refuse naming adopt-head; adopt-head verifies, signs and prints the anchor', async (t) => {
  const wd = writeWardenDir('transcripts: { store: sqlite:warden.db, signing_key: file:key.pem }\nconnections: {}\npolicies: []\n', {});
  t.after(() => wd.cleanup());
  writeFileSync(join(wd.dir, 'key.pem'), keyPem(), { mode: 0o600 });
  const plain = openSqliteStore(wd.dbPath); // written before the key was configured
  await oneSession(plain, 's1', 'c1', '2026-01-01');
  await plain.close();
  const env = { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn' };
  const warden = (...args: string[]) => spawnSync(process.execPath, [WARDEN_BIN, ...args, '--config', wd.configPath], { encoding: 'utf8', env, input: '', timeout: 60_000 });
  const serve = warden('serve');
  assert.notEqual(serve.status, 0, serve.stderr);
  assert.match(serve.stderr, /holds 4 records but no signed head/);
  assert.match(serve.stderr, new RegExp(`run \`warden transcripts adopt-head --config ${wd.configPath}\``));
  const purge = warden('transcripts', 'purge', '--before', '2000-01-01');
  assert.equal(purge.status, 1, purge.stdout);
  assert.match(purge.stderr, /adopt-head.*WARDEN_TRANSCRIPT_UNAVAILABLE/s);
  assert.equal(hasSignedHead(wd.dbPath), false);
  const head = warden('transcripts', 'head', '--json');
  assert.equal(head.status, 0, head.stderr);
  const anchor = JSON.parse(head.stdout).anchor as string;
  const adopted = warden('transcripts', 'adopt-head', '--expect-head', anchor);
  assert.equal(adopted.status, 0, adopted.stderr);
  assert.match(adopted.stdout, new RegExp(`^anchor ${anchor}$`, 'm'));
  assert.match(adopted.stdout, /^warning: every record up to 4 is now trusted/m);
  assert.equal(warden('transcripts', 'verify', '--strict').status, 0);
  const after = warden('transcripts', 'purge', '--before', '2000-01-01');
  assert.equal(after.status, 0, after.stderr);
});

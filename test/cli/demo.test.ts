/**
 * `warden demo` is the README's first command: it must tell the whole story on an embedded
 * database, with no external server, and exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { WARDEN_BIN } from '../support/repo.js';

test('warden demo runs the scripted agent session end to end', () => {
  const r = spawnSync(process.execPath, [WARDEN_BIN, 'demo'], { encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
  const out = r.stdout;
  assert.match(out, /agent sees tools: .*query_database/);
  assert.match(out, /a\*\*\*@example\.com\t\[REDACTED\]/, 'emails partially masked, SSNs redacted');
  assert.ok(!out.includes('alice@example.com') && !out.includes('123-45-6789'), 'no unmasked email or SSN');
  assert.match(out, /WARDEN_DENIED: Schema changes go through migrations\./);
  assert.match(out, /COMMIT; DROP TABLE users"\}\nwarden< WARDEN_PARSE/);
  assert.match(out, /WARDEN_APPROVAL_PENDING/);
  assert.match(out, /warden< UPDATE 1/);
  assert.match(out, /hash chain: intact/);
});

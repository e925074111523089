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

test('warden demo --json prints the same run as one JSON document', () => {
  const r = spawnSync(process.execPath, [WARDEN_BIN, 'demo', '--json'], { encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
  const doc = JSON.parse(r.stdout) as { ok: boolean; tools: string[]; steps: { tool: string; is_error: boolean; text: string }[]; approval: { id: string } | null; transcript: { chain_intact: boolean; records: number } };
  assert.equal(doc.ok, true);
  assert.ok(doc.tools.includes('query_database'));
  assert.ok(doc.steps.some((s) => s.is_error && /^WARDEN_PARSE/.test(s.text)), 'the injection is refused');
  assert.ok(doc.steps.some((s) => !s.is_error && /^UPDATE 1/.test(s.text)), 'the approved write ran once');
  assert.match(doc.approval?.id ?? '', /\S/);
  assert.equal(doc.transcript.chain_intact, true);
  assert.ok(!r.stdout.includes('alice@example.com') && !r.stdout.includes('123-45-6789'), 'no unmasked email or SSN');
});

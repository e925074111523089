/**
 * The export schema table of docs/transcripts.md against what `warden transcripts export` writes:
 * every field a line of a signed store's export carries is documented, and every documented field
 * is written (signed_head on the signed head's line only, export_window on a window's last line). Why: SIEMs parse the export by that table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { tempDir } from '../recorder/fixtures.js';
import { keyPem, oneSession } from '../recorder/rollback-fixture.js';
import { REPO_ROOT } from '../support/repo.js';

function documentedFields(): string[] {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'transcripts.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Export (JSON Lines)'));
  const table = section.slice(section.indexOf('| field |'), section.indexOf('\n\n', section.indexOf('| field |')));
  return [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!);
}

test('the documented export fields are exactly the fields an export writes', async (t) => {
  const pem = keyPem();
  const store = openSqliteStore(join(tempDir(t), 'w.db'), { signer: createChainSigner(pem) });
  t.after(() => store.close());
  await oneSession(store, 's1', 'c1', '2026-01-01');
  const lines: Record<string, unknown>[] = [];
  assert.equal(await runTranscriptsCommand(['export'], { store, json: false, out: (s) => lines.push(JSON.parse(s)), err: () => {} }), 0);
  // A window exported with the private key closes with its signed statement (export_window).
  const window: Record<string, unknown>[] = [];
  const signer = async () => createChainSigner(pem);
  assert.equal(await runTranscriptsCommand(['export', '--since', '2026-01-01T10:00:01.000Z'], { store, json: false, signer, out: (s) => window.push(JSON.parse(s)), err: () => {} }), 0);
  const written = new Set([...lines, ...window].flatMap((l) => Object.keys(l)));
  assert.deepEqual([...written].sort(), documentedFields().sort());
  assert.deepEqual(lines.map((l) => 'signed_head' in l), [false, false, false, true]);
  assert.deepEqual(Object.keys(lines[3]!.signed_head as object).sort(), ['hash', 'keyId', 'seq', 'signature', 'signedAt']);
  assert.deepEqual(lines.map((l) => 'export_window' in l), [false, false, false, false]);
  assert.deepEqual(window.map((l) => 'export_window' in l), [false, false, true]);
  assert.deepEqual(Object.keys(window[2]!.export_window as object).sort(), ['after', 'keyId', 'last', 'signature', 'since', 'until']);
});

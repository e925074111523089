/**
 * A scratch folder for CLI tests that read a transcript store: an empty policy, a warden.yaml on
 * `sqlite:warden.db` (synchronous NORMAL), the folder removed after the file's tests. `open()`
 * opens that store for the test to seed before the CLI reads it.
 */
import { after } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';

export function cliStoreDir(prefix: string): { dir: string; open(): ReturnType<typeof openSqliteStore> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'empty.yaml'), 'rules: []\n');
  writeFileSync(join(dir, 'warden.yaml'), 'transcripts: { store: sqlite:warden.db, synchronous: NORMAL }\npolicies: [policies/*.yaml]\n');
  return { dir, open: () => openSqliteStore(join(dir, 'warden.db'), { synchronous: 'NORMAL' }) };
}

/**
 * `policies: [policies/*.yaml]` reads like a shell glob, so it behaves like one: `*` does not
 * match a leading dot. A file set aside as `.old-grants.yaml` is not loaded, and an editor's lock
 * file (emacs's `.#rules.yaml`, a dangling symlink) does not break every reload while it is open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadServerConfig } from '../../src/config/server-config.js';
import { families } from '../../tools/index.js';

test('* does not match a leading dot; a pattern that starts with a dot still can', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-globs-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'rules.yaml'), 'rules: []\n');
  writeFileSync(join(dir, 'policies', '.old-grants.yaml'), 'rules:\n  - { id: everyone, effect: allow }\n');
  symlinkSync('user@host.1234:1700000000', join(dir, 'policies', '.#rules.yaml'));
  writeFileSync(join(dir, 'warden.yaml'), 'policies: [policies/*.yaml]\n');
  assert.deepEqual(loadServerConfig(join(dir, 'warden.yaml'), families).policyFiles.map((f) => basename(f)), ['rules.yaml']);
  writeFileSync(join(dir, 'warden.yaml'), 'policies: [policies/.*.yaml]\n');
  assert.deepEqual(loadServerConfig(join(dir, 'warden.yaml'), families).policyFiles.map((f) => basename(f)), ['.#rules.yaml', '.old-grants.yaml']);
});

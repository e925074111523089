/**
 * A policy file (or warden.yaml) that every user on the host may change, or that sits in a
 * folder every user may write, is refused: anyone could grant themselves access, and the policy
 * watcher would load their rule on its own. `file:` secrets were already refused this way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compilePolicy } from '../../src/policy/load.js';
import { families } from '../../tools/index.js';

const conditions = families.flatMap((f) => f.conditions);
const RULE = 'rules:\n  - { id: dev-read, effect: allow, who: { groups: [dev] }, tool: query_database, sql: { read: [public.t] } }\n';

function setup(): { dir: string; policies: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-shared-write-'));
  const policies = join(dir, 'policies');
  mkdirSync(policies, { mode: 0o755 });
  const file = join(policies, 'dev.yaml');
  writeFileSync(file, RULE, { mode: 0o644 });
  writeFileSync(join(dir, 'warden.yaml'), 'policies: [policies/*.yaml]\n', { mode: 0o644 });
  return { dir, policies, file };
}

test('a world-writable policy file is refused at its name; chmod o-w loads it again', () => {
  const { file } = setup();
  chmodSync(file, 0o666);
  assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`${file}:0: writable by every user on this host`) && /chmod o-w/.test(e.message));
  chmodSync(file, 0o644);
  assert.equal(compilePolicy([file], conditions).rules.length, 1);
});

test('a policy file in a world-writable folder is refused, sticky bit or not (anyone could add or replace a file the glob loads)', () => {
  const { policies, file } = setup();
  for (const mode of [0o777, 0o1777]) {
    chmodSync(policies, mode);
    assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`${file}:0: its folder ${policies} is writable by every user on this host`));
  }
  chmodSync(policies, 0o755);
  assert.equal(compilePolicy([file], conditions).rules.length, 1);
});

test('a symlinked policy file is judged by the file and folder it points to', () => {
  const { dir, policies } = setup();
  const shared = join(dir, 'shared');
  mkdirSync(shared, { mode: 0o777 });
  chmodSync(shared, 0o777);
  writeFileSync(join(shared, 'real.yaml'), RULE, { mode: 0o644 });
  symlinkSync(join(shared, 'real.yaml'), join(policies, 'linked.yaml'));
  assert.throws(() => compilePolicy([join(policies, 'linked.yaml')], conditions), /its folder .*shared is writable by every user/);
  chmodSync(shared, 0o755);
  assert.equal(compilePolicy([join(policies, 'linked.yaml')], conditions).rules.length, 1);
});

test('a world-writable warden.yaml is refused (it names the policy files and the admins)', () => {
  const { dir } = setup();
  chmodSync(join(dir, 'warden.yaml'), 0o646);
  assert.throws(() => loadServerConfig(join(dir, 'warden.yaml'), families), /warden\.yaml:0: writable by every user on this host/);
  chmodSync(join(dir, 'warden.yaml'), 0o600);
  assert.equal(loadServerConfig(join(dir, 'warden.yaml'), families).policyFiles.length, 1);
});

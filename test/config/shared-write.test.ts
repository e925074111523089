/**
 * A policy file (or warden.yaml) that every user on the host may change, or that sits in a
 * folder every user may write, or under one without the sticky bit, is refused: anyone could
 * grant themselves access, and the policy watcher would load their rule on its own. `file:`
 * secrets are refused the same way (secret-files.test.ts).
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

/** A folder every user may write, 0777 or 1777, with `warden/policies/dev.yaml` under it (0755 folders). */
function underShared(mode: number): { open: string; config: string; file: string } {
  const open = join(mkdtempSync(join(tmpdir(), 'warden-shared-parent-')), 'srv');
  mkdirSync(join(open, 'warden', 'policies'), { recursive: true, mode: 0o755 });
  chmodSync(open, mode);
  const file = join(open, 'warden', 'policies', 'dev.yaml');
  writeFileSync(file, RULE, { mode: 0o644 });
  writeFileSync(join(open, 'warden', 'warden.yaml'), 'policies: [policies/*.yaml]\n', { mode: 0o644 });
  return { open, config: join(open, 'warden', 'warden.yaml'), file };
}

test('a folder above that every user may write without the sticky bit is refused (anyone could rename the policies folder and put their own in its place)', () => {
  const { open, config, file } = underShared(0o777);
  const above = (e: Error) => e.message.includes(`the folder ${open} above it is writable by every user on this host without the sticky bit`) && e.message.includes(`chmod +t ${open}`);
  assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`${file}:0:`) && above(e));
  assert.throws(() => loadServerConfig(config, families), above);
  chmodSync(open, 0o755);
  assert.equal(compilePolicy([file], conditions).rules.length, 1);
});

test('a folder above with the sticky bit (as /tmp) is allowed: others may add entries there but not rename ours', () => {
  const { config, file } = underShared(0o1777);
  assert.equal(compilePolicy([file], conditions).rules.length, 1);
  assert.equal(loadServerConfig(config, families).policyFiles.length, 1);
});

test('a symlinked policy file is judged by the folders above the file it points to as well', () => {
  const { policies } = setup();
  const { open, file } = underShared(0o777);
  symlinkSync(file, join(policies, 'linked.yaml'));
  assert.throws(() => compilePolicy([join(policies, 'linked.yaml')], conditions), (e: Error) => e.message.includes(`the folder ${open} above it`));
  chmodSync(open, 0o1777);
  assert.equal(compilePolicy([join(policies, 'linked.yaml')], conditions).rules.length, 1);
});

test('a symlink chain is judged at every link: a link in a world-writable folder between the name and the file is refused', () => {
  // policies/chained.yaml -> hop/mid.yaml -> real/real.yaml: whoever may write hop/ can point mid.yaml at their own rules.
  const { dir, policies } = setup();
  const hop = join(dir, 'hop');
  const real = join(dir, 'real');
  mkdirSync(hop, { mode: 0o755 });
  mkdirSync(real, { mode: 0o755 });
  writeFileSync(join(real, 'real.yaml'), RULE, { mode: 0o644 });
  symlinkSync(join(real, 'real.yaml'), join(hop, 'mid.yaml'));
  symlinkSync(join(hop, 'mid.yaml'), join(policies, 'chained.yaml'));
  chmodSync(hop, 0o777);
  assert.throws(() => compilePolicy([join(policies, 'chained.yaml')], conditions), (e: Error) => e.message.includes(`its folder ${hop} is writable by every user`));
  chmodSync(hop, 0o755);
  assert.equal(compilePolicy([join(policies, 'chained.yaml')], conditions).rules.length, 1);
});

test('a link of the chain whose folder sits under a symlinked folder is judged by the folders above the real one', () => {
  // hop is a symlink to open/inner: open (world-writable, no sticky bit) lets anyone rename inner away.
  const { dir, policies } = setup();
  const open = join(dir, 'open');
  const inner = join(open, 'inner');
  const real = join(dir, 'real');
  mkdirSync(inner, { recursive: true, mode: 0o755 });
  mkdirSync(real, { mode: 0o755 });
  writeFileSync(join(real, 'real.yaml'), RULE, { mode: 0o644 });
  symlinkSync(join(real, 'real.yaml'), join(inner, 'mid.yaml'));
  symlinkSync(inner, join(dir, 'hop'));
  symlinkSync(join(dir, 'hop', 'mid.yaml'), join(policies, 'chained.yaml'));
  chmodSync(open, 0o777);
  assert.throws(() => compilePolicy([join(policies, 'chained.yaml')], conditions), (e: Error) => e.message.includes(`the folder ${open} above it`));
  chmodSync(open, 0o755);
  assert.equal(compilePolicy([join(policies, 'chained.yaml')], conditions).rules.length, 1);
});

/**
 * OpenSSH's StrictModes for what decides who may do what: warden.yaml, policy files, `file:`
 * secrets, their folders (and a symlink target's) and every folder above must be owned by root or
 * by the user Warden runs as, and not writable by their group unless it is gid 0. A group member
 * or another owner could grant themselves access as surely as any user could with o+w.
 *
 * Runs as root (CI) and as a normal user: as root a file is given to uid/gid 4242 to prove the
 * refusal; as a normal user a group-writable file keeps the user's own (non-zero) group, and
 * another owner, which a normal user cannot give, is proved through the rule itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../src/config/server-config.js';
import { createSecretResolver } from '../../src/config/secrets.js';
import { strictModesProblem } from '../../src/config/shared-write.js';
import { isPrivateGroup } from '../../src/config/private-group.js';
import { compilePolicy } from '../../src/policy/load.js';
import { families } from '../../tools/index.js';

const conditions = families.flatMap((f) => f.conditions);
const RULE = 'rules:\n  - { id: dev-read, effect: allow, who: { groups: [dev] }, tool: query_database, sql: { read: [public.t] } }\n';
const me = process.geteuid!();
const root = me === 0;
const OTHER = 4242;

/**
 * Give `path` a group other than gid 0 and the user's private group, so its group-write bit
 * counts: 4242 as root, else another group of the user's own.
 */
function otherGroup(path: string): number {
  const gid = root ? OTHER : [process.getgid!(), ...process.getgroups!()].find((g) => g !== 0 && !isPrivateGroup(g, me));
  assert.ok(gid !== undefined, 'a normal user running these tests needs a group other than gid 0 and their private group');
  chownSync(path, me, gid);
  return gid;
}

function setup(): { dir: string; policies: string; file: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-strict-modes-'));
  const policies = join(dir, 'policies');
  mkdirSync(policies, { mode: 0o755 });
  const file = join(policies, 'dev.yaml');
  writeFileSync(file, RULE, { mode: 0o644 });
  writeFileSync(join(dir, 'warden.yaml'), 'policies: [policies/*.yaml]\n', { mode: 0o644 });
  return { dir, policies, file, config: join(dir, 'warden.yaml') };
}

const loads = (file: string) => assert.equal(compilePolicy([file], conditions).rules.length, 1);

test('a group-writable policy file is refused, naming the file and chmod g-w; chmod g-w loads it again', () => {
  const { file } = setup();
  const gid = otherGroup(file);
  chmodSync(file, 0o664);
  assert.throws(
    () => compilePolicy([file], conditions),
    (e: Error & { code?: string }) => e.code === 'WARDEN_CONFIG' && e.message.includes(`${file}:0: writable by its group (gid ${gid}) on this host`) && e.message.includes(`chmod g-w ${file}`),
  );
  chmodSync(file, 0o644);
  loads(file);
});

test('a group-writable warden.yaml is refused the same way', () => {
  const { config } = setup();
  otherGroup(config);
  chmodSync(config, 0o660);
  assert.throws(() => loadServerConfig(config, families), (e: Error) => e.message.includes(`${config}:0: writable by its group`) && e.message.includes(`chmod g-w ${config}`));
  chmodSync(config, 0o600);
  assert.equal(loadServerConfig(config, families).policyFiles.length, 1);
});

test('a group-writable policy folder is refused, sticky bit or not (a member could add a file the glob loads)', () => {
  const { policies, file } = setup();
  const gid = otherGroup(policies);
  for (const mode of [0o775, 0o1775]) {
    chmodSync(policies, mode);
    assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`${file}:0: its folder ${policies} is writable by its group (gid ${gid})`) && e.message.includes(`chmod g-w ${policies}`));
  }
  chmodSync(policies, 0o755);
  loads(file);
});

test('a group-writable folder above is refused without the sticky bit and allowed with it', () => {
  const { dir, file } = setup();
  otherGroup(dir);
  chmodSync(dir, 0o770);
  assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`the folder ${dir} above it is writable by its group`) && e.message.includes(`chmod g-w ${dir}`));
  chmodSync(dir, 0o1770);
  loads(file);
});

test('a symlinked policy file is judged by the group of the folder it points to', () => {
  const { dir, policies } = setup();
  const shared = join(dir, 'shared');
  mkdirSync(shared, { mode: 0o755 });
  otherGroup(shared);
  chmodSync(shared, 0o775);
  writeFileSync(join(shared, 'real.yaml'), RULE, { mode: 0o644 });
  symlinkSync(join(shared, 'real.yaml'), join(policies, 'linked.yaml'));
  assert.throws(() => compilePolicy([join(policies, 'linked.yaml')], conditions), (e: Error) => e.message.includes(`its folder ${shared} is writable by its group`));
  chmodSync(shared, 0o755);
  loads(join(policies, 'linked.yaml'));
});

test('a policy file owned by the user Warden runs as loads; as root, one owned by another user is refused, naming chown', () => {
  const { file } = setup();
  assert.equal(statSync(file).uid, me);
  loads(file);
  if (root) {
    chownSync(file, OTHER, 0);
    assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`${file}:0: owned by uid ${OTHER}, neither root nor the user Warden runs as`) && e.message.includes(`chown root ${file}`));
    chownSync(file, 0, 0);
    loads(file);
  }
});

test('as root, a policy folder or a folder above owned by another user is refused (that user could replace or rename what is read)', () => {
  const { dir, policies, file } = setup();
  loads(file);
  if (!root) return assert.equal(statSync(dir).uid, me); // a normal user cannot give a folder away: the rule itself is proved in strict-modes-rule
  chownSync(policies, OTHER, 0);
  assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`its folder ${policies} is owned by uid ${OTHER}`) && e.message.includes(`chown root ${policies}`));
  chownSync(policies, 0, 0);
  chownSync(dir, OTHER, 0);
  assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`the folder ${dir} above it is owned by uid ${OTHER}`));
  chmodSync(dir, 0o1755); // the sticky bit does not help: the owner of a folder may rename anything in it
  assert.throws(() => compilePolicy([file], conditions), (e: Error) => e.message.includes(`the folder ${dir} above it is owned by uid ${OTHER}`));
  chownSync(dir, 0, 0);
  loads(file);
});

test('a group-writable `file:` secret is refused, naming the reference and not the value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-strict-secret-'));
  const token = join(dir, 'token');
  writeFileSync(token, 's3cr3t-value\n', { mode: 0o600 });
  otherGroup(token);
  chmodSync(token, 0o620);
  const r = createSecretResolver(dir, {});
  await assert.rejects(r.resolve('file:token'), (e: Error & { code?: string }) => e.code === 'WARDEN_SECRET' && e.message.includes('file:token is refused: writable by its group') && e.message.includes(`chmod g-w ${token}`) && !e.message.includes('s3cr3t'));
  chmodSync(token, 0o600);
  assert.equal(await r.resolve('file:token'), 's3cr3t-value');
  if (root) {
    chownSync(token, OTHER, 0);
    await assert.rejects(r.resolve('file:token'), (e: Error) => e.message.includes(`file:token is refused: owned by uid ${OTHER}`));
  }
});

test('strict-modes-rule: owners other than root and the user Warden runs as are refused, and group write unless gid 0 (as any user)', () => {
  // Account files that name nobody: no group is anyone's private group here (see the test below).
  const none = { passwd: '/nonexistent/passwd', group: '/nonexistent/group' };
  const as1000 = (st: { mode: number; uid: number; gid: number }, role: 'file' | 'folder' | 'above') => strictModesProblem('/etc/warden/x', st, role, 1000, none);
  assert.equal(as1000({ mode: 0o100644, uid: 1000, gid: 1000 }, 'file'), null);
  assert.equal(as1000({ mode: 0o100644, uid: 0, gid: 0 }, 'file'), null);
  assert.equal(as1000({ mode: 0o100664, uid: 0, gid: 0 }, 'file'), null, 'gid 0 may write');
  assert.match(as1000({ mode: 0o100644, uid: 1001, gid: 1000 }, 'file')!, /^owned by uid 1001, neither root nor the user Warden runs as \(uid 1000\).*chown root \/etc\/warden\/x, or chown 1000 \/etc\/warden\/x/);
  assert.match(as1000({ mode: 0o100664, uid: 1000, gid: 1000 }, 'file')!, /^writable by its group \(gid 1000\) on this host: .*\(chmod g-w \/etc\/warden\/x\)$/);
  assert.match(as1000({ mode: 0o40775, uid: 0, gid: 50 }, 'folder')!, /^its folder \/etc\/warden\/x is writable by its group \(gid 50\)/);
  assert.match(as1000({ mode: 0o41775, uid: 0, gid: 50 }, 'folder')!, /writable by its group/, 'sticky does not help the folder a file sits in');
  assert.match(as1000({ mode: 0o40775, uid: 0, gid: 50 }, 'above')!, /^the folder \/etc\/warden\/x above it is writable by its group \(gid 50\) on this host without the sticky bit/);
  assert.equal(as1000({ mode: 0o41775, uid: 0, gid: 50 }, 'above'), null, 'a sticky folder above may be group-writable');
  assert.match(as1000({ mode: 0o41755, uid: 1001, gid: 0 }, 'above')!, /^the folder \/etc\/warden\/x above it is owned by uid 1001/, 'its owner may rename anything in it, sticky or not');
  assert.match(strictModesProblem('/x', { mode: 0o100644, uid: 1000, gid: 0 }, 'file', 0, none)!, /owned by uid 1000, neither root nor the user Warden runs as \(uid 0\).*\(chown root \/x\)/, 'root running Warden trusts only root-owned files');
});

test("strict-modes-rule: group write to the owner's private group (Debian's umask 002) is accepted, to any other group refused", () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-accounts-'));
  const accounts = { passwd: join(dir, 'passwd'), group: join(dir, 'group') };
  writeFileSync(accounts.passwd, ['root:x:0:0::/root:/bin/sh', 'alice:x:1000:1000::/home/alice:/bin/sh', 'bob:x:1001:1001::/home/bob:/bin/sh', 'carol:x:1002:1003::/home/carol:/bin/sh', 'dave:x:1003:1003::/home/dave:/bin/sh', 'erin:x:1004:1004::/home/erin:/bin/sh', ''].join('\n'));
  writeFileSync(accounts.group, ['root:x:0:', 'alice:x:1000:', 'bob:x:1001:alice', 'dave:x:1003:', 'staff:x:1004:', 'ops:x:50:alice,bob', ''].join('\n'));
  const judge = (uid: number, gid: number, role: 'file' | 'folder' | 'above' = 'file') => strictModesProblem('/srv/w/x', { mode: role === 'file' ? 0o100664 : 0o40775, uid, gid }, role, uid, accounts);
  assert.equal(judge(1000, 1000), null, "alice's file writable to alice's own group");
  assert.equal(judge(1000, 1000, 'folder'), null, 'and her folder');
  assert.equal(judge(1000, 1000, 'above'), null, 'and a folder above');
  assert.match(judge(1001, 1001)!, /writable by its group \(gid 1001\)/, "bob's group lists alice as a member");
  assert.match(judge(1003, 1003)!, /writable by its group \(gid 1003\)/, "carol's primary group is dave's too");
  assert.match(judge(1004, 1004)!, /writable by its group \(gid 1004\)/, "erin's primary group is named staff, not erin");
  assert.match(judge(1000, 50)!, /writable by its group \(gid 50\)/, 'a shared group');
  assert.match(judge(1000, 1001)!, /writable by its group \(gid 1001\)/, "someone else's group");
  assert.match(judge(1000, 4242)!, /writable by its group \(gid 4242\)/, 'a group the files do not name (NSS only): fail closed');
});

/**
 * Red team of the ways around the bare-secret file rules (shell/secret-files.ts) that reach a
 * secret without naming its place or its base name as a path:
 * - git prints a repository's files: `git show HEAD:.vault-token` (the PATH of REV:PATH was read
 *   as `/HEAD:.vault-token`), `git grep -h`/`--heading` (no file name before the lines),
 *   `git archive`, `git fast-export`, `git cat-file --batch` (the whole tree), and a diff
 *   (`git show`, `git log -p`) of a committed `config/master.key`, all ran or printed the key;
 * - a process's `/proc/N/root` (and `self`, `thread-self`, `task/TID`) is its `/`:
 *   `cat /proc/1/root/etc/ppp/chap-secrets` and `cat /proc/self/root/var/run/secrets/...` ran
 *   (the path lay under /proc), and a deny of /etc/shadow did not match `/proc/1/root/etc/shadow`;
 *   `/proc/N/cwd/` leads into a folder Warden does not know;
 * - OpenVPN's inline `<tls-auth>`/`<tls-crypt>`/`<auth-user-pass>` blocks and a static key file,
 *   and nslcd's `bindpw`, showed as they are.
 * less and more are never granted (pagers with shell escapes); diff, sdiff, diff3 and cmp read
 * their file operands by name, as cat does.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { maskSecretFileLines } from '../../../tools/shared/secret-file-lines.js';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { maskCommandOutput } from '../../../tools/shared/line-windows.js';
import { normalisePath, underPrefix } from '../../../tools/shared/shell/paths.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const RUN = { paths: ['/run', '/var', '/etc', '/app', '/srv', '/proc'] };
const progs = (names: string[], grant: object) => Object.fromEntries(names.map((n) => [n, grant]));
const BLOCK = { pipelines: true, programs: { ...progs(['cat', 'head', 'tail', 'grep', 'diff', 'sdiff', 'diff3', 'cmp'], RUN), git: {} } };
const { refuse, allow, verdict } = shellVerdicts(BLOCK);
const SECRET = /itself a secret|may expand to a secret|files that are themselves secrets/;

before(async () => {
  await initShellParser();
});

test('git show REV:PATH and git cat-file -p REV:PATH are read as cat of PATH', () => {
  // Before: HEAD:.vault-token was judged as '/HEAD:.vault-token' (no base name), HEAD:run/secrets/x as nothing.
  refuse(['git -C /srv/repo show HEAD:.vault-token', 'git -C /srv/repo show :0:.erlang.cookie', 'git -C /srv/repo show HEAD^:run/secrets/db',
    'git -C /srv/repo cat-file -p main:config/master.key', 'git -C /srv/repo show v1:./.vault-token', 'git -C /srv/repo cat-file blob :config/credentials/production.key'], SECRET);
  allow(['git -C /srv/repo show HEAD:config/app.yml', 'git -C /srv/repo show HEAD', 'git -C /srv/repo cat-file -p HEAD', 'git -C /srv/repo log -p',
    'git -C /srv/repo fetch origin main:main', 'git -C /srv/repo ls-tree -r HEAD', 'git clone https://example.com/r.git /srv/r']);
});

test('git grep that hides the names, git archive, git fast-export and git cat-file --batch print the tree whole: refused', () => {
  // Before: each ran and printed a committed config/master.key with no name beside it.
  refuse(['git -C /srv/repo grep -h .', 'git -C /srv/repo grep -nh x', 'git -C /srv/repo grep --no-filename x', 'git -C /srv/repo grep --heading x',
    'git -C /srv/repo grep --head -n x', 'git -C /srv/repo archive HEAD', 'git -C /srv/repo archive --format=tar HEAD -- config',
    'git -C /srv/repo fast-export --all', 'git -C /srv/repo cat-file --batch-all-objects --batch', 'git grep -h x'], /whole tree|at any depth/);
  // The names shown, names only, and a repository that is a secret place the grant names.
  allow(['git -C /srv/repo grep -n x', 'git -C /srv/repo grep -l x', 'git -C /srv/repo grep -e x -- h',
    'git -C /srv/repo archive --list', 'git -C /srv/repo fast-export --no-data --all', 'git -C /srv/repo cat-file --batch-check', 'git -C /srv/repo ls-files']);
  allow(['git -C /run/secrets/repo archive HEAD'], { programs: { git: { paths: ['/run/secrets'] } } });
  refuse(['git -C /srv/repo archive HEAD'], /at any depth/, { programs: { git: { paths: ['/srv'] } } });
  // An object named by its id (a blob's id from git ls-tree names no file); before: printed the key.
  refuse(['git -C /srv/repo cat-file -p 3b18e51', 'git -C /srv/repo cat-file blob 3b18e512d6c5f0a1b2c3d4e5f60718293a4b5c6d', 'git -C /srv/repo unpack-file 3b18'], /object named by its id/);
  allow(['git -C /srv/repo cat-file -t 3b18e51', 'git -C /srv/repo cat-file -p HEAD', 'git -C /srv/repo cat-file -p HEAD:README']);
});

test("a diff's lines of a secret file are masked behind their markers; other files' lines stay", () => {
  const out = [
    'commit 0123456789abcdef0123456789abcdef01234567', 'Author: a <a@b>', '', '    add key', '',
    'diff --git a/README b/README', '--- a/README', '+++ b/README', '@@ -1 +1,2 @@', ' hello', '+world',
    'diff --git a/config/master.key b/config/master.key', 'new file mode 100644', 'index 0000000..1111111', '--- /dev/null', '+++ b/config/master.key',
    '@@ -0,0 +1 @@', '+7c4a8d09ca3762af61e59520943dc264',
    'commit 1123456789abcdef0123456789abcdef01234567', '', '    second', '',
    'diff --git .vault-token .vault-token', '--- .vault-token', '+++ .vault-token', '@@ -1 +1 @@', '-hvs.old', '+hvs.new', '',
    'diff --git "a/x/.erlang.cookie" "b/x/.erlang.cookie"', 'GIT binary patch', 'literal 20', 'zcmV?d00001', '',
  ].join('\n');
  const r = maskSecretFileLines(out);
  for (const leaked of ['7c4a8d09', 'hvs.old', 'hvs.new', 'zcmV']) assert.ok(!r.text.includes(leaked), `${leaked} in\n${r.text}`);
  for (const kept of ['+world', ' hello', '    second', '+++ b/config/master.key', '+***', '-***']) assert.ok(r.text.includes(kept), kept);
  // git grep's `=` before a function line (-p, -W).
  assert.equal(maskSecretFileLines('config/master.key=7c4a8d09\n').text, 'config/master.key=***\n');
  assert.equal(maskSecretFileLines('diff --git a/app.yml b/app.yml\n+key: master.key\n').masked, 0);
  // git log --graph's lanes and colours before each line; a hunk header's function line is the file's too.
  const graph = ['* commit 0123456789abcdef', '| diff --git a/config/master.key b/config/master.key', '| --- a/config/master.key', '| +++ b/config/master.key',
    '| @@ -1 +1 @@ key_line_one', '| -oldKEY', '| \x1b[32m+newKEY\x1b[m', '| ', '* commit 1123456789abcdef', '| diff --git a/README b/README', '| +visible'].join('\n');
  const g = maskSecretFileLines(graph).text;
  for (const leaked of ['oldKEY', 'newKEY', 'key_line_one']) assert.ok(!g.includes(leaked), `${leaked} in\n${g}`);
  assert.ok(g.includes('| +visible') && g.includes('| -***'), g);
  assertLinear('diff header', repeatedTo('diff --git a/master.keyx '), maskSecretFileLines);
  assertLinear('graph lanes and colours', (n) => `${'|\x1b[31m\x1b[m'.repeat(n / 9)}x\ndiff --git a/master.key b/master.key\n`, maskSecretFileLines);
});

test('/proc/N/root is the path it reaches; /proc/N/cwd a folder Warden does not know', () => {
  assert.equal(normalisePath('/proc/1/root/etc/shadow'), '/etc/shadow');
  assert.equal(normalisePath('/proc/self/task/12/root/../run/x'), '/run/x');
  assert.equal(normalisePath('/proc/1/cwd/x'), null);
  assert.equal(normalisePath('/proc/1/status'), '/proc/1/status');
  // A grant must cover where the word lies and where it leads.
  assert.equal(underPrefix('/proc/1/root/etc/shadow', ['/proc']), false);
  assert.equal(underPrefix('/proc/1/root/srv/x', ['/srv']), false);
  assert.equal(underPrefix('/proc/1/root/srv/x', ['/proc', '/srv']), true);
  // Before: each ran (the path lay under /proc).
  refuse(['cat /proc/1/root/etc/ppp/chap-secrets', 'cat /proc/self/root/var/run/secrets/kubernetes.io/serviceaccount/token',
    'tail -n +1 /proc/thread-self/root/run/secrets/db', 'head /proc/1/task/7/root/app/config/master.key', 'grep -r . /proc/1/root/run',
    'cat /proc/1/root/../run/secrets/x'], SECRET);
  refuse(['cat /proc/1/cwd/run/secrets/x', 'cat /proc/self/cwd/.vault-token'], SECRET, { programs: { cat: {} } });
  refuse(['cat /proc/1/cwd/app.yml'], /not an absolute path/);
  refuse(['cat /proc/1/root/etc/shadow'], /outside/, { programs: { cat: { paths: ['/proc'] } } });
  allow(['cat /proc/1/root/etc/hostname', 'cat /proc/loadavg', 'cat /proc/1/status']);
  // A process's argv is private: only a grant naming it reads it (proc-places.ts, shell-proc-places.test.ts).
  refuse(['cat /proc/1/cmdline'], /a process's command line \(its secrets\)/);
  // A deny of /etc/shadow matches it through /proc; a deny of /proc still matches /proc/1/root/...
  const deny = (paths: string[], cmd: string) => shellCondition.compile({ programs: { cat: { paths } } }, { id: 'd', effect: 'deny' })(parseShell(cmd), { tool: 'ssh_run', connection: 'c', args: {} }).matched;
  assert.equal(deny(['/etc/shadow'], 'cat /proc/1/root/etc/shadow'), true); // before: false
  assert.equal(deny(['/etc/shadow'], 'cat /proc/self/cwd/shadow'), true);
  assert.equal(deny(['/proc'], 'cat /proc/1/root/etc/hostname'), true);
  assert.equal(deny(['/etc/shadow'], 'cat /proc/1/root/etc/hostname'), false);
});

test('diff, sdiff, diff3 and cmp read a secret operand as cat does; less and more are never granted', () => {
  refuse(['diff /app/a /app/config/master.key', 'diff -u /etc/hostname /run/secrets/x', 'sdiff /app/a /run/secrets/x', 'diff3 /app/a /app/b /run/secrets/x',
    'cmp /run/secrets/x /etc/hostname'], SECRET);
  refuse(['cmp -l /app/config/master.key /dev/zero'], SECRET, { programs: { cmp: { allow_flags: ['-l'] } } });
  for (const cmd of ['less +5 /run/secrets/x', 'more +5 /app/config/master.key']) assert.match(verdict(cmd, { programs: { less: {}, more: {} } }).why, /pager/);
  allow(['diff -u /app/a /app/b', 'cmp /app/a /app/b']);
});

test("OpenVPN's inline key and password blocks, a static key file and nslcd's bindpw are masked", () => {
  const ovpn = ['client', 'remote vpn.example 1194', '<auth-user-pass>', 'alice', 'VpnPass123', '</auth-user-pass>',
    '<tls-auth>', '-----BEGIN OpenVPN Static key V1-----', '0123456789abcdef0123456789abcdef', '-----END OpenVPN Static key V1-----', '</tls-auth>',
    '<tls-crypt>', 'fedcba9876543210fedcba9876543210', '</tls-crypt>', '<cert>', '-----BEGIN CERTIFICATE-----', 'MIIBcert', '-----END CERTIFICATE-----', '</cert>', ''].join('\n');
  const got = maskSecretText(ovpn);
  for (const leaked of ['VpnPass123', 'alice', '0123456789abcdef', 'fedcba98']) assert.ok(!got.includes(leaked), `${leaked} in\n${got}`);
  for (const kept of ['remote vpn.example 1194', '<tls-auth>', '</tls-crypt>', 'MIIBcert']) assert.ok(got.includes(kept), kept);
  const ta = '#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n6acef03f62675b4b1bbd03e53b187727\n-----END OpenVPN Static key V1-----\n';
  assert.equal(maskSecretText(ta), '#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n***\n-----END OpenVPN Static key V1-----\n');
  // grep -r's FILE: prefix before the tag; an unclosed block masks to the end.
  assert.ok(!maskSecretText('/etc/openvpn/c.ovpn:<secret>\n/etc/openvpn/c.ovpn-abcdef0123\n').includes('abcdef0123'));
  assert.equal(maskSecretText('<key>\nsecretline\n'), '<key>\n***\n');
  const nslcd = 'uri ldap://ldap.example\nbinddn cn=nslcd,dc=example,dc=com\nbindpw S3cretLdapPw\nrootpwmodpw RootPw9\n';
  assert.equal(maskSecretText(nslcd), 'uri ldap://ldap.example\nbinddn cn=nslcd,dc=example,dc=com\nbindpw ***\nrootpwmodpw ***\n');
  assert.equal(maskCommandOutput({ stdout: 'rootpw s3cret\n', stderr: '' }, parseShell('cat /etc/ldap/slapd.conf').commands).streams.stdout, 'rootpw ***\n');
  assert.equal(maskSecretText('rootpw {SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\nolcRootPW: {SSHA}abcdEF12\nsuffix dc=example\n'), 'rootpw ***\nolcRootPW: ***\nsuffix dc=example\n');
  for (const unit of ['<key>\n', '<tls-auth>\nx\n', '-----BEGIN OpenVPN Static key V1-----\n']) assertLinear(JSON.stringify(unit), repeatedTo(unit), (t: string) => maskSecretText(t));
});

test('following /proc links costs linear time on a long path', () => {
  assertLinear('/proc/1/a/...', (n) => `/proc/1${'/a'.repeat(n)}`, normalisePath);
  assertLinear('/proc/1/root/proc/1/root/...', (n) => `${'/proc/1/root'.repeat(n)}/x`, normalisePath);
});

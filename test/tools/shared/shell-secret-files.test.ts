/**
 * Red team of files that ARE a secret, with no name beside it for output masking to read: a
 * grant of `cat` under `/run` (or `/`, or with no paths:) printed a Docker secret
 * (`/run/secrets/db_password`: a bare password), a systemd credential, pppd's chap-secrets, a
 * `.vault-token`, Rails' `config/master.key` (32 hex digits) as they are. Now a read of such a
 * file (by name, by a glob that may expand to it, by reading a folder above it whole) is refused
 * naming it, unless the grant's paths: name the secret itself (shell/secret-files.ts); a
 * pod's Secret volume mountPaths count as such places for kubectl_exec (facts.secretMounts).
 * Formats that do have a shape are masked: ipsec.secrets `: PSK "x"`, PHP `define('DB_PASSWORD', 'x')`.
 */
import { maskSecretFileLines } from '../../../tools/shared/secret-file-lines.js';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { maskCommandOutput } from '../../../tools/shared/line-windows.js';
import { secretMountsOf } from '../../../tools/kubernetes/secret-mounts.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const RUN = { paths: ['/run', '/var', '/etc', '/app', '/home/deploy'] };
const BLOCK = { pipelines: true, programs: { cat: RUN, head: RUN, grep: RUN, tar: RUN, cp: RUN, ls: RUN, find: RUN, psql: RUN, rg: RUN, ag: RUN, ack: RUN, zip: RUN, rsync: RUN, mv: RUN, diff: RUN, '7z': RUN } };
const { refuse, allow, verdict } = shellVerdicts(BLOCK);
const SECRET = /itself a secret|may expand to a secret|files that are themselves secrets/;

before(async () => {
  await initShellParser();
});

test('a bare secret file prints unmasked: nothing in it names a secret', () => {
  for (const text of ['Xk9#mP2qLw8vRt5z\n', '9f86d081884c7d659a2fea0c55ad015a\n', 'alice * s3cretchap *\n', 'hvs.CAESIJabcdefghijkl\n']) {
    assert.equal(maskCommandOutput({ stdout: text, stderr: '' }, parseShell('cat /run/secrets/db_password').commands).streams.stdout, text);
  }
});

test('reading a well-known bare-secret file under a broad grant is refused, naming it', () => {
  refuse(['cat /run/secrets/db_password', 'cat /var/run/secrets/kubernetes.io/serviceaccount/token', 'head -c 100 /run/credentials/app.service/db',
    'cat /etc/ppp/chap-secrets', 'cat /etc/ipsec.secrets', 'cat /app/config/master.key', 'cat /app/config/credentials/production.key',
    'cat /home/deploy/.vault-token', 'cat /run/secrets/../secrets/x',
    'grep -r . /run', 'tar -cf - /run', 'cp -r /run /app/copy', 'cat /run/./secrets/x'], SECRET);
  refuse(['cat /run/secrets/db_password'], /'\/run\/secrets\/db_password', a file that is itself a secret/);
  // Relative words and no paths: at all (any file): as if the working folder were `/`, and by base name.
  refuse(['cat run/secrets/db_password', 'cat .vault-token', 'cat config/master.key'], SECRET, { programs: { cat: {} } });
  refuse(['cat /run/secrets/db_password', 'cat /etc/ipsec.secrets'], SECRET, { programs: { cat: {} } });
  refuse(['curl file:///run/secrets/db_password'], SECRET, { programs: { curl: {} } });
  // A language's own file reads too (psql \copy FROM a secret).
  refuse(["psql -c '\\copy t from /run/secrets/db_password'"], SECRET, { programs: { psql: {} } });
});

test('other files under the same grant, listing names, and a grant naming the secret itself still pass', () => {
  allow(['cat /run/nginx.pid', 'cat /etc/hostname', 'cat /app/config/app.yml', 'ls /run/secrets', 'ls -l /run/secrets/db_password', 'ls -R /run', 'find /run -name x', 'find /run/secrets -type f',
    'cat /etc/ppp/options', 'cat /app/config/credentials.yml.enc']);
  const NAMED = { programs: { cat: { paths: ['/run/secrets/db_password', '/home/deploy/.vault-token'] }, grep: { paths: ['/run/secrets'] } } };
  allow(['cat /run/secrets/db_password', 'cat /home/deploy/.vault-token', 'grep -r x /run/secrets'], NAMED);
  refuse(['cat /run/secrets/other'], /outside/, NAMED);
});

test("a pod's Secret volume mountPaths are bare-secret places for kubectl_exec", () => {
  const spec = {
    volumes: [{ name: 'creds', secret: { secretName: 'db' } }, { name: 'cfg', configMap: { name: 'c' } }, { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }],
    containers: [{ name: 'app', volumeMounts: [{ name: 'creds', mountPath: '/etc/db-creds/' }, { name: 'cfg', mountPath: '/etc/app' }, { name: 'tok', mountPath: '/var/tok' }] }],
  };
  assert.deepEqual(secretMountsOf(spec), { app: ['/etc/db-creds', '/var/tok'] });
  const judge = (cmd: string) => shellCondition.compile(BLOCK, { id: 'a', effect: 'allow' })({ ...parseShell(cmd), secretMounts: ['/etc/db-creds'] } as ReturnType<typeof parseShell>, { tool: 'kubectl_exec', connection: 'k', args: {} });
  for (const cmd of ['cat /etc/db-creds/password', 'grep -r . /etc', 'cat /etc/db-creds/../db-creds/user']) {
    const r = judge(cmd);
    assert.equal(r.matched, false, cmd);
    assert.match(r.why, SECRET, cmd);
  }
  assert.equal(judge('cat /etc/app/app.yml').matched, true);
  assert.equal(verdict('cat /etc/db-creds/password').matched, true); // ssh_run: no pod, no mounts
});

test('formats with a shape are masked: ipsec.secrets and PHP config', () => {
  const cases: [string, string][] = [
    [': PSK "s3cretPSKvalue"\n', ': PSK ***\n'],
    ['%any %any : PSK "s3cretPSKvalue"\n', '%any %any : PSK ***\n'],
    ['fec0::1 fec0::2 : PSK 0sv+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL\n', 'fec0::1 fec0::2 : PSK ***\n'],
    ['@moon.example : RSA moonKey.pem "passphrase1"\n', '@moon.example : RSA ***\n'],
    ['carol : EAP "carolpw"\n', 'carol : EAP ***\n'],
    ["define('DB_PASSWORD', 'wpS3cret');\n", "define('DB_PASSWORD', ***);\n"],
    ["define( 'AUTH_KEY', 'wpAuthKey123' );\n", "define( 'AUTH_KEY', *** );\n"],
    ["define('NONCE_SALT', 'saltsalt');\n", "define('NONCE_SALT', ***);\n"],
    ["$password = 'phpS3cret';\n", '$password = ***;\n'],
    ["$cfg['Servers'][$i]['password'] = 'pmapw';\n", "$cfg['Servers'][$i]['password'] = ***;\n"],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, JSON.stringify(text));
  for (const text of ["define('DB_USER', 'wp');\n", "$host = 'db';\n", 'Public Key Algorithm: rsaEncryption\n', 'key type: RSA 2048\n']) {
    assert.equal(maskSecretText(text), text, JSON.stringify(text));
  }
});

test('a read that prints or packs a folder whole is refused: a secret known by its base name may lie anywhere under it', () => {
  // Before: each printed /app/config/master.key (or /run/secrets/* for the searchers that recurse by default).
  refuse(["grep -rh '' /app", 'grep -R --no-filename x /app', "grep -d recurse -h x /app", 'tar cf - /app',
    'tar -czf - /app', 'tar --create -f - /app', 'zip -r - /app', 'rg x /app', 'ag x /app', 'ack x /app', 'diff -r /app /home/deploy', '7z a -so /app'], /whole/);
  refuse(['rg x /run', 'ag x /run', 'ack x /var', 'zip -r - /run', 'rsync -a /run /app/copy'], /holds \/(?:var\/)?run\/secrets/);
  // rg, ag, ack with no folder search the working one.
  refuse(['rg x', 'ag -i x', 'ugrep x', 'ug -i x /app'], /whole/, { programs: { rg: {}, ag: {}, ugrep: {}, ug: {} } });
  refuse(['grep -r x .'], /holds \/run\/secrets/, { programs: { grep: {} } });
  // Names only, copies that keep the names, extraction and listing, and a named secret place still pass.
  allow(['ls -R /app', 'find /app -name master.key', 'cp -r /app/config /app/backup', 'rsync -a /app/config/ /app/backup', 'mv /app/a /app/b',
    'tar tf /app/a.tar', 'tar xOf /app/a.tar', 'grep x /app/config/app.yml', 'grep -d read x /app/a.log', 'grep --directories=skip x /app/a', 'zip /app/a.zip /app/config/app.yml']);
  allow(['unzip -l /app/a.zip', 'unzip -p /app/a.zip'], { programs: { unzip: RUN } });
  allow(['grep -r x /run/secrets', 'rg x /run/secrets'], { programs: { grep: { paths: ['/run/secrets'] }, rg: { paths: ['/run/secrets'] } } });
  // grep -r names the file before each line it prints: it runs, and a line a secret file's name leads is masked (secret-file-lines.ts).
  allow(['grep -r . /app', 'grep -R x /app', 'grep --recursive x /app', 'grep -d recurse x /app', 'grep --directories=recurse x /app', 'grep --directories recurse x /app', 'grep -rn -A1 x /app']);
});

test('a recursive search\'s lines from a file that is itself a secret by its name are masked, other files\' lines kept', () => {
  const out = [
    '/app/config/master.key:7c4a8d09ca3762af61e59520943dc264',
    '/app/config/app.yml:host: db.internal',
    '/app/config/credentials/production.key-9f86d081884c7d65',
    '/home/deploy/.vault-token:1:hvs.CAESIJ',
    '/var/lib/rabbitmq/.erlang.cookie\0QWERTYUIOPASDF',
    'notes/master.key.md:master.key: see the wiki',
    '',
  ].join('\n');
  assert.equal(maskSecretFileLines(out).text, [
    '/app/config/master.key:***',
    '/app/config/app.yml:host: db.internal',
    '/app/config/credentials/production.key-***',
    '/home/deploy/.vault-token:***',
    '/var/lib/rabbitmq/.erlang.cookie\0***',
    'notes/master.key.md:master.key: see the wiki',
    '',
  ].join('\n'));
  assert.equal(maskSecretFileLines('/app/a.log:all quiet\n').masked, 0);
});

test('more fixed-name bare secrets: .erlang.cookie, .mysql_secret, .gem/credentials, rsyncd.secrets, LDAP bind secrets, Jenkins, k3s/RKE2 tokens', () => {
  // Each is a bare value (or user:password) no name-based masking sees.
  for (const text of ['ABCDEFGHIJKLMNOPQRST', 'alice:rsyncPW1\n', 'ldapRootPw123\n', 'K10abc::server:def123\n', 'a1b2c3d4e5f6\n']) assert.equal(maskSecretText(text), text);
  refuse(['cat /var/lib/rabbitmq/.erlang.cookie', 'cat /home/deploy/.erlang.cookie', 'cat /home/deploy/.mysql_secret', 'cat /home/deploy/.gem/credentials',
    'cat /etc/rsyncd.secrets', 'cat /etc/ldap.secret', 'cat /etc/pam_ldap.secret', 'cat /etc/libnss-ldap.secret',
    'cat /var/lib/jenkins/secrets/initialAdminPassword', 'cat /var/lib/rancher/k3s/server/token', 'cat /var/lib/rancher/k3s/server/node-token',
    'cat /var/lib/rancher/rke2/server/token'], /itself a secret/);
  allow(['cat /etc/rsyncd.conf', 'cat /etc/ldap.conf', 'cat /var/lib/jenkins/config.xml', 'cat /home/deploy/.gem/specs']);
});

test('config files that name their secret are masked: .my.cnf, AWS credentials, .npmrc, kubeconfig, .netrc, .pgpass, .git-credentials, docker config.json', () => {
  const cases: [string, string][] = [
    ['[client]\nuser=root\npassword=hunter2A\n', '[client]\nuser=root\npassword=***\n'],
    ['[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMIK7MDENG\n', '[default]\naws_access_key_id = ***\naws_secret_access_key = ***\n'],
    ['//registry.npmjs.org/:_authToken=npm_abcdef123\nregistry=https://registry.npmjs.org/\n', '//registry.npmjs.org/:_authToken=***\nregistry=https://registry.npmjs.org/\n'],
    ['users:\n- name: a\n  user:\n    client-key-data: LS0tLS1CRUdJTi\n    token: eyJhbGciOi\n', 'users:\n- name: a\n  user:\n    client-key-data: ***\n    token: ***\n'],
    ['machine h login alice password ghp_xyz123\n', 'machine h login alice password ***\n'],
    ['db:5432:app:alice:hunter2\n', 'db:5432:app:alice:***\n'],
    ['https://alice:ghp_abcdef@github.com\n', 'https://alice:***@github.com\n'],
    ['{\n  "auths": {\n    "ghcr.io": {\n      "auth": "YWxpY2U6eA=="\n    }\n  }\n}\n', '{\n  "auths": {\n    "ghcr.io": {\n      "auth": ***\n    }\n  }\n}\n'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, JSON.stringify(text));
});

test("a pod's Secret volume mountPath is normalised: //etc//db-creds/ is /etc/db-creds", () => {
  const spec = { volumes: [{ name: 'c', secret: { secretName: 'db' } }], containers: [{ name: 'app', volumeMounts: [{ name: 'c', mountPath: '//etc//db-creds/./' }] }] };
  assert.deepEqual(secretMountsOf(spec), { app: ['/etc/db-creds'] });
});

test('a JSON word is no glob; a program Warden does not model is not taken to read a folder above a place', () => {
  allow([`podman run --entrypoint '["cat","/etc/hostname"]' alpine`, 'git config core.worktree /'], { programs: { podman: {}, git: {}, cat: {} } });
});

test('the PHP matchers cost linear time on hostile text', () => {
  // Subscripts with no `=` after them (the lazy subscript run and the optional last key can split
  // a run two ways; each iteration starts with `[`, which no subscript's inside holds), several
  // assignments' starts, unclosed quotes and define( without its close.
  const units = ["$a['x']", "$a['x'][\"y\"][$k][0]", "['x']", "$password = '", 'define(\'DB_PASSWORD\', ', "$cfg['db']['password'] = \"x", '$a[ '];
  for (const unit of units) assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
});

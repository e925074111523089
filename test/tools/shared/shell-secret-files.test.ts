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
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { maskCommandOutput } from '../../../tools/shared/line-windows.js';
import { secretMountsOf } from '../../../tools/kubernetes/secret-mounts.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const RUN = { paths: ['/run', '/var', '/etc', '/app', '/home/deploy'] };
const BLOCK = { pipelines: true, programs: { cat: RUN, head: RUN, grep: RUN, tar: RUN, cp: RUN, ls: RUN, find: RUN, psql: RUN } };
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
    'grep -r x /app', 'cat /etc/ppp/options', 'cat /app/config/credentials.yml.enc']);
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

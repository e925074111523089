/**
 * Bare relative names under a `paths:` grant. Programs that write by nature (touch, chmod, rm,
 * cp, tee, gzip, dd, unzip, ...) were unmodelled, so only their path-like words were judged:
 * `touch authorized_keys` or `chmod 600 foo` wrote in the login folder (the remote user's home),
 * outside every prefix, and `jq --rawfile X FILE`, `base64 FILE` read a relative FILE unchecked.
 * Now every file operand of a modelled program must be absolute and under a prefix; an
 * unmodelled program's path-like words are judged as before.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const P = { paths: ['/var/log', '/srv/app'] };
const WRITERS = ['touch', 'chmod', 'chown', 'chgrp', 'ln', 'cp', 'mv', 'install', 'mkdir', 'mkfifo', 'rmdir', 'rm', 'unlink', 'truncate', 'shred',
  'tee', 'sponge', 'split', 'gzip', 'gunzip', 'bzip2', 'bunzip2', 'xz', 'unxz', 'zstd', 'unzstd', 'dd', 'unzip', 'logger'];
const READERS = ['jq', 'base64', 'base32', 'nl', 'od', 'hexdump', 'paste', 'join', 'comm', 'fold', 'fmt', 'expand', 'rev', 'bzcat', 'xzcat',
  'cksum', 'b2sum', 'sha224sum', 'cat'];
// Those that rewrite what they read say so (rewriters.ts): this file judges where they read and write.
const REWRITING = new Set(['jq', 'base64', 'base32', 'od', 'hexdump', 'paste', 'join', 'fold', 'fmt', 'rev']);
const grant = (p: string) => (REWRITING.has(p) ? { ...P, rewrites: true } : P);
const BLOCK = { pipelines: true, programs: { ...Object.fromEntries([...WRITERS, ...READERS].map((p) => [p, grant(p)])), echo: {}, cd: {}, pwd: {} } };
const allows = (cmd: string, block: unknown = BLOCK) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);

before(async () => {
  await initShellParser();
});

const RELATIVE = /'([^']*)' is not an absolute path: it would resolve in the login folder \(the remote user's home\), outside \/var\/log, \/srv\/app; write an absolute path under them/;

/** Each command is refused, naming `word` as the relative operand. */
function refusedRelative(cases: [string, string][]): void {
  for (const [cmd, word] of cases) {
    const r = allows(cmd);
    assert.equal(r.matched, false, `${cmd} must be refused`);
    assert.match(r.why, RELATIVE, cmd);
    assert.equal(RELATIVE.exec(r.why)?.[1], word, `${cmd}: ${r.why}`);
  }
}

test('writers by nature: a bare relative name under paths: is refused, naming it', () => {
  refusedRelative([
    ['touch authorized_keys', 'authorized_keys'], ['touch -d yesterday foo', 'foo'], ['touch -r /var/log/a foo', 'foo'],
    ['chmod 600 foo', 'foo'], ['chmod -w foo', 'foo'], ['chmod u+x,go-w foo', 'foo'], ['chmod -R 777 .', '.'], ['chmod --reference=/var/log/a foo', 'foo'],
    ['chown app foo', 'foo'], ['chgrp app foo', 'foo'], ['chown --reference=ref /var/log/a', 'ref'],
    ['ln -s /var/log/a foo', 'foo'], ['ln -sf /var/log/a', '.'], ['ln /var/log/a', '.'],
    ['cp /var/log/a foo', 'foo'], ['cp -t foo /var/log/a', 'foo'], ['mv /var/log/a foo', 'foo'], ['install -m 600 /var/log/a foo', 'foo'],
    ['mkdir foo', 'foo'], ['mkdir -p -m 700 foo', 'foo'], ['mkfifo foo', 'foo'], ['rmdir foo', 'foo'], ['rm -f foo', 'foo'], ['rm -rf ..', '..'],
    ['unlink foo', 'foo'], ['truncate -s 0 foo', 'foo'], ['shred -u foo', 'foo'], ['echo x | tee -a foo', 'foo'], ['echo x | sponge foo', 'foo'],
    ['split /var/log/a', '.'], ['split -l 10 /var/log/a out', 'out'], ['gzip foo', 'foo'], ['gzip -d foo.gz', 'foo.gz'], ['gunzip foo.gz', 'foo.gz'],
    ['bzip2 foo', 'foo'], ['bunzip2 foo.bz2', 'foo.bz2'], ['xz -T 2 foo', 'foo'], ['unxz foo.xz', 'foo.xz'], ['zstd foo', 'foo'],
    ['zstd -o foo /var/log/a', 'foo'], ['unzstd foo.zst', 'foo.zst'],
    ['dd if=/var/log/a of=foo', 'foo'], ['dd if=foo of=/var/log/a bs=4k', 'foo'],
    ['unzip /var/log/a.zip', '.'], ['unzip -o /var/log/a.zip', '.'], ['unzip foo.zip -d /var/log/x', 'foo.zip'],
    ['logger -f secrets.txt', 'secrets.txt'], ['logger --file=notes hello', 'notes'], ['logger -u sock hi', 'sock'],
  ]);
});

test('readers: a relative file operand or file option under paths: is refused (jq --rawfile, --slurpfile, -f, -L)', () => {
  refusedRelative([
    ["jq --rawfile s secrets.json -n '$s'", 'secrets.json'], ['jq --slurpfile s creds.json . /var/log/a.json', 'creds.json'],
    ['jq . config.json', 'config.json'], ['jq -f prog.jq /var/log/a.json', 'prog.jq'], ['jq -L lib . /var/log/a.json', 'lib'],
    ['jq --arg n v . creds.json', 'creds.json'], ['jq . creds.json --args x', 'creds.json'],
    ['base64 credentials', 'credentials'], ['base32 -w 0 credentials', 'credentials'], ['nl -ba credentials', 'credentials'],
    ['od -c credentials', 'credentials'], ['hexdump -C credentials', 'credentials'], ['paste credentials /var/log/a', 'credentials'],
    ['join credentials /var/log/a', 'credentials'], ['comm credentials /var/log/a', 'credentials'], ['fold -w 80 credentials', 'credentials'],
    ['fmt credentials', 'credentials'], ['expand -t 4 credentials', 'credentials'], ['rev credentials', 'credentials'],
    ['bzcat credentials.bz2', 'credentials.bz2'], ['xzcat c.xz', 'c.xz'], ['cksum credentials', 'credentials'], ['b2sum -l 256 credentials', 'credentials'],
    ['sha224sum credentials', 'credentials'],
    // Already modelled before this change: the same rule, now with the clearer message.
    ['cat .bashrc', '.bashrc'], ['cat ./x', './x'], ['cat ../x', '../x'],
  ]);
});

test('`.`/`..` inside an absolute path are resolved before the prefix check', () => {
  for (const cmd of ['touch /var/log/../../root/.bashrc', 'chmod 600 /var/log/./../../etc/shadow', 'cp /var/log/a /srv/app/../../home/app/.bashrc']) {
    const r = allows(cmd);
    assert.equal(r.matched, false, cmd);
    assert.match(r.why, /is outside \/var\/log, \/srv\/app/, cmd);
  }
});

test('writes under the prefixes still pass, with the option values told apart from files', () => {
  for (const cmd of [
    'touch /var/log/app/x', 'touch -d yesterday /var/log/x', 'chmod 600 /var/log/x', 'chmod -R 755 /srv/app/d', 'chmod -w /var/log/x',
    'chmod --reference=/var/log/a /var/log/b', 'chown app:app /var/log/x', 'chown --from=root app /var/log/x', 'chgrp -R adm /var/log/app',
    'ln -s /var/log/a /var/log/b', 'ln -t /var/log /srv/app/x', 'cp -a /var/log/a /srv/app/b', 'cp -t /srv/app /var/log/a /var/log/b',
    'cp --sparse always /var/log/a /var/log/b', 'mv -S .old /var/log/a /var/log/b', 'install -m 600 -o app -g app /srv/app/a /srv/app/b',
    'mkdir -p -m 755 /var/log/d', 'rmdir /var/log/d', 'rm -rf /var/log/old', 'truncate -s 0 /var/log/x', 'shred -n 1 -u /var/log/x',
    'echo x | tee -a /var/log/x', 'split -l 10 /var/log/a /var/log/part-', 'gzip -9 /var/log/a', 'gzip -d /var/log/a.gz', 'gzip -dc /var/log/a.gz',
    'gunzip -S .z /var/log/a.z', 'xz -T 2 /var/log/a', 'zstd -o /var/log/a.zst /var/log/a', 'dd if=/var/log/a of=/var/log/b bs=4k count=1 status=none',
    'unzip -l /var/log/a.zip', 'unzip -p /var/log/a.zip data.json', 'unzip -t /var/log/a.zip', 'logger -t app -p user.info hello world',
    'logger -f /var/log/a', 'jq -r .a /var/log/a.json', "jq --arg n v '.[$n]' /var/log/a.json", "jq --rawfile s /srv/app/s.txt -n '$s'",
    "jq -n --args '$ARGS' a b", "jq -n '$ARGS' --jsonargs 1 2", 'base64 -w 0 /var/log/a',
    'od -An -tx1 -N 16 /var/log/a', 'nl -ba -w 3 /var/log/a', 'hexdump -n 32 -C /var/log/a', 'cksum -a sha256 /var/log/a',
  ]) {
    const r = allows(cmd);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
});

test('writes under the prefixes never land in a file git obeys', () => {
  for (const cmd of ['touch /srv/app/.git/hooks/pre-commit', 'chmod +x /srv/app/.git/hooks/post-checkout', 'cp /var/log/a /srv/app/.gitattributes',
    'mv /var/log/a /srv/app/.gitmodules', 'ln -s /var/log/a /srv/app/.git/config', 'dd if=/var/log/a of=/srv/app/.git/config',
    'echo x | tee /srv/app/.git/config', 'mkdir -p /srv/app/.git/hooks']) {
    const r = allows(cmd);
    assert.equal(r.matched, false, cmd);
    assert.match(r.why, /a file git obeys/, cmd);
  }
});

test('unzip extraction writes names only the archive knows; gzip -N and xz --files write names the line does not give', () => {
  const into = allows('unzip -o /var/log/a.zip -d /srv/app/out');
  assert.equal(into.matched, false);
  assert.match(into.why, /unzip extracts names only the archive knows into '\/srv\/app\/out'/);
  for (const [cmd, why] of [['gzip -dN /var/log/a.gz', /'a name the archive holds \(-N\)' is not an absolute path/],
    ['xz --files=/var/log/list', /'the files a --files list names' is not an absolute path/],
    ['zstd --filelist /var/log/list', /'the files a --filelist names' is not an absolute path/]] as const) {
    const r = allows(cmd);
    assert.equal(r.matched, false, cmd);
    assert.match(r.why, why, cmd);
  }
});

test('nothing moves the base: cd is always denied, a list or ~ is a construct the rule does not allow, env -C is a wrapper', () => {
  for (const [cmd, why] of [
    ['cd /var/log && touch foo', /uses and_or, which this rule does not allow/], ['cd /var/log; touch foo', /uses list/],
    ['cd /var/log | touch foo', /^Always denied: cd is a shell keyword or builtin/], ['touch ~/.bashrc', /uses tilde/],
    ['env -C /var/log touch foo', /Program 'env' is not allowed|Always denied/],
  ] as const) {
    const r = allows(cmd);
    assert.equal(r.matched, false, cmd);
    assert.match(r.why, why, cmd);
  }
});

test('split --filter and install --strip-program run a command: never granted', () => {
  for (const cmd of ["split --filter='sh -c id' /var/log/a /var/log/p", 'install -s --strip-program=/tmp/x /var/log/a /var/log/b']) {
    const r = allows(cmd);
    assert.equal(r.matched, false, cmd);
    assert.match(r.why, /^Always denied/, cmd);
  }
});

test('without paths: writers by nature stay granted as listed (logger included), as the README says', () => {
  const block = { programs: { touch: {}, chmod: {}, logger: {}, dd: {} } };
  for (const cmd of ['touch foo', 'chmod 600 foo', 'logger -t app hello', 'dd if=/dev/zero of=foo count=1']) {
    const r = allows(cmd, block);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
});

test('logger: deny_flags keep a grant from forging a tag or reaching another host', () => {
  const block = { programs: { logger: { paths: ['/var/log'], deny_flags: ['-t', '--tag', '-n', '--server'] } } };
  for (const cmd of ['logger -t sshd accepted', 'logger --tag=sshd x', 'logger --ta sshd x', 'logger -n evil.example x', 'logger -it sshd x']) {
    const r = allows(cmd, block);
    assert.equal(r.matched, false, cmd);
    assert.match(r.why, /logger flag (-t|-n|--tag|--server) .* is denied/, cmd);
  }
  assert.equal(allows('logger -p user.info deploy done', block).matched, true);
});

test('deny rules see the modelled files too: dd of= and a chmod mode given as -w', () => {
  const deny = (cmd: string) => shellCondition.compile({ programs: { dd: { paths: ['/etc'] }, chmod: { paths: ['/etc'] } } }, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);
  for (const cmd of ['dd if=/dev/zero of=/etc/passwd count=1', 'chmod -w /etc/shadow', 'chmod 600 /etc/shadow']) assert.equal(deny(cmd).matched, true, cmd);
  for (const cmd of ['dd if=/var/log/a of=/tmp/b', 'chmod -w /tmp/x']) assert.equal(deny(cmd).matched, false, cmd);
});

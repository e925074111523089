/**
 * Deny rules with `paths:`. They compared each file word with their prefixes, so two kinds of
 * word slipped by. A relative one (`cat shadow` after `cd /etc`, `cat ../../etc/shadow`, `cat
 * .ssh/id_rsa` in the login folder) resolves in a folder Warden does not know: it never matched.
 * And a folder above a denied path, read whole (`cp -r /srv/repo /tmp/x`, `tar -c`, `zip -r`,
 * `rsync -a`, `grep -r`, `find`, `rm -rf /`), copied or removed the denied file without naming it.
 * Now both match; absolute words outside the prefixes, and folders read one level, still do not.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const judge = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

before(async () => {
  await initShellParser();
});

/** Each command matches the deny `block`, its reason matching `why`. */
function matches(block: unknown, cmds: string[], why: RegExp): void {
  for (const cmd of cmds) {
    const r = judge(block, cmd);
    assert.equal(r.matched, true, `${cmd} must match the deny: ${r.why}`);
    assert.match(r.why, why, cmd);
  }
}

/** No command matches the deny `block`. */
function passes(block: unknown, cmds: string[]): void {
  for (const cmd of cmds) assert.equal(judge(block, cmd).matched, false, `${cmd} must not match the deny`);
}

const RELATIVE = /is relative: it resolves in a folder Warden does not know/;

describe('deny paths: a relative word may name a denied file', () => {
  const SHADOW = { programs: { cat: { paths: ['/etc/shadow'] }, head: { paths: ['/etc/shadow'] } } };
  const KEYS = { programs: { cat: { paths: ['/home/app/.ssh'] }, grep: { paths: ['/home/app/.ssh'] }, cp: { paths: ['/home/app/.ssh'] } } };

  test('a relative file operand matches, wherever cd moved or the login folder is', () => {
    matches(SHADOW, ['cd /etc && cat shadow', 'cat shadow', 'cat ./shadow', 'cat ../../etc/shadow', 'head -n 1 shadow', 'cat -- shadow',
      'cat ~/x', 'cd /etc; cat shadow'], RELATIVE);
    matches(KEYS, ['cat .ssh/id_rsa', 'cat id_rsa', 'grep -r PRIVATE .ssh', 'grep -r PRIVATE', 'cp .ssh/id_rsa /tmp/x', 'cp -t /tmp id_rsa'], RELATIVE);
  });

  test('the reason names the word and the denied prefix', () => {
    const r = judge(SHADOW, 'cat ../../etc/shadow');
    assert.match(r.why, /'\.\.\/\.\.\/etc\/shadow'/);
    assert.match(r.why, /\/etc\/shadow/);
  });

  test('a relative path-like word of a program Warden does not model matches too', () => {
    matches({ programs: { rsync: { paths: ['/etc/shadow'] } } }, ['rsync ./ /tmp/x', 'rsync ../../etc/shadow /tmp/x'], RELATIVE);
  });

  test('absolute words outside the prefixes, and words that are not files, still pass', () => {
    passes(SHADOW, ['cat /etc/hosts', 'cat /var/log/x /tmp/y', 'head -n 1 /etc/passwd', 'echo shadow', 'ls shadow', 'cat', 'cat -',
      'grep shadow /etc/hosts', 'cat /etc/shadow.bak']);
    passes(KEYS, ['grep -e id_rsa /var/log/auth.log', 'cp /srv/a /srv/b']);
  });
});

describe('deny paths: a folder read whole holds the denied path', () => {
  const GIT = ['/srv/repo/.git'];
  const deny = (...programs: string[]) => ({ programs: Object.fromEntries(programs.map((p) => [p, { paths: GIT }])) });
  const HOLDS = /which holds \/srv\/repo\/\.git/;

  test('cp -r / -R / -a / --archive of a folder above the denied path matches', () => {
    matches(deny('cp'), ['cp -r /srv/repo /tmp/x', 'cp -R /srv/repo/ /tmp/x', 'cp -a /srv/repo /tmp/x', 'cp --archive /srv /tmp/x',
      'cp --recursive / /tmp/x', 'cp -rt /tmp/x /srv/repo', 'cp -rf /srv/repo/. /tmp/x'], HOLDS);
  });

  test('tar -c, zip -r, rsync -a, scp -r, grep -r, find, du, ls -R, mv, rm -r, chmod -R of such a folder match', () => {
    matches(deny('tar'), ['tar -czf /tmp/a.tgz /srv/repo', 'tar -C /srv -cf /tmp/a.tar repo', 'tar cf /tmp/a.tar /srv'], HOLDS);
    matches(deny('zip'), ['zip -r /tmp/a.zip /srv/repo'], HOLDS);
    matches(deny('rsync'), ['rsync -a /srv/repo/ /tmp/x'], HOLDS);
    matches(deny('scp'), ['scp -r /srv/repo h:/tmp'], HOLDS);
    matches(deny('grep'), ['grep -r url /srv/repo', 'grep -R url /srv', 'grep --recursive url /srv/repo', 'grep -d recurse url /srv/repo',
      'grep --directories=recurse url /srv/repo'], HOLDS);
    matches(deny('find'), ['find /srv -name config', 'find / -type f'], HOLDS);
    matches(deny('du'), ['du -a /srv/repo'], HOLDS);
    matches(deny('ls'), ['ls -R /srv/repo', 'ls --recursive /srv'], HOLDS);
    matches(deny('mv'), ['mv /srv/repo /tmp/x'], HOLDS);
    matches(deny('rm'), ['rm -rf /srv', 'rm -r /'], HOLDS);
    matches(deny('chmod'), ['chmod -R 777 /srv/repo'], HOLDS);
  });

  test('files beside the denied path, folders read one level, and look-alike prefixes pass', () => {
    passes(deny('cp'), ['cp /srv/repo/README /tmp/x', 'cp -r /srv/other /tmp/x', 'cp -r /srv/repository /tmp/x', 'cp /srv/repo /tmp/x']);
    passes(deny('grep'), ['grep url /srv/repo/README', 'grep -r url /srv/repo/src']);
    passes(deny('ls'), ['ls /srv/repo', 'ls -l /srv']);
    passes(deny('rm'), ['rm /srv/x', 'rm -f /srv/repo/README']);
    passes(deny('tar'), ['tar -cf /tmp/a.tar /srv/repo/src', 'tar -tf /srv/repo.tar']);
  });
});

describe('deny paths: a pattern that may expand to .. reaches any path', () => {
  const PRIVATE = { programs: { cat: { paths: ['/srv/private'] }, grep: { paths: ['/srv/private'] } } };
  const CLIMBS = /is a pattern that may expand to \.\./;

  test('a segment starting with a dot (.?, .*, .[.]) or a brace word with a piece of dots matches', () => {
    matches(PRIVATE, ['cat /srv/public/.?/private/notes', 'cat /srv/public/.*/private/notes', 'cat /srv/public/\\.?/private/notes',
      'cat /srv/public/.[.]/private/notes', 'cat /srv/a/.?/.?/srv/private/x', 'grep -r x /srv/public/.?', 'cat /srv/public/{.,x}./private/notes',
      'cat /srv/public{/../private/notes,}', 'cat < /srv/public/.?/private/notes'], CLIMBS);
  });

  test('patterns that cannot make .. are judged by their folder as before', () => {
    passes(PRIVATE, ['cat /srv/public/*', 'cat /srv/public/.env*', 'cat /srv/public/..?', 'cat /srv/public/{a,b}.log', 'cat /srv/public/*/../x']);
  });
});

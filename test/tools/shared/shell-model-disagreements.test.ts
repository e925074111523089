/**
 * Red-team pass on the file models (tar-files.ts, patch-models.ts, jq-program.ts, deny-paths.ts):
 * lines where the model and the real program read the words differently. Each case was run
 * against the real program (GNU tar 1.34, GNU patch 2.7.6, jq 1.6, kislyuk's yq 3.1, bash 5.2):
 * - tar: `--clamp-mtime` is a flag the model read as taking a value, so it swallowed `-T`, `-x`
 *   or a relative operand; `--xattrs-include` (and other required-value options) were unlisted,
 *   so their value `-O` looked like extraction to standard output while tar extracted into the
 *   login folder;
 * - patch: with a file to patch named, a git-style `rename to`/`copy to` still writes the name
 *   the patch text gives, in the login folder (`patch /srv/app/f < d` moved f to ~/.bashrc);
 * - jq: `$ #comment` NEWLINE `ENV` is `$ENV`; `--argfile NAME FILE` was unlisted, so NAME was
 *   read as the filter and the real filter (`$ENV`) as an input file;
 * - deny paths: a glob or brace word (`/srv/secre?`) expands to the denied path it does not spell.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const P = { paths: ['/srv/app'] };
const { refuse, allow } = shellVerdicts({ pipelines: true, programs: { tar: P, patch: P, jq: { ...P, rewrites: true }, yq: { ...P, rewrites: true }, cat: P, echo: {}, printf: {} } });
const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const deny = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

before(async () => {
  await initShellParser();
});

describe('tar: every option that takes a value is listed, and no flag is', () => {
  test('--clamp-mtime is a flag: the -T list, the extraction and the relative operand after it are seen', () => {
    refuse(['echo /etc/shadow | tar -c -f /srv/app/o.tar --mtime=@0 --clamp-mtime -T -', 'tar -c -f /srv/app/o.tar --mtime=@0 --clamp -T -'],
      /tar -T reads the names of the files to add from standard input/);
    refuse(['tar --mtime=@0 --clamp-mtime -x -f /srv/app/a.tar'], /is not an absolute path|tar extraction into a folder writes names only the archive knows/);
    refuse(['tar -c -f /srv/app/o.tar --mtime=@0 --clamp-mtime authorized_keys'], /tar file argument 'authorized_keys' is not an absolute path/);
    // Packing or searching a tree is refused only because a bare secret may lie in it (shell/secret-files.ts): its options and paths pass.
    refuse(['tar -c -f /srv/app/o.tar --mtime=@0 --clamp-mtime /srv/app/d'], /may lie at any depth/);
  });

  test('--xattrs-include, --exclude-ignore, --warning, --sort, ... take the next word: a -O there is no extraction to standard output', () => {
    for (const opt of ['--xattrs-include', '--xattrs-exclude', '--exclude-ignore', '--exclude-ignore-recursive', '--sparse-version', '--warning', '--sort']) {
      refuse([`tar -x -f /srv/app/a.tar ${opt} -O`], /is not an absolute path|tar extraction into a folder writes names only the archive knows/);
    }
    allow(['tar -x -f /srv/app/a.tar --xattrs-include "user.*" -O', 'tar -x -O -f /srv/app/a.tar --xattrs', 'tar -x -O --sparse -f /srv/app/a.tar']);
  });

  test('tar 1.35 --set-mtime-command runs a command', () => {
    refuse(['tar -c -f /srv/app/o.tar --set-mtime-command=id /srv/app/d'], /tar --set-mtime-command .*can run programs/);
  });

  test('a deny with paths: sees them too', () => {
    const block = { programs: { tar: { paths: ['/home/app/.ssh'] } } };
    for (const cmd of ['echo /home/app/.ssh/id_rsa | tar -c -f /tmp/o.tar --mtime=@0 --clamp-mtime -T -', 'tar -x -f /tmp/a.tar --xattrs-include -O']) {
      assert.equal(deny(block, cmd).matched, true, cmd);
    }
  });
});

describe('patch: a git-style patch renames or copies to names only its text gives', () => {
  test('in place (no -o) is refused, also with a file to patch named; -o and --dry-run run', () => {
    refuse(['patch /srv/app/f /srv/app/p.diff', "printf 'diff --git a/x b/.bashrc\\nrename from x\\nrename to .bashrc\\n' | patch /srv/app/f",
      'patch -i /srv/app/p.diff /srv/app/f', 'patch -d /srv/app /srv/app/f /srv/app/p.diff', 'patch -r - /srv/app/f /srv/app/p.diff'],
    /patch writes the names a git-style patch \(.*\) gives in rename to and copy to lines, even with a file to patch named .*name the output with -o/);
    allow(['patch -o /srv/app/f.new /srv/app/f /srv/app/p.diff', 'patch --dry-run /srv/app/f /srv/app/p.diff', 'patch --output=/srv/app/n -i /srv/app/p.diff /srv/app/f']);
    // A rename with -o removes the file patched: it counts as written (a file git obeys is refused).
    refuse(['patch -o /srv/app/n /srv/app/.git/config /srv/app/p.diff'], /a file git obeys/);
  });

  test('a deny with paths: matches a patch whose text names its files', () => {
    const block = { programs: { patch: { paths: ['/home/app/.ssh'] } } };
    for (const cmd of ['patch /tmp/f /tmp/p.diff', 'patch -p1 -i /tmp/p.diff', 'cat /tmp/p.diff | patch -p1']) {
      const r = deny(block, cmd);
      assert.equal(r.matched, true, cmd);
      assert.match(r.why, /patch .* gives|patch text knows/, cmd);
    }
    assert.equal(deny(block, 'patch -o /tmp/out /tmp/f /tmp/p.diff').matched, false);
  });
});

describe('jq: the environment by other spellings', () => {
  const ENV = /reads the environment \(\$ENV\), which may hold secrets/;
  test("'$ #comment' NEWLINE 'ENV' is $ENV", () => {
    refuse(["jq -n '$ #c\nENV.SECRET'", "jq -n '$\n#c\nENV'"], ENV, { programs: { jq: {} } });
    allow(["jq '.ENV' /tmp/x.json", "jq -n '\"ENV\"'", "jq -n '$__loc__'"], { programs: { jq: { rewrites: true } } });
  });

  test('--argfile NAME FILE takes two words: the filter after them is judged', () => {
    refuse(["jq -n --argfile a /tmp/x.json '$ENV.SECRET'", "yq -n --argfile a /tmp/x.json '$ENV.SECRET'"], ENV, { programs: { jq: {}, yq: {} } });
    refuse(['jq -n --argfile a /etc/shadow .'], /jq path '\/etc\/shadow' is outside \/srv\/app/);
    allow(["jq -n --argfile a /srv/app/x.json '$a'"]);
  });
});

describe('deny paths: a glob or brace word may expand to a denied path', () => {
  const block = { programs: { cat: { paths: ['/etc/shadow', '/srv/secret'] }, grep: { paths: ['/srv/secret'] } } };
  test('it matches where its folder holds a denied path', () => {
    for (const cmd of ['cat /etc/shad?w', 'cat /etc/sha*', 'cat /srv/s[e]cret/key', 'cat /srv/{secret,x}/key', 'cat /s*/secret/key', 'grep -r x /sr?']) {
      const r = deny(block, cmd);
      assert.equal(r.matched, true, `${cmd}: ${r.why}`);
      assert.match(r.why, /is a pattern bash expands in .*, where it may name/, cmd);
    }
  });
  test('a glob in a folder that holds no denied path does not', () => {
    for (const cmd of ['cat /var/log/*.log', 'cat /srv/app/*', 'cat /var/lib/x?']) assert.equal(deny(block, cmd).matched, false, cmd);
  });
});

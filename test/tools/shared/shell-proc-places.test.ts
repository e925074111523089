/**
 * Red team of `paths:` grants and deny rules over /proc and /dev (proc-places.ts). Under a grant
 * of `/proc` (meant for `/proc/loadavg`), `/dev` or `/`, these got through: an open file of any
 * process (`/dev/fd/3`, `/dev/stdin`, `grep -R x /proc/1/fd`), a process's argv, memory, memory
 * map, program (`/proc/1/cmdline`, `/proc/1/mem`, `/proc/1/exe`); a grant without paths: read
 * another process's open file (`cat /proc/1/fd/3`: any secret it holds open); a deny of
 * `/etc/shadow` missed `cat /dev/fd/3`, and a deny of `/proc/1/environ` missed
 * `/proc/self/environ` and `/proc/1/task/1/environ`. Now each needs a grant whose paths: name
 * the place (`/proc/self/fd`, `/dev/stdin`, `/proc/1/cmdline`), and a deny matches them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { normalisePath, throughOpenFile } from '../../../tools/shared/shell/paths.js';
import { placeToName } from '../../../tools/shared/shell/proc-places.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denyVerdict = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

const grant = (paths: string[]) => ({ paths });
const READERS = (paths: string[]) => ({ pipelines: true, programs: { cat: grant(paths), head: grant(paths), grep: grant(paths), ls: grant(paths), tee: grant(paths), sort: grant(paths), wc: grant(paths) } });
const { refuse, allow } = shellVerdicts(READERS(['/proc']));

before(async () => {
  await initShellParser();
});

const OPEN = /an open file of a process \(whose path Warden cannot know: it may be a secret\).*do not name; a grant reaches it only when its paths: name /;
const PRIVATE = /\(its secrets\), which this grant's paths: .* do not name; a grant reaches it only when its paths: name \/proc\//;

describe('open files under a paths: grant', () => {
  test('an open file through /proc or /dev is refused under /proc, /dev and /', () => {
    const cmds = ['cat /proc/1/fd/3', 'cat /proc/self/fd/3', 'cat /proc/thread-self/fd/0', 'cat /proc/1/task/7/fd/3', 'cat /proc/1/map_files/7f00-7f10',
      'head -c 100 /proc//1/./fd/3', 'cat /proc/1/../1/fd/3', 'cat /proc/1/root/proc/2/fd/3'];
    refuse(cmds, OPEN);
    refuse([...cmds, 'cat /dev/fd/3', 'cat /dev//fd/3', 'cat /dev/stdin', 'cat /dev/./stdin', 'tee /dev/stderr', 'sort -o /dev/stdout /proc/loadavg', 'cat /proc/1/root/dev/fd/3'], OPEN, READERS(['/']));
    refuse(['cat /dev/fd/3', 'cat /dev/stdin', 'tee /dev/stdout'], OPEN, READERS(['/dev']));
  });

  test("a process's open-file folders are private places: their listing, a whole read, their details", () => {
    refuse(['grep -R x /proc/1/fd', 'grep -r x /proc/self/fd/', 'ls -l /proc/1/fd', 'cat /proc/1/fdinfo/3', 'grep -R x /proc/1/task/7/map_files'], PRIVATE);
  });

  test('a grant whose paths: name the place reads it, and only it', () => {
    const b = READERS(['/dev/./stdin', '/proc/self/fd', '/srv']);
    allow(['cat /dev/stdin', 'cat /proc/self/fd/0', 'ls /proc/self/fd', 'grep x /proc/self/fd/3'], b);
    refuse(['cat /dev/fd/3', 'cat /proc/1/fd/3', 'cat /dev/stdout', 'tee /dev/stderr'], OPEN, b);
    // A spelling that hides where it leads (`..` after the link) is never granted.
    refuse(['cat /proc/self/fd/3/../../environ'], /which no grant can name in this spelling/, b);
  });

  test('a grant without paths: reads its own streams, not another open file', () => {
    const b = { programs: { cat: {}, readlink: {}, ls: {} } };
    refuse(['cat /proc/1/fd/3', 'cat /dev/fd/3', 'cat /proc/self/fd/5', 'cat /proc/1/task/1/map_files/x'], /an open file of a process, whose path Warden cannot know: it may be a file that is itself a secret/, b);
    allow(['cat /dev/stdin', 'cat /proc/self/fd/0', 'cat /dev/fd/2', 'readlink /proc/1/fd/3', 'ls -l /proc/1/fd', 'cat /proc/loadavg'], b);
  });
});

describe("a process's private files under a paths: grant", () => {
  test('argv, memory, memory map, aux vector, stack, program: refused under /proc, however spelt', () => {
    refuse(['cat /proc/1/cmdline', 'cat /proc/self/cmdline', 'head -c 64 /proc/1/mem', 'cat /proc/1/maps', 'cat /proc/1/smaps', 'cat /proc/1/auxv', 'cat /proc/1/stack',
      'cat /proc/1/syscall', 'cat /proc/1/exe', 'cat /proc/1/task/7/cmdline', 'cat /proc//1/cmdline', 'cat /proc/./1/cmdline', 'cat /proc/1/../1/cmdline',
      'cat /proc/2/root/proc/1/cmdline', 'cat /proc/kcore', 'cat /proc//1/environ', 'cat /proc/1/../1/environ', 'wc -c /proc/thread-self/environ'], PRIVATE);
    refuse(['cat /proc/1/cmdline', 'cat /proc/1/environ'], PRIVATE, READERS(['/']));
    // Globs, braces and $$ need constructs this rule does not allow.
    refuse(['cat /proc/*/environ', 'cat /proc/{1,2}/cmdline', 'cat /proc/$$/environ', 'cat /proc/$BASHPID/cmdline'], /The command line uses/);
  });

  test('a grant naming the file reads it; environment: true still reads environ', () => {
    const b = READERS(['/proc/1/cmdline', '/proc/1/environ', '/proc/loadavg']);
    allow(['cat /proc/1/cmdline', 'cat /proc/1/environ', 'cat /proc/loadavg'], b);
    refuse(['cat /proc/2/cmdline', 'cat /proc/self/environ'], /is outside|do not name/, b);
    allow(['cat /proc/1/environ'], { programs: { cat: { paths: ['/proc'], environment: true } } });
    refuse(['cat /proc/1/cmdline'], PRIVATE, { programs: { cat: { paths: ['/proc'], environment: true } } });
  });

  test('harmless reads stay granted', () => {
    allow(['cat /proc/loadavg', 'cat /proc/meminfo', 'ls /proc', 'cat /proc/1/status', 'cat /proc/self/status', 'cat /proc/1/stat', 'cat /proc/1/limits',
      'ls /proc/1', 'cat /proc/1/mountinfo', 'cat /proc/cmdline', 'cat /proc/sys/kernel/hostname', 'head -n 5 /proc/cpuinfo | wc -l']);
    allow(['cat /dev/null'], READERS(['/dev']));
  });
});

describe('deny rules with paths: over /proc and /dev', () => {
  test('an open file may be the denied one', () => {
    const block = { programs: { cat: grant(['/etc/shadow']), tee: grant(['/etc/shadow']) } };
    for (const cmd of ['cat /dev/fd/3', 'cat /dev/stdin', 'cat /proc/1/fd/3', 'cat /proc/self/map_files/x', 'tee /dev/stdout']) {
      const r = denyVerdict(block, cmd);
      assert.equal(r.matched, true, cmd);
      assert.match(r.why, /an open file of a process, whose path Warden cannot know/, cmd);
    }
    assert.equal(denyVerdict(block, 'cat /etc/hostname').matched, false);
  });

  test("a deny in one process's folder matches every process's spelling of it", () => {
    const block = { programs: { cat: grant(['/proc/1/environ']), head: grant(['/proc/1/environ']) } };
    for (const cmd of ['cat /proc/self/environ', 'cat /proc/thread-self/environ', 'cat /proc/1/task/1/environ', 'head /proc/42/environ', 'cat /proc/9/root/proc/self/environ']) {
      const r = denyVerdict(block, cmd);
      assert.equal(r.matched, true, cmd);
      assert.match(r.why, /names in one process's folder what \/proc\/1\/environ names/, cmd);
    }
    for (const cmd of ['cat /proc/1/status', 'cat /proc/meminfo', 'cat /proc/self/cmdline']) assert.equal(denyVerdict(block, cmd).matched, false, cmd);
  });
});

test('paths: /dev/fd and /dev/std* are open files; placeToName names their place', () => {
  for (const p of ['/dev/fd/3', '/dev/stdin', '/dev/./stdout', '/proc/1/root/dev/stderr', '/proc/1/fd/3', '/proc/self/task/2/map_files/x']) {
    assert.equal(normalisePath(p), null, p);
    assert.equal(throughOpenFile(p), true, p);
  }
  for (const p of ['/dev/fd', '/dev/null', '/dev/stdinx', '/srv/dev/fd/3', '/proc/1/cwd/x', 'dev/fd/3']) assert.equal(throughOpenFile(p), false, p);
  assert.equal(placeToName('/proc/1/root/dev/fd/3')?.place, '/proc/1/root/dev/fd');
  assert.equal(placeToName('/proc/1/task/7/environ')?.place, '/proc/1/task/7/environ');
  assert.equal(placeToName('/proc/loadavg'), null);
});

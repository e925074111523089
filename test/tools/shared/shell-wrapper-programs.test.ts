/**
 * A program named by a path behind a wrapper's options (`sudo -u app ./x`, `timeout -s KILL 5 ./x`)
 * is found past them (wrapper-options.ts) and runs any program to a deny rule; an option Warden
 * does not know fails closed. `crontab FILE` installs commands no rule read. The same wrappers
 * around a system program stay judged by name.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { wrappedProgram } from '../../../tools/shared/shell/wrapper-options.js';
import { OPAQUE_WRAPPERS } from '../../../tools/shared/shell/unjudged-code.js';
import { WRAPPERS } from '../../../tools/shared/shell/runners.js';
import type { ShellFacts } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const verdict = (effect: 'allow' | 'deny', block: unknown, facts: ShellFacts) => shellCondition.compile(block, { id: effect[0] as string, effect })(facts, CALL);
const denies = (block: unknown, cmd: string): boolean => verdict('deny', block, parseShell(cmd)).matched;
const allows = (block: unknown, cmd: string): boolean => verdict('allow', block, parseShell(cmd)).matched;

before(async () => {
  await initShellParser();
});

const WRAPPED_PATHS: readonly string[] = [
  'sudo -u app /srv/x.sh', 'sudo -E -- ./x', 'sudo -u app -g grp -H ./x', 'sudo --user=app ./x', 'sudo --user app ./x', 'sudo -uapp ./x', 'sudo A=1 ./x',
  'timeout 5 ./x', 'timeout -s KILL 5 ./x', 'timeout --signal=KILL -k 2 5s ./x', 'timeout --foreground 5 ./x',
  'nice -n 5 ./x', 'nice -5 ./x', 'nice --adjustment=5 ./x', 'ionice -c3 ./x', 'ionice -c 2 -n 7 ./x', 'stdbuf -oL ./x', 'stdbuf -o L -e 0 ./x',
  'env -u X ./x', 'env -i A=1 ./x', 'env -C /srv ./x', 'env - ./x', 'setsid ./x', 'setsid -f ./x', 'nohup ./x', 'nohup -- ./x',
  'chrt 1 ./x', 'chrt -f 1 ./x', 'chrt --other ./x', 'taskset 1 ./x', 'taskset -c 0-3 ./x', 'runuser -u app -- ./x', 'runuser -u app ./x',
  'su app -c ./x', 'su - app -c /srv/x.sh', 'su app ./x', 'su -c "./x; ls" app', 'doas ./x', 'doas -u app ./x',
  'flock /tmp/l ./x', 'flock -w 5 /tmp/l ./x', 'flock -x /tmp/l -- ./x', 'watch ./x', 'watch -n 1 ./x', 'strace ./x', 'strace -f -o /tmp/t ./x',
  'ltrace ./x', 'ltrace -o /tmp/t ./x', 'valgrind ./x', 'valgrind --leak-check=full ./x', 'time ./x', 'time -p ./x', 'xargs -0 ./x', 'xargs -n 1 ./x',
  'parallel ./x', 'sudo timeout 5 nice -n 5 ./x', 'command -p ./x', 'exec -a name ./x', 'chroot /srv/root ./x',
  // Checked against the installed tools: an optional value is only ever glued (`-dX`, `--opt=X`), never the next word.
  'watch -d ./x', 'watch -d -n 1 ./x', 'watch --differences ./x', 'watch -dpermanent ./x', 'watch --differences=permanent ./x',
  'strace --follow-forks ./x', 'strace --quiet ./x', 'strace --daemonize ./x', 'strace --decode-fds ./x', 'strace --summary-only ./x',
  'strace --absolute-timestamps ./x', 'strace --syscall-times ./x', 'strace --stack-traces ./x', 'strace --instruction-pointer ./x',
  'strace --interruptible 1 ./x', 'strace --summary-columns name ./x', 'strace --summary-syscall-overhead 1 ./x', 'strace -A -o /tmp/t ./x',
  'nice --5 ./x', 'nice -+5 ./x', 'sudo -hhost ./x', 'sudo -hu ./x', 'sudo -c class ./x', 'sudo --login-class=class ./x',
];

/** Wrappers with options beyond the table: modelled ones find the program, the rest (OPAQUE_WRAPPERS) run any program, fail closed. */
const OTHER_WRAPPED: readonly string[] = [
  'parallel -j4 ./x', 'sem -j2 ./x', 'firejail --noprofile ./x', 'unshare -r ./x', 'unshare -m -f ./x', 'unshare --mount-proc ./x', 'unshare -S 0 ./x',
  'nsenter -t 1 -m ./x', 'nsenter --target 1 --mount --uts ./x', 'systemd-run --user ./x', 'bwrap --bind / / ./x', 'proxychains -q ./x',
  'proxychains4 -q ./x', 'torsocks ./x', 'torsocks -i ./x', 'catchsegv ./x', "faketime '1 day' ./x", 'unbuffer -p ./x', 'script -c ./x', 'script -qc ./x',
  'sg grp ./x', 'sg grp -c ./x', 'prlimit --nofile=1 ./x', 'prlimit -n1 ./x', 'prlimit --pid 1 ./x', 'numactl -C 0 ./x', 'cpulimit -l 5 -- ./x',
  'trickle -d 10 ./x', 'tsocks ./x', 'dbus-launch ./x', 'dbus-run-session -- ./x', 'xvfb-run -a ./x', 'daemonize ./x', 'start-stop-daemon --start --exec ./x',
  'ssh-agent ./x', 'ssh-agent -a /tmp/s ./x', 'gpg-agent --daemon ./x', 'systemd-inhibit --why=x ./x', 'systemd-inhibit --who x ./x', 'systemd-cat -t x ./x',
  'setarch x86_64 -R ./x', 'fakeroot -- ./x', 'eval ./x', 'eval /srv/x', 'script -q -c ./x /dev/null', 'script --command=./x', 'gosu app ./x', 'chpst -u app ./x', 'cgexec -g cpu:x ./x',
  // A listed name anywhere behind them was already seen.
  'parallel -j4 rm', "ssh-agent sh -c 'rm x; touch y'", 'gpg-agent --daemon touch x', 'tsocks sh -c ls',
];

/** Wrappers the table models stay judged by name around a system program. */
const OTHER_SYSTEM: readonly string[] = [
  'unshare -r ls', 'unshare -m -f ls', 'nsenter -t 1 -m ls', 'prlimit --nofile=1 ls', 'prlimit -n1 ls', 'systemd-inhibit --why x ls', 'systemd-cat -t x ls',
  'ssh-agent -s', 'ssh-agent -k', 'ssh-agent ls', 'eval ls', 'eval /usr/bin/ls', 'script -c ls /tmp/log',
];

const UNKNOWN_OPTIONS: readonly string[] = [
  'sudo -Z ./x', 'timeout --bogus 5 ls', 'nice -q ls', 'env --frobnicate ls', 'setsid -z ls',
  // `env -S 'PROG ARGS'` runs the program inside its value (coreutils 9.1 runs `env -S './x a' ls` as ./x).
  "env -S './x a' ls", 'env -iS./x ls', 'env --split-string=./x ls', "env --split-string './x' ls",
];

const SYSTEM_PROGRAMS: readonly string[] = [
  'timeout 5 ls', 'timeout -s KILL 5 ls', 'sudo -u app ls /srv', 'sudo -E -- ls', 'nice -n 5 ls', 'nice -5 ls', 'ionice -c3 ls', 'stdbuf -oL ls',
  'env -u X ls', 'setsid ls', 'nohup ls', 'chrt 1 ls', 'taskset 1 ls', 'runuser -u app -- ls', 'su app -c ls', 'su app -c "ls -l"', 'doas ls',
  'flock /tmp/l ls', 'watch ls', 'watch -n 1 df -h', 'strace ls', 'ltrace ls', 'valgrind ls', 'time ls', 'xargs -0 ls', 'sudo -u app cat ./x.sh',
  'timeout 5 cat ./x', 'flock -w 5 /tmp/l ls ./x', 'watch -d ls', 'watch -dpermanent ls', 'strace --follow-forks ls', 'strace --interruptible 1 ls',
  'strace --quiet ls', 'nice --5 ls', 'sudo -hhost ls', 'env -u S ls', 'env -CS ls', 'env -u X /usr/bin/ls', 'sudo -u app /bin/ls', 'crontab -l', 'crontab -r', 'crontab -u app -l',
];

describe('a path behind a wrapper\'s options runs any program to a deny rule', () => {
  for (const block of [{ programs: { rm: {} } }, { programs: { sh: {} } }, { programs: { touch: {} } }]) {
    const label = Object.keys(block.programs).join();
    it(`deny on ${label}: every wrapped path program matches`, () => {
      for (const cmd of WRAPPED_PATHS) assert.equal(denies(block, cmd), true, `${label}: ${cmd}`);
    });
    it(`deny on ${label}: an option Warden does not know fails closed`, () => {
      for (const cmd of UNKNOWN_OPTIONS) assert.equal(denies(block, cmd), true, `${label}: ${cmd}`);
    });
    it(`deny on ${label}: wrappers beyond the first table find the program or run any`, () => {
      for (const cmd of OTHER_WRAPPED) assert.equal(denies(block, cmd), true, `${label}: ${cmd}`);
      for (const cmd of OTHER_SYSTEM) assert.equal(denies(block, cmd), false, `${label}: ${cmd}`);
    });
    it(`deny on ${label}: crontab FILE installs commands no rule read`, () => {
      for (const cmd of ['crontab /srv/cron.txt', 'crontab -u root /tmp/c', 'crontab -- x']) assert.equal(denies(block, cmd), true, `${label}: ${cmd}`);
    });
    it(`deny on ${label}: the same wrappers around a system program stay judged by name`, () => {
      for (const cmd of SYSTEM_PROGRAMS) assert.equal(denies(block, cmd), false, `${label}: ${cmd}`);
    });
  }
  it('says why', () => {
    const why = (cmd: string): string => verdict('deny', { programs: { rm: {} } }, parseShell(cmd)).why;
    assert.match(why('sudo -u app /srv/x.sh'), /the program '\/srv\/x\.sh' is named by a path outside .* \(run through sudo\)/);
    assert.match(why('sudo -Z ./x'), /sudo option -Z \(in '-Z'\) is not one Warden knows, so the program sudo runs cannot be found/);
    assert.match(why('su app ./x'), /su gives '\.\/x' to the user's shell/);
    assert.match(why('crontab /srv/cron.txt'), /crontab installs the table '\/srv\/cron\.txt', whose commands run later/);
  });
  it('wrappedProgram: where the program stands', () => {
    assert.deepEqual(wrappedProgram('sudo', ['-u', 'app', 'A=1', './x']), { at: [3] });
    assert.deepEqual(wrappedProgram('timeout', ['-s', 'KILL', '5', './x']), { at: [3] });
    assert.deepEqual(wrappedProgram('chrt', ['--other', './x', 'a']), { at: [1, 2] }, 'a lead word that is no priority may be the program');
    assert.deepEqual(wrappedProgram('flock', ['-w', '5', '/tmp/l', 'ls']), { at: [3] });
    assert.deepEqual(wrappedProgram('watch', ['-d', './x']), { at: [1] }, 'watch -d[=permanent]: an optional value, never the next word');
    assert.deepEqual(wrappedProgram('watch', ['-dn', '1', './x']), { at: [1] }, '-dn: n is the value of -d, glued');
    assert.deepEqual(wrappedProgram('strace', ['--follow-forks', './x']), { at: [1] });
    assert.deepEqual(wrappedProgram('strace', ['--quiet', './x']), { at: [1] }, 'strace --quiet[=SET]');
    assert.deepEqual(wrappedProgram('strace', ['--interruptible', '1', './x']), { at: [2] });
    assert.deepEqual(wrappedProgram('sudo', ['-hu', './x']), { at: [1] }, 'sudo -h[host]: u is the host');
    assert.deepEqual(wrappedProgram('env', ['-CS', './x']), { at: [1] }, 'env -CS: S is the folder');
    assert.ok('unknown' in (wrappedProgram('env', ['-S', './x', 'ls']) ?? {}));
    assert.equal(wrappedProgram('proxychains', ['./x']), null);
    assert.deepEqual(wrappedProgram('unshare', ['-mu', './x']), { at: [1] }, 'unshare -m[file]: u is the file, glued');
    assert.deepEqual(wrappedProgram('nsenter', ['-t', '1', '-m', './x']), { at: [3] });
    assert.deepEqual(wrappedProgram('prlimit', ['--nofile=1', '-n', './x']), { at: [2] }, 'prlimit -n[limit]: optional, never the next word');
    assert.deepEqual(wrappedProgram('ssh-agent', ['-t', '60', './x']), { at: [2] });
  });
  it('every wrapper is modelled, handled on its own, or runs any program (OPAQUE_WRAPPERS)', () => {
    const own = new Set(['xargs', 'envdir', 'setlock', 'lckdo', 'coreutils', 'coproc']);
    for (const w of WRAPPERS) {
      const modelled = wrappedProgram(w, []) !== null;
      assert.equal([modelled, own.has(w), OPAQUE_WRAPPERS.has(w)].filter(Boolean).length, 1, w);
    }
    for (const w of OPAQUE_WRAPPERS) assert.ok(WRAPPERS.has(w), `${w} is a wrapper`);
  });
  it('an opaque wrapper says why', () => {
    assert.match(verdict('deny', { programs: { rm: {} } }, parseShell('torsocks ls')).why, /torsocks .*options Warden does not model/);
    assert.ok('unknown' in (wrappedProgram('nice', ['-q', 'ls']) ?? {}));
  });
  it('allow rules: a listed wrapper still grants a listed program; crontab FILE is refused', () => {
    const block = { programs: { timeout: {}, nice: {}, ls: {}, crontab: {} } };
    for (const cmd of ['timeout 5 ./x', 'nice -n 5 ./x', 'crontab /srv/cron.txt', 'crontab', 'crontab -', 'crontab -u app x']) assert.equal(allows(block, cmd), false, cmd);
    for (const cmd of ['ls', 'crontab -l']) assert.equal(allows(block, cmd), true, cmd);
  });
});

describe('tini, fakeroot and dbus-run-session are modelled', () => {
  it('finds the program after their options', () => {
    assert.deepEqual(wrappedProgram('tini', ['-s', '-p', 'SIGKILL', '--', 'ls', '/x']), { at: [4] });
    assert.deepEqual(wrappedProgram('tini', ['-e', '143', './x']), { at: [2] });
    assert.deepEqual(wrappedProgram('fakeroot', ['-s', '/tmp/save', '-u', '--', 'ls']), { at: [4] });
    assert.deepEqual(wrappedProgram('fakeroot', ['-b', '3', './x']), { at: [2] });
    assert.deepEqual(wrappedProgram('dbus-run-session', ['--config-file', '/tmp/c', 'ls']), { at: [2] });
    assert.deepEqual(wrappedProgram('dbus-run-session', ['--config-file=/tmp/c', '--', './x']), { at: [2] });
  });
  it('options that name code they run (dbus-run-session --dbus-daemon, fakeroot --lib/--faked) make the program unknown', () => {
    assert.ok('unknown' in (wrappedProgram('dbus-run-session', ['--dbus-daemon=./evil', 'ls']) ?? {}));
    assert.ok('unknown' in (wrappedProgram('fakeroot', ['-l', './evil.so', 'ls']) ?? {}));
    assert.ok('unknown' in (wrappedProgram('fakeroot', ['--faked', './evil', 'ls']) ?? {}));
  });
});

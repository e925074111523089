/**
 * A shell given a script file, a sourced file, a build tool or package manager, and a program run
 * by a path outside the system's program folders run code no rule judged: a `shell:` deny rule
 * naming any program treats each as running any program (interpreters.ts, unjudged-code.ts).
 * `bash -c` text stays parsed and judged, and bare or system-path programs stay judged by name.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseArgv, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { codeRun, unjudgedProgram } from '../../../tools/shared/shell/unjudged-code.js';
import type { ShellFacts } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const verdict = (effect: 'allow' | 'deny', block: unknown, facts: ShellFacts) => shellCondition.compile(block, { id: effect[0] as string, effect })(facts, CALL);
const denies = (block: unknown, cmd: string): boolean => verdict('deny', block, parseShell(cmd)).matched;
const allows = (block: unknown, cmd: string): boolean => verdict('allow', block, parseShell(cmd)).matched;

before(async () => {
  await initShellParser();
});

const RUNS_UNJUDGED: readonly string[] = [
  // a shell given a script file (or an rc file), any shell, behind wrappers and hops
  'bash x.sh', 'sh /srv/app/deploy.sh', 'zsh x', 'dash x', 'ksh x', 'mksh x', 'fish x.fish', 'csh x', 'busybox sh x', 'toybox sh x',
  'bash -e x.sh', 'bash -o posix x.sh', 'bash -- x.sh', 'bash - x.sh', 'bash --norc x.sh', 'sh -n x.sh', '/bin/bash x.sh', 'bash --rcfile /tmp/rc -i',
  'env bash x.sh', 'sudo bash x.sh', 'nice sh x', 'find /srv -name "*.sh" -exec sh {} \\;', 'kubectl exec web -- bash /x.sh', 'docker exec c sh /x',
  'ssh h "bash x.sh"', 'echo x.sh | xargs sh',
  // a script sourced into the shell, also inside `sh -c`
  'source x.sh', '. x.sh', '. /tmp/x', `sh -c '. /tmp/x'`, `bash -c 'source ./env.sh && ls'`, 'source -- x.sh',
  // a script on standard input the line feeds
  'bash < x.sh', 'bash -s < x', 'cat x | sh',
  // build tools and package managers
  'make', 'make -f /tmp/Makefile', 'make -n', 'gmake all', 'npm run build', 'npm install', 'npx cowsay', 'yarn', 'pnpm test', 'cargo run',
  'cargo build', 'go run .', 'go generate ./...', 'just', 'task deploy', 'rake', 'env make', 'kubectl exec web -- make',
  // programs run by a path that is relative or outside the system's program folders
  './x.sh', '../bin/x', 'bin/x', '/srv/app/x.sh', '/tmp/x', '~/bin/x', '/usr/bin/../../tmp/x', '/opt/tool/bin/tool --version', 'env ./x.sh',
  'sudo /srv/app/x.sh', 'nohup ./x &', 'find . -exec ./x {} \\;', 'kubectl exec web -- /app/run.sh', 'ls; ./x.sh', 'a=1 ./x',
];

const STAYS_JUDGED: readonly string[] = [
  `bash -c 'ls -l'`, `sh -c 'echo hi'`, 'bash --version', 'sh', 'bash -s', 'ls /srv/app', 'cat ./x.sh', '/usr/bin/ls', '/bin/ls -l',
  '/usr/local/bin/jq . x', '/usr/sbin/ip a', '/lib64/ld-linux-x86-64.so.2 /usr/bin/ls', 'sudo cat /srv/app/x.sh', 'timeout 5 cat /tmp/x',
  'make --version', 'npm --version', 'npm -v', 'cargo -V', 'go version', 'yarn --help', 'source', 'cp /srv/a /srv/b',
  'chroot /srv/root /bin/ls', 'flock /tmp/l ls', 'envdir /etc/env ls',
];

describe('a deny rule naming any program matches code no rule judged', () => {
  for (const block of [{ programs: { rm: {} } }, { programs: { curl: {} } }, { programs: { sh: {} } }]) {
    const label = Object.keys(block.programs).join();
    it(`deny on ${label}: shell scripts, sourced files, build tools and path programs match`, () => {
      for (const cmd of RUNS_UNJUDGED) assert.equal(denies(block, cmd), true, `${label}: ${cmd}`);
    });
    it(`deny on ${label}: -c text, version checks and system programs stay judged by name`, () => {
      for (const cmd of STAYS_JUDGED) {
        // A deny on sh matches `sh ...` itself, by name.
        if (label === 'sh' && /^sh\b/.test(cmd)) continue;
        assert.equal(denies(block, cmd), false, `${label}: ${cmd}`);
      }
    });
  }
  it('inline -c text is still judged word by word', () => {
    assert.equal(denies({ programs: { rm: {} } }, `bash -c 'rm -rf /x'`), true);
    assert.equal(denies({ programs: { rm: {} } }, `bash -c 'ls' x.sh`), false, 'x.sh is $0, not a script');
  });
  it('says why', () => {
    const why = (cmd: string): string => verdict('deny', { programs: { rm: {} } }, parseShell(cmd)).why;
    assert.match(why('bash /srv/x.sh'), /bash runs the script file '\/srv\/x.sh', whose code Warden does not read, so it may run a denied program/);
    assert.match(why('. /tmp/x'), /\. runs the script file '\/tmp\/x' in the shell/);
    assert.match(why('make -C /srv'), /make runs the commands a project's files give/);
    assert.match(why('./x.sh'), /the program '\.\/x\.sh' is named by a path outside the system's program folders/);
    assert.match(why('env ./x.sh'), /run through env/);
  });
  it('kubectl_exec argv is judged alike', () => {
    const block = { programs: { rm: {} } };
    assert.equal(verdict('deny', block, parseArgv(['sh', '/x.sh'])).matched, true);
    assert.equal(verdict('deny', block, parseArgv(['/app/run.sh'])).matched, true);
    assert.equal(verdict('deny', block, parseArgv(['npm', 'start'])).matched, true);
    assert.equal(verdict('deny', block, parseArgv(['sh', '-c', 'ls'])).matched, false);
    assert.equal(verdict('deny', block, parseArgv(['/usr/bin/ls'])).matched, false);
  });
});

describe('the decisions, one by one', () => {
  it('codeRun: shells, source and build tools', () => {
    assert.equal(codeRun('bash', ['x.sh'])?.kind, 'script');
    assert.equal(codeRun('bash', ['-c', 'ls']), null);
    assert.equal(codeRun('bash', ['-s']), null);
    assert.equal(codeRun('bash', []), null);
    assert.equal(codeRun('bash', ['--rcfile=/tmp/x'])?.kind, 'code');
    assert.equal(codeRun('source', ['x'])?.kind, 'script');
    assert.equal(codeRun('.', ['/dev/stdin']), null, 'a pipe counts only when the line feeds it');
    assert.equal(codeRun('make', [])?.kind, 'code');
    assert.equal(codeRun('make', ['--version']), null);
    assert.equal(codeRun('busybox', ['sh', 'x']), null, 'busybox names its shell in the next word, judged on its own');
    assert.equal(codeRun('ls', ['x.sh']), null);
  });
  it('unjudgedProgram: paths outside the system program folders', () => {
    for (const w of ['./x', 'x/y', '/tmp/x', '/srv/app/bin/x', '~/x', '/usr/bin/../../tmp/x', '/usr/bin/sub/x', '/lib64/x', '$HOME/x']) {
      assert.notEqual(unjudgedProgram(w), null, w);
    }
    for (const w of ['ls', 'rm', '/bin/ls', '/usr/bin/python3', '/usr/local/sbin/x', '/usr/bin/./ls', '/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2']) {
      assert.equal(unjudgedProgram(w), null, w);
    }
  });
  it('allow rules are unchanged: shells and path programs were never granted; a listed build tool still is', () => {
    const block = { programs: { bash: {}, sh: {}, make: {}, npm: {}, ls: {} } };
    for (const cmd of ['bash x.sh', 'sh -c ls', 'source x.sh', './x.sh', '/srv/app/x.sh', '/usr/bin/ls']) assert.equal(allows(block, cmd), false, cmd);
    for (const cmd of ['make', 'npm run build', 'ls']) assert.equal(allows(block, cmd), true, cmd);
  });
});

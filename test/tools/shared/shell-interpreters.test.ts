/**
 * Interpreters run the code they are given (inline, a module, a script file, standard input), and
 * Warden does not read that code: a `shell:` deny rule naming any program treats such an
 * invocation as running any program (as it does a kubectl plugin), however the code spells the
 * program (`"r"+"m"`). Version and help checks run no code and stay ordinary. An allow never
 * grants an interpreter's code (the catalogue), except a granted `node SCRIPT`.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DENIED_PROGRAMS, initShellParser, injectionReason, parseArgv, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { interpreterCode, isInterpreter } from '../../../tools/shared/shell/interpreters.js';
import { INTERPRETER_PATTERN } from '../../../tools/shared/shell/runners.js';
import type { ShellFacts } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const verdict = (effect: 'allow' | 'deny', block: unknown, facts: ShellFacts) => shellCondition.compile(block, { id: effect[0] as string, effect })(facts, CALL);
const denies = (block: unknown, cmd: string): boolean => verdict('deny', block, parseShell(cmd)).matched;
const allows = (block: unknown, cmd: string): boolean => verdict('allow', block, parseShell(cmd)).matched;

before(async () => {
  await initShellParser();
});

/** Each form runs code it was given; none names `rm` or `sh` in a way the word scan could see. */
const RUNS_CODE: readonly string[] = [
  // python, any version, behind a path
  `python3 -c 'import os; os.system("r"+"m -rf /srv")'`, 'python3 -c pass', 'python3 -Bc pass', 'python -m http.server', 'python3 -m pip list',
  'python3 /tmp/x.py', 'python3 -u /tmp/x.py', 'python3.11 -c pass', '/usr/bin/python3 -c pass', '/usr/bin/python3.11 /tmp/x.py', 'pypy3 x.py',
  'python3 -- /tmp/x.py', 'python3 -X importtime', 'python3 -W ignore x.py',
  // perl, ruby, node and kin
  `perl -e 'system q(id)'`, 'perl -E say', 'perl -lne print', 'perl -MPOSIX -v', 'perl /tmp/x.pl', 'perl -x /tmp/x', 'perl5.36 -e 1',
  'ruby -e 1', 'ruby -rjson x', 'ruby /tmp/x.rb', 'irb -r x', 'node -e 1', 'node --eval=1', 'node -p 1', 'node --print 1', 'node -pe 1',
  'node -r /tmp/x.js', 'node --require /tmp/x.js', 'node --import=/tmp/x.mjs', 'node --loader /tmp/x.mjs', 'node /tmp/x.js', 'nodejs x.js',
  'node --env-file=/tmp/.env', 'node --run build', 'node --test', 'deno run x.ts', 'deno eval 1', 'bun -e 1', 'bun x.ts',
  // php, lua, R, tcl, expect, julia, others
  `php -r 'system("id");'`, 'php /tmp/x.php', 'php -a', 'php -d auto_prepend_file=/tmp/x -v', 'php8.2 -r 1', 'lua -e 1', 'lua -l x',
  'lua /tmp/x.lua', 'lua5.4 x.lua', 'luajit -e 1', `Rscript -e 'system("id")'`, 'Rscript /tmp/x.R', 'R -e 1', 'R --file=/tmp/x.R',
  'tclsh /tmp/x.tcl', 'tclsh8.6 x', 'wish x', `expect -c 'spawn id'`, 'expect /tmp/x.exp', 'julia -e 1', 'julia x.jl', 'ghci -e 1',
  'osascript -e 1', 'pwsh -c id', 'pwsh -Command id', 'pwsh -Comm id', 'pwsh x.ps1', 'jshell x.jsh', 'jrunscript -e 1',
  // debuggers and editors that run the commands they are given
  `gdb -ex '!id'`, 'gdb -batch -ex "shell id"', 'gdb --eval-command=shell\\ id', 'gdb -x /tmp/cmds', 'gdb -eval-command x', 'gdb -iex x',
  `vim -c '!id'`, `vim +'!id' /x`, 'vim -S /tmp/x.vim', 'vim --cmd x', 'vim -es -u /tmp/vimrc', 'nvim -l /tmp/x.lua', `vi -c ':!id'`,
  `ex -c '!id' /x`, 'view -S /tmp/x', `ed '!id'`,
  // fed a script on standard input: a pipe, a here-doc, a herestring, a redirection
  `echo 'import os' | python3`, `python3 <<'EOF'\nimport os\nEOF`, `python3 - <<< 'import os'`, 'python3 < /tmp/x.py', 'echo 1 | perl',
  'echo 1 | node', 'echo 1 | ruby', 'echo "!id" | ed /x', `printf '!id' | ex`, 'echo 1 | tclsh', 'echo 1 | lua -', 'echo x | vim -es',
  // through wrappers, hops and ssh
  'nice python3 -c pass', 'sudo -u app perl /tmp/x.pl', 'env python3 x.py', 'timeout 5 node -e 1', 'kubectl exec web -- python3 -c pass',
  'docker run img python3 -c pass', `ssh h "python3 -c pass"`, `sh -c 'perl -e 1'`, 'busybox sh -c "python3 -c pass"', 'echo /tmp/x.py | xargs python3',
];

/** Invocations that run no code: only print and exit, or read standard input the line does not feed. */
const NO_CODE: readonly string[] = [
  'python3 --version', 'python3 -V', 'python3.11 -VV', '/usr/bin/python3 --version', 'python3 -h', 'perl -v', 'perl -V', 'perl --version',
  'ruby -v', 'ruby --version', 'node --version', 'node -v', 'nodejs --version', 'php -v', 'php -m', 'php -i', 'lua -v', 'Rscript --version',
  'gdb --version', 'vim --version', 'ed --version', 'julia --version', 'deno --version', 'pwsh -Version', 'expect -v',
  // no script and no feed: ssh_run and kubectl_exec give a command no standard input
  'python3', 'perl', 'ed /x', 'vim /x', 'gdb /usr/bin/x', 'gdb -batch -p 1', 'xargs python3',
];

describe('a deny rule naming any program matches an interpreter that runs code', () => {
  for (const block of [{ programs: { rm: {} } }, { programs: { sh: {} } }, { programs: { curl: {} } }, { programs: { git: { subcommands: ['push'] } } }]) {
    const label = Object.keys(block.programs).join();
    it(`deny on ${label}: every code-running form matches, with the interpreter named`, () => {
      for (const cmd of RUNS_CODE) {
        const r = verdict('deny', block, parseShell(cmd));
        assert.equal(r.matched, true, `${label}: ${cmd}`);
        // Through `sh -c`, a deny on sh names sh itself.
        assert.match(r.why, /runs code|script file|standard input|editor command|shell command|appends input words|Program sh .*is denied/, `${cmd}: ${r.why}`);
      }
    });
    it(`deny on ${label}: version checks and unfed interpreters stay ordinary`, () => {
      for (const cmd of NO_CODE) assert.equal(denies(block, cmd), false, `${label}: ${cmd}`);
    });
  }
  it('says why: the interpreter and what it runs', () => {
    const r = verdict('deny', { programs: { rm: {} } }, parseShell(`python3 -c 'import os; os.system("r"+"m -rf /srv")'`));
    assert.match(r.why, /python3 -c .*runs code Warden does not read, so it may run a denied program/);
    assert.match(verdict('deny', { programs: { sh: {} } }, parseShell('perl /tmp/x.pl')).why, /perl runs the script file '\/tmp\/x.pl'/);
    assert.match(verdict('deny', { programs: { sh: {} } }, parseShell('echo 1 | python3')).why, /python3 reads code on standard input, which the line feeds/);
  });
  it('kubectl_exec argv is judged alike', () => {
    const block = { programs: { rm: {} } };
    assert.equal(verdict('deny', block, parseArgv(['python3', '-c', 'import os'])).matched, true);
    assert.equal(verdict('deny', block, parseArgv(['perl', '-e', 'system q(id)'])).matched, true);
    assert.equal(verdict('deny', block, parseArgv(['python3', '--version'])).matched, false);
  });
  it('a deny on the interpreter itself still matches its version check', () => {
    assert.equal(denies({ programs: { python3: {} } }, 'python3 --version'), true);
    assert.equal(denies({ programs: { python3: { deny_flags: ['-c'] } } }, 'python3 --version'), false);
  });
});

describe('environment that makes interpreters run code', () => {
  const ASSIGNED = [
    'PYTHONSTARTUP=/tmp/x python3', 'PYTHONPATH=/tmp python3 -V', 'PERL5OPT=-Mx perl -v', 'PERL5LIB=/tmp perl -v', 'NODE_OPTIONS=--require=/tmp/x node --version',
    'RUBYOPT=-rx ruby -v', 'LUA_INIT=@/tmp/x.lua lua -v', 'LUA_INIT_5_4=x lua -v', 'BASH_ENV=/tmp/x bash -c ls', 'PYTHONWARNINGS=x python3 --version',
    'PHPRC=/tmp php -v', 'VIMINIT=x vim --version', 'env LUA_INIT=x lua -v', 'export PERL5OPT=-Mx; perl -v', 'docker exec -e LUA_INIT=x c lua -v',
  ];
  it('a deny rule on any program matches each assignment', () => {
    for (const cmd of ASSIGNED) assert.equal(denies({ programs: { rm: {} } }, cmd), true, cmd);
  });
  it('no allow grants them, even with the interpreter granted', () => {
    const block = { programs: { python3: {}, perl: {}, node: {}, ruby: {}, lua: {}, bash: {}, php: {}, vim: {}, env: {}, docker: {} } };
    for (const cmd of ASSIGNED) assert.equal(allows(block, cmd), false, cmd);
  });
});

describe('allow rules', () => {
  const block = { programs: { python3: {}, 'python3.11': {}, perl: {}, ruby: {}, node: {}, php: {}, lua: {}, gdb: {}, vim: {}, ed: {} } };
  it('a granted interpreter still never runs code it is given (the catalogue), except node SCRIPT', () => {
    for (const cmd of ['python3 -c pass', 'python3 /tmp/x.py', 'python3', 'perl -e 1', 'ruby x', 'php -r 1', 'lua x', 'gdb -ex x', 'vim -c x',
      'vim /x', 'ed /x', 'node -e 1', 'node', 'node -r x app.js', 'node --run build', 'node --env-file=.env app.js', 'node --test']) {
      assert.equal(allows(block, cmd), false, cmd);
      assert.notEqual(injectionReason(parseShell(cmd).commands[0] ?? { program: '', args: [], assignments: [] }), null, cmd);
    }
    assert.equal(allows(block, 'node /srv/app.js'), true);
    assert.equal(allows(block, 'node --inspect /srv/app.js -e x'), true, 'words after the script are its own');
  });
  it('a granted interpreter may print its version', () => {
    for (const cmd of ['python3 --version', 'python3 -V', 'python3.11 -VV', 'perl -v', 'ruby --version', 'node --version', 'php -v', 'lua -v',
      'gdb --version', 'vim --version', 'ed --version']) {
      assert.equal(allows(block, cmd), true, cmd);
    }
    assert.equal(allows({ programs: { ls: {} } }, 'python3 --version'), false, 'only when granted');
    assert.equal(allows(block, 'python3 --version -c pass'), false, 'every word must only print');
  });
});

describe('the interpreter table', () => {
  it('knows every interpreter and editor the catalogue refuses, and the versioned names', () => {
    for (const [name, why] of DENIED_PROGRAMS) {
      if (why === 'is an interpreter') assert.equal(isInterpreter(name), true, name);
    }
    for (const name of ['vim', 'vi', 'nvim', 'ex', 'view', 'ed', 'gvim', 'node', 'nodejs']) assert.equal(isInterpreter(name), true, name);
    for (const name of ['python3.11', 'python3', 'pypy3', 'perl5.36', 'ruby3.2', 'jruby', 'php8.2', 'lua5.4', 'luajit-2.1.0-beta3', 'tclsh8.6', 'wish8.6']) {
      assert.equal(isInterpreter(name), true, name);
      assert.equal(INTERPRETER_PATTERN.test(name), true, name);
    }
    for (const name of ['python3-config', 'luarocks', 'perldoc', 'rubocop', 'phpunit', 'nodemon', 'ls']) {
      assert.equal(isInterpreter(name), false, name);
      assert.equal(INTERPRETER_PATTERN.test(name), false, name);
    }
  });
  it('tells code, script and standard input apart', () => {
    assert.equal(interpreterCode('python3', ['-c', 'x'])?.kind, 'code');
    assert.equal(interpreterCode('python3', ['x.py', '-c', 'y'])?.kind, 'script');
    assert.equal(interpreterCode('python3', ['-'])?.kind, 'stdin');
    assert.equal(interpreterCode('python3', [])?.kind, 'stdin');
    assert.equal(interpreterCode('python3', ['--version']), null);
    assert.equal(interpreterCode('ls', ['-c']), null);
    assert.equal(interpreterCode('vim', ['/x'])?.kind, 'stdin');
    assert.equal(interpreterCode('vim', ['+10', '/x'])?.kind, 'stdin');
  });
});

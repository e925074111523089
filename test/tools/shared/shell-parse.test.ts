/** Parser, normalisation and canonical rebuild of the shared shell library. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  MAX_SHELL_BYTES, buildCommandLine, canonicalCommandLine, initShellParser, parseArgv, parseShell, quoteWord, unwrapShellC,
} from '../../../tools/shared/shell/index.js';

const isParse = (err: unknown): boolean => (err as { code?: string }).code === 'WARDEN_PARSE';
const words = (cmd: string): string[][] => parseShell(cmd).commands.map((c) => [c.program, ...c.args]);
const constructs = (cmd: string): string[] => parseShell(cmd).constructs;

before(async () => {
  await initShellParser();
});

describe('shell parser: words', () => {
  it('removes quotes and resolves escapes', () => {
    assert.deepEqual(words(`grep 'a b'"c"d\\ e x`), [['grep', 'a bcd e', 'x']]);
    assert.deepEqual(words(`echo "a\\"b\\\\c\\$d\\x"`), [['echo', 'a"b\\c$d\\x']]);
    assert.deepEqual(words(`echo $'\\x41\\t\\u00e9\\''`), [['echo', "A\té'"]]);
    assert.deepEqual(words('r""m'), [['rm']]);
  });
  it('refuses $\'..\' it cannot decode safely', () => {
    for (const cmd of [`echo $'\\0'`, `echo $'\\xff'`, `echo $'\\cA'`, `echo $'\\q'`]) {
      assert.throws(() => parseShell(cmd), isParse, cmd);
    }
  });
  it('records globs, tildes and braces in unquoted words only', () => {
    assert.deepEqual(constructs('ls /var/log/*.log'), ['glob']);
    assert.deepEqual(constructs('ls a?b'), ['glob']);
    assert.deepEqual(constructs('ls [ab]'), ['glob']);
    assert.deepEqual(constructs('ls ~/x'), ['tilde']);
    assert.deepEqual(constructs('echo {a,b}'), ['brace_expansion']);
    assert.deepEqual(constructs(`ls '*.log' "~" \\*`), []);
  });
});

describe('shell parser: constructs', () => {
  const table: [string, string[]][] = [
    ['a | b | c', ['pipeline']],
    ['a |& b', ['pipe_stderr', 'pipeline']],
    ['a; b', ['list']],
    ['a && b', ['and_or']],
    ['a &', ['background']],
    ['! a', ['negation']],
    ['(a)', ['subshell']],
    ['{ a; }', ['group']],
    ['a $(b)', ['command_substitution']],
    ['a <(b)', ['process_substitution']],
    ['a $x', ['parameter_expansion']],
    ['a "${x}"', ['parameter_expansion']],
    ['a $((1+2))', ['arithmetic_expansion']],
    ['a > f', ['redirection']],
    ['a 2>&1', ['redirection_dup']],
    ['a <<E\nx\nE', ['heredoc']],
    ['a <<< x', ['herestring']],
    ['X=1 a', ['assignment']],
    ['f() { a; }', ['function_definition', 'group']],
    ['a # note', ['comment']],
    ['$x y', ['parameter_expansion', 'variable_in_command_position']],
    ['for i in 1; do a; done', ['loop']],
    ['while a; do b; done', ['loop']],
    ['if a; then b; fi', ['if']],
    ['case x in y) a;; esac', ['case']],
    ['[[ -f x ]] && a', ['and_or', 'test']],
  ];
  for (const [cmd, expected] of table) {
    it(JSON.stringify(cmd), () => assert.deepEqual(constructs(cmd), expected));
  }
  it('counts only top-level pipes', () => {
    assert.equal(parseShell('a | b | c').pipelines, 2);
    assert.equal(parseShell('a $(b | c)').pipelines, 0);
  });
  it('lists commands hidden in substitutions (for deny rules)', () => {
    assert.deepEqual(words('ls $(rm -rf /)').map((w) => w[0]), ['rm', 'ls']);
  });
});

describe('shell parser: fail closed', () => {
  const bad = ['', '   ', 'ls\0rm', "grep 'abc", 'if true; then ls', 'echo a\\\nb', 'ls \\\n-la', 'echo "$"', 'echo $"x"', 'x=1', '{rm,-rf,/}'];
  for (const cmd of bad) it(`refuses ${JSON.stringify(cmd)}`, () => assert.throws(() => parseShell(cmd), isParse));
  it('refuses oversized input', () => {
    assert.throws(() => parseShell(`echo ${'a'.repeat(MAX_SHELL_BYTES)}`), isParse);
    assert.doesNotThrow(() => parseShell(`echo ${'a'.repeat(MAX_SHELL_BYTES - 10)}`));
  });
  // Within the byte cap, nesting used to overflow the walk's stack: a RangeError, not a refusal.
  it('refuses nesting too deep to walk with WARDEN_PARSE, not a stack overflow', () => {
    const fill = (open: string, inner: string, close: string): string => {
      const d = Math.floor((MAX_SHELL_BYTES - 16 - inner.length) / (open.length + close.length));
      return open.repeat(d) + inner + close.repeat(d);
    };
    for (const cmd of [`echo ${fill('$(', 'ls', ')')}`, `cat ${fill('<(', 'ls', ')')}`, `echo $((${fill('(', '1', ')')}))`]) {
      assert.throws(() => parseShell(cmd), (err: unknown) => isParse(err) && /nests deeper/.test((err as Error).message), cmd.slice(0, 20));
    }
    assert.doesNotThrow(() => parseShell(`echo ${'$('.repeat(40)}ls${')'.repeat(40)}`));
    assert.doesNotThrow(() => parseShell(Array(100).fill('ls').join(' && ')));
  });
});

describe('canonical rebuild', () => {
  const samples = [
    `grep 'it'"'"'s' /var/log/app/a.log`, `echo "a b" c\\ d $'\\n\\t' ''`, 'cat /x | grep -i "e r" | wc -l',
    `echo '$(id)' '\`id\`' '*' '~' '{a,b}' '!x' 'a;b' 'a|b' 'a&b' '<x>' '#c'`, `"coproc" ls`, `'a=b' x`,
  ];
  for (const cmd of samples) {
    it(`round trip ${JSON.stringify(cmd)}`, () => {
      const facts = parseShell(cmd);
      const line = canonicalCommandLine(facts);
      const again = parseShell(line);
      assert.deepEqual(again.commands, facts.commands);
      assert.deepEqual(again.constructs, facts.constructs);
    });
  }
  it('quotes safely', () => {
    assert.equal(quoteWord("it's"), `'it'\\''s'`);
    assert.equal(quoteWord(''), `''`);
    assert.equal(quoteWord('/var/log/app'), '/var/log/app');
    assert.equal(quoteWord('a=b'), `'a=b'`);
    assert.equal(buildCommandLine([{ program: 'ls', args: ['-la', 'a b'], assignments: [] }], 0), `'ls' -la 'a b'`);
  });
  it('refuses what cannot be rebuilt', () => {
    assert.throws(() => canonicalCommandLine(parseShell('a; b')), isParse);
    assert.throws(() => canonicalCommandLine(parseShell('a > f')), isParse);
    assert.throws(() => buildCommandLine([], 0), isParse);
    assert.throws(() => buildCommandLine([{ program: 'a', args: [], assignments: ['X=1'] }], 0), isParse);
  });
});

describe('argv and sh -c', () => {
  it('parses argv as one plain command', () => {
    const f = parseArgv(['cat', '/a b', '$(x)']);
    assert.deepEqual(f.commands, [{ program: 'cat', args: ['/a b', '$(x)'], assignments: [] }]);
    assert.deepEqual(f.constructs, []);
    assert.equal(f.source, 'argv');
  });
  it('refuses empty argv, empty program and NUL', () => {
    for (const argv of [[], [''], ['ls', 'a\0b']]) assert.throws(() => parseArgv(argv), isParse);
  });
  it('unwraps only the exact sh -c SCRIPT form', () => {
    assert.equal(unwrapShellC(['ls', '-c', 'x']), null);
    assert.equal(unwrapShellC(['sh', 'script.sh']), null);
    assert.deepEqual(unwrapShellC(['/bin/bash', '-c', 'ls /app'])?.commands, [{ program: 'ls', args: ['/app'], assignments: [] }]);
    assert.deepEqual(unwrapShellC(['sh', '-c', 'ls; rm'])?.constructs, ['list']);
    for (const argv of [['sh', '-c', 'ls', 'x'], ['bash', '-lc', 'ls'], ['sh', '-e', '-c', 'ls'], ['dash', '-c']]) {
      assert.throws(() => unwrapShellC(argv), isParse, JSON.stringify(argv));
    }
  });
});

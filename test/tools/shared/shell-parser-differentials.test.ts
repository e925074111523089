/**
 * Parser-differential red team: shell text another shell runs as written (the script of
 * `sh -c`/`bash -c`, ssh's remote command), where tree-sitter-bash saw other commands than the
 * real shell runs. Each attack is first run through the real bash 5.2 and dash 0.5.12 here, to
 * show it runs the hidden program (it touches a marker), then judged:
 * - `${x#$(cmd)}`, `${x%..}`, `${x^..}`, `${x,,..}`: the pattern is one text leaf to
 *   tree-sitter-bash, both shells run the substitution in it;
 * - `[ a || cmd ]`, `[ a | cmd ]`, `[ x =~ a|cmd ]`: `[` is a command to both shells, so the
 *   operators separate commands, where tree-sitter-bash read one test expression;
 * - dash (the usual `sh` and a login shell): `$'a\' ; cmd #'`, `[[ a || cmd ]]`, `((cmd))`;
 *   also an allow of `ssh` and `echo` let a remote dash run a program it does not list;
 * - `x='a[$(c""md)]'; echo $((x))`: the value was judged with its quotes kept literal, as a
 *   program `c""md`, where bash reads the `$(..)` afresh.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { initShellParser, parseShell, quoteWord, shellCondition, unwrapShellC } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denyTouch = shellCondition.compile({ programs: { touch: {} } }, { id: 'd', effect: 'deny' });
const denied = (line: string) => denyTouch(parseShell(line), CALL);

let DIR = '';
let M = '';

before(async () => {
  await initShellParser();
  DIR = mkdtempSync(join(tmpdir(), 'wpd-'));
  M = join(DIR, 'm');
});

after(() => {
  if (DIR) rmSync(DIR, { recursive: true, force: true });
});

/** The real shell runs `script` and it touches the marker (the attack is real). */
function touches(shell: 'bash' | 'dash', script: string): void {
  rmSync(M, { force: true });
  spawnSync(shell, ['-c', script], { cwd: DIR, stdio: 'ignore', timeout: 10_000 }); // `[ a | touch m ]` also touches `]`
  assert.equal(existsSync(M), true, `${shell} -c ${script} must touch the marker`);
  rmSync(M, { force: true });
}

/** `shell -c script` in an ssh_run line matches the deny on touch, saying why. */
function refusedBehind(shell: string, script: string, why: RegExp): void {
  const r = denied(`${shell} -c ${quoteWord(script)}`);
  assert.equal(r.matched, true, `${shell} -c ${script}: ${r.why}`);
  assert.match(r.why, why, script);
}

describe('a pattern expansion runs the $(..) tree-sitter-bash reads as text', () => {
  test('${x#..}, ${x%..}, ${x^..}, ${x,,..} and a ${..} inside one: refused to a deny', () => {
    for (const op of ['#', '##', '%', '%%', '#*']) {
      const script = `x=a; echo \${x${op}$(tou""ch ${M})}`;
      touches('bash', script);
      touches('dash', script);
      refusedBehind('sh', script, /does not parse.*\$\(\.\.\), \$\{\.\.\} or \$\[\.\.\] the shell parser reads as text/);
      refusedBehind('bash', script, /does not parse/);
    }
    for (const script of [`x=a; echo \${x^$(tou""ch ${M})}`, `x=a; echo \${x,,$(tou""ch ${M})}`, `x=a; echo "\${x#\${y:-$(tou""ch ${M})}}"`]) {
      touches('bash', script);
      refusedBehind('bash', script, /does not parse/);
    }
  });

  test('neighbours: a pattern of plain text or a variable, an escaped $( still pass', () => {
    for (const script of ['x=a.b; echo ${x%.*}', 'x=a; echo ${x#$y}', 'x=a; echo "${x#\\$(}"', 'x=a; echo ${x/a/$(date)}']) {
      assert.equal(denied(`bash -c ${quoteWord(script)}`).matched, false, script);
    }
  });
});

describe('[ .. ] is a command: its || and | separate commands', () => {
  test('[ a || cmd ], [ a | cmd ], [ x =~ a|cmd ]: refused to a deny, in bash and sh', () => {
    for (const script of [`true; [ a || tou""ch ${M} ]`, `true; [ ! a || tou""ch ${M} ]`, `true; [ a | tou""ch ${M} ]`, `true; [ x =~ a|tou""ch ${M} ]`]) {
      touches('bash', script);
      touches('dash', script);
      refusedBehind('bash', script, /does not parse.*inside \[ \.\. \]/);
      refusedBehind('sh', script, /does not parse/);
    }
  });

  test('neighbours: ordinary tests still pass', () => {
    for (const script of ['true; [ -n "$x" ] && echo y', 'true; [ a = b ] || echo n', 'true; [ ! -f /x ]', 'true; [ a -a b -o c ]', 'if [ "$(id -u)" != 0 ]; then echo u; fi']) {
      assert.equal(denied(`sh -c ${quoteWord(script)}`).matched, false, script);
    }
  });
});

describe('bash syntax a POSIX shell (dash) reads apart', () => {
  test("$'..', [[ .. ]] and (( .. )) in text sh or ssh's remote shell runs: refused to a deny", () => {
    const ansi = `echo $'a\\' ; to\\uch ${M} #'`;
    const test_ = `true; [[ a || tou""ch ${M} ]]`;
    touches('dash', ansi);
    touches('dash', test_);
    refusedBehind('sh', ansi, /does not parse.*\$'\.\.' quoting/);
    refusedBehind('sh', test_, /does not parse.*\[\[ \.\. \]\]/);
    refusedBehind('dash', test_, /does not parse/);
    // (( )) holds the name in plain sight, which sh's argument scan sees; ssh's remote command is not scanned.
    const arith = 'true; ((touch))';
    const r = spawnSync('dash', ['-c', arith], { cwd: DIR, encoding: 'utf8' });
    assert.match(r.stderr, /touch: missing file operand/, 'dash runs touch');
    for (const remote of [ansi, test_, arith]) {
      const d = denied(`ssh web-2 ${quoteWord(remote)}`);
      assert.equal(d.matched, true, `${remote}: ${d.why}`);
      assert.match(d.why, /does not parse.*a shell other than bash may run/, remote);
    }
  });

  test('bash -c keeps them: bash reads them as Warden does', () => {
    for (const script of ["echo $'it\\'s' ; echo b", `true; [[ a || tou""ch ${M} ]]`, '[[ -f /etc/hostname ]] && echo y', "echo $'\\t'"]) {
      assert.equal(denied(`bash -c ${quoteWord(script)}`).matched, false, script);
    }
  });

  test("kubectl_exec's sh -c script that runs as written (more than pipes): refused; bash -c and a rebuilt one keep $'..'", () => {
    const script = `echo $'a\\' ; to\\uch ${M} #'\ntrue`;
    touches('dash', script);
    assert.throws(() => unwrapShellC(['sh', '-c', script]), (e: Error & { code?: string }) => e.code === 'WARDEN_PARSE' && /\$'\.\.' quoting/.test(e.message));
    assert.throws(() => unwrapShellC(['sh', '-c', 'true; [[ a || b ]]']), /\[\[ \.\. \]\]/);
    assert.deepEqual(unwrapShellC(['bash', '-c', script])?.constructs, ['list']);
    assert.deepEqual(unwrapShellC(['sh', '-c', "grep $'\\t' /app/x | wc -l"])?.commands.map((c) => c.args), [['\t', '/app/x'], ['-l']]);
  });

  test("an allow of ssh and echo: the remote dash would run an unlisted program behind $'..'", () => {
    const { refuse, allow } = shellVerdicts({ programs: { ssh: {}, echo: {} } });
    const remote = `echo $'a\\' ; to\\uch ${M} #'`;
    touches('dash', remote);
    refuse([`ssh web-2 ${quoteWord(remote)}`], /remote command of ssh is not a command line Warden can parse \(unsupported \$'\.\.' quoting/);
    allow(['ssh web-2 echo hello', `ssh web-2 ${quoteWord("echo 'a b' \"c\"")}`]);
  });
});

describe("a value bash reads as code is judged with quotes bash removes", () => {
  test("x='a[$(tou\"\"ch M)]'; echo $((x)), ${!x}, let x: refused to a deny", () => {
    for (const use of ['echo $((x))', 'echo ${!x}', 'let x', 'echo ${x@P}']) {
      const value = use === 'echo ${x@P}' ? `$(tou""ch ${M})` : `a[$(tou""ch ${M})]`;
      const value2 = use === 'echo ${x@P}' ? `$(tou\\ch ${M})` : `a[$(tou\\ch ${M})]`;
      for (const v of [value, value2]) {
        const script = `x=${quoteWord(v)}; ${use}`;
        touches('bash', script);
        refusedBehind('bash', script, /Program touch .*is denied.*in the value of x/);
      }
    }
  });

  test('neighbours: a value with a plain variable or none', () => {
    for (const script of ["x='a[1]'; echo $((x))", "x='$HOME'; echo \"$x\"", 'x="it is"; echo "$x"']) {
      assert.equal(denied(`bash -c ${quoteWord(script)}`).matched, false, script);
    }
  });
});

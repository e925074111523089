/**
 * Bash evaluates an array subscript as arithmetic and expands `$(..)`, backticks and `${..}` in
 * it, even when the text came from a quoted literal or a variable's value: `test -v 'a[$(rm /x)]'`
 * runs rm. Also indirection (`${!x}`), prompt expansion (`${x@P}`) and arithmetic read a value as
 * code. Each form below was checked in bash 5.2 (a `touch` in place of rm).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const RM = { programs: { rm: {} } };
const GRANT = {
  programs: {
    test: {}, printf: {}, getopts: {}, echo: {}, ls: {}, let: {}, unset: {}, wait: {}, read: {}, mapfile: {}, readarray: {}, declare: {},
  },
};
/** Fail closed counts twice: the line does not parse (the call is refused), or the deny rule matches. */
const refusedOrDenied = (cmd: string): boolean => {
  let facts;
  try {
    facts = parseShell(cmd);
  } catch {
    return true;
  }
  return shellCondition.compile(RM, { id: 'd', effect: 'deny' })(facts, CALL).matched;
};
const allowed = (cmd: string): boolean => {
  let facts;
  try {
    facts = parseShell(cmd);
  } catch {
    return false;
  }
  return shellCondition.compile(GRANT, { id: 'a', effect: 'allow' })(facts, CALL).matched;
};
const denies = (cmd: string): boolean => shellCondition.compile(RM, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;

before(async () => {
  await initShellParser();
});

/** Lines that run rm in bash through a subscript, an indirection, a prompt expansion or arithmetic. */
const RUNS_RM = [
  // builtins that read a word as a variable name (a subscript is evaluated)
  "test -v 'a[$(rm /x)]'", "test -v 'a[`rm /x`]'", "test -v 'a[${x:-$(rm /x)}]'", "test -v \"a['\\$(rm /x)']\"", "test ! -v 'a[$(rm /x)]'",
  "[ -v 'a[$(rm /x)]' ] && ls", "[ -v 'a[$(rm /x)]' ]", "[[ -v 'a[$(rm /x)]' ]] && ls", "let 'a[$(rm /x)]=1'", "let 'x=a[$(rm /x)]'",
  "declare 'a[$(rm /x)]=1'", "declare -i i='a[$(rm /x)]'", "f() { local 'a[$(rm /x)]=1'; }; f", "typeset 'a[$(rm /x)]=1'",
  "printf -v 'a[$(rm /x)]' x", "printf -v'a[$(rm /x)]' x", "read 'a[$(rm /x)]' <<< x", "a=(1); unset 'a[$(rm /x)]'; ls", "a=(1); unset -v 'a[$(rm /x)]'",
  "sleep 1 & wait -n -p 'a[$(rm /x)]'",
  // a variable's value read as code
  "x='a[$(rm /x)]'; echo ${!x}", "x='a[$(rm /x)]'; echo $(( x ))", "x='a[$(rm /x)]'; echo $[x]", "x='a[$(rm /x)]'; [[ $x -eq 1 ]] && ls",
  "x='a[$(rm /x)]'; [[ x -eq 1 ]]", "x='a[$(rm /x)]'; (( x )); ls", "x='$(rm /x)'; echo ${x@P}", "x='a[$(rm /x)]'; [[ -v $x ]] && ls",
  "x='a[$(rm /x)]'; test -v \"$x\"", "x='a[$(rm /x)]'; echo ${a[$x]}", "x='a[$(rm /x)]'; echo ${@:x}",
  "declare -i i; i='a[$(rm /x)]'", "declare -n r='a[$(rm /x)]'; echo $r", "export x='a[$(rm /x)]'; bash -c 'echo $((x))'",
  "x=`echo`'$(rm /x)'; echo ${x@P}", "for x in 'a[$(rm /x)]'; do echo $((x)); done", "x=(\"a[\\$(rm /x)]\"); echo $((x))",
  "x=\"a[\\$(rm /x)]\"; echo $((x))", "x=$'a[$(rm /x)]'; echo $((x))", "env x='a[$(rm /x)]' bash -c 'echo $((x))'",
  // literal text arithmetic reads
  "echo $(( 'a[$(rm /x)]' ))", "[[ 'a[$(rm /x)]' -eq 1 ]] && ls", "(( 'a[$(rm /x)]' )); ls", "a=(); a['$(rm /x)']=1; ls",
  "for ((i='a[$(rm /x)]';0;)); do :; done", "echo ${a['$(rm /x)']}",
  // a value set by ${X:=...}
  ": ${X:='a[$(rm /x)]'}; echo $((X))", "y=${X:=\"a[\\$(rm /x)]\"}; echo $((X))",
];
/** Refused all the same (fail closed), though bash 5.2 does not run them (a name it rejects, word splitting, an escape). */
const MAY_RUN_RM = [
  "unset 'a[$(rm /x)]'; ls", "mapfile 'a[$(rm /x)]'", "readarray 'a[$(rm /x)]'", "getopts ab 'a[$(rm /x)]' -a",
  "x='a[$(rm /x)]'; [ -v $x ] && ls", "echo $(( a[\\$(rm /x)] ))", "test -v 'a[\\$(rm /x)]'",
];

describe('subscripts, indirection and prompt expansion', () => {
  it('a deny rule on rm matches every line that runs rm, or the line is refused', () => {
    for (const cmd of [...RUNS_RM, ...MAY_RUN_RM]) assert.equal(refusedOrDenied(cmd), true, cmd);
  });
  it('an allow rule never grants them', () => {
    for (const cmd of [...RUNS_RM, ...MAY_RUN_RM]) assert.equal(allowed(cmd), false, cmd);
  });
  it('an allow rule refuses evaluated names with expansions or subscripts', () => {
    for (const cmd of [
      "test -v 'a[$(ls)]'", "test -R 'a[$(ls)]'", "test -v 'a[`ls`]'", "test -v 'a[${x}]'", "test -v 'a[x]'", "test x = y -o -v 'a[$(ls)]'",
      "printf -v 'a[$(ls)]' x", "printf -va[\\$\\(ls\\)] x", "printf -v 'a[x]' y", "getopts ab 'a[$(ls)]'", "getopts ab 'a[x]'",
      'echo ${!x}', 'echo ${x@P}', 'echo $(( x ))', 'echo $[x]',
    ]) {
      assert.equal(allowed(cmd), false, cmd);
    }
  });
  it('keeps ordinary commands working', () => {
    for (const cmd of ['test -f /var/log/x', 'test -v HOME', "test -n '$HOME'", "printf '%s\\n' x", 'printf -v x %s y', 'getopts ab opt', 'ls /tmp']) {
      assert.equal(allowed(cmd), true, cmd);
    }
    for (const cmd of [
      '[ -d /tmp ] && ls', '[[ -d /tmp ]] && ls', 'test -f /var/log/x', "x='hello'; echo $((1+2)) ${!x} ${x@P}", 'echo $HOME',
      "printf '%s\\n' x", 'for ((i=0;i<3;i++)); do echo $i; done', '[[ $x -eq 1 ]] && ls', "echo '$(rm /x)'", "echo \"\\$(rm /x)\"",
      "[ \"$x\" = y ] && ls", 'a=(1 2); echo ${a[1]} ${a[$i]}', 'unset x y; ls', ': ${X:=1}; ls', 'x=${y:=z}; ls', 'x=${y:=$z}; echo $((x))',
      "x='$HOME/a'; echo ${x@P}", 'export PATH=$PATH:/opt/bin; ls',
    ]) {
      assert.equal(denies(cmd), false, cmd);
    }
  });
});

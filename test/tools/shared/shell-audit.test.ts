/**
 * Holes an attacker-minded audit found: backticks tree-sitter-bash leaves as text (heredoc
 * bodies, words inside `${...}`, escapes inside backticks), coproc and other wrappers, program-
 * running flags and aliases on the deny side.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const RM = { programs: { rm: {} } };
/** Fail closed counts twice: the line does not parse (the call is refused), or the deny rule matches. */
const refusedOrDenied = (block: unknown, cmd: string): boolean => {
  let facts;
  try {
    facts = parseShell(cmd);
  } catch {
    return true;
  }
  return shellCondition.compile(block, { id: 'd', effect: 'deny' })(facts, CALL).matched;
};
const denies = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;

before(async () => {
  await initShellParser();
});

describe('backticks tree-sitter-bash reads as text', () => {
  it('are refused or seen where bash runs them', () => {
    for (const cmd of [
      'cat <<EOF\na `rm /x` b\nEOF', 'cat <<EOF\n$x `rm /x`\nEOF', 'cat <<EOF\n${x:-`rm /x`}\nEOF', 'cat <<-EOF\n\t`rm /x`\n\tEOF',
      'echo ${x:-`rm /x`}', 'echo "${x:-`rm /x`}"', 'x=${y:-`rm /x`} ls', 'echo ${x:+a`rm /x`}',
      // inside backticks, \` and \$ are read again by bash: `echo \`rm /x\`` runs rm
      'echo `echo \\`rm /x\\``', 'echo `echo \\$(rm /x)`',
    ]) {
      assert.equal(refusedOrDenied(RM, cmd), true, cmd);
    }
  });
  it('leave literal text alone', () => {
    for (const cmd of ["cat <<'EOF'\n`rm /x`\nEOF", 'cat <<"EOF"\na `b` c\nEOF', "echo '`rm /x`'", 'echo `date`', 'cat <<EOF\nplain $x\nEOF']) {
      assert.equal(denies(RM, cmd), false, cmd);
    }
  });
});

describe('programs run by coproc, more wrappers and aliases', () => {
  it('a deny rule sees them', () => {
    for (const cmd of [
      'coproc rm /x', 'setpriv --reuid=0 rm /x', 'gosu root rm /x', 'su-exec root rm /x', 'runcon -t x rm /x', 'fakeroot rm /x',
      'numactl -N 0 rm /x', 'dumb-init rm /x', 'tini -- rm /x', 'chpst -u x rm /x', 'cgexec -g cpu:x rm /x', 's6-setuidgid root rm /x',
      'start-stop-daemon --start --exec /bin/rm -- /x', 'screen -dm rm /x', "tmux new-session -d 'rm /x'", "capsh -- -c 'rm /x'",
      "echo 'rm /x' | at now", "echo 'rm /x' | batch",
      // dash (and bash with expand_aliases) expands an alias on the lines after it
      'alias ls=rm\nls /x', "alias ls='rm -rf'\nls /x", 'alias -- ls=rm\nls /x', 'alias ls="$x"\nls /x', 'enable -f /tmp/x.so rm',
      // editors run `!cmd` from their arguments or, for ed and ex, from a fed standard input
      "vim -es -c '!rm /x' -c q", "echo '!rm /x' | ed", "printf '!rm /x' | ex",
    ]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of ['alias ll=ls\nll /x', 'alias', 'tini -- ls /x', 'enable -n echo']) {
      assert.equal(denies(RM, cmd), false, cmd);
    }
  });
});

describe('flags that make a program run another', () => {
  it('a deny rule matches them, as the catalogue refuses them for an allow', () => {
    for (const cmd of [
      "tar -cf /tmp/a.tar /etc --to-command='rm /x'", "tar cf /tmp/a.tar --checkpoint=1 --checkpoint-action=exec='rm /x' /etc",
      "tar -I 'rm /x' -cf /tmp/a.tar /etc", 'tar cIf rm /tmp/a.tar /etc', 'sort --compress-program=rm /etc/passwd', "rsync -e 'rm /x' a b:c",
      "zip -TT 'rm /x' a.zip b", "dpkg --pre-invoke='rm /x' -i a.deb", 'apt-get -o APT::Update::Pre-Invoke::=rm update',
      "git log --ext-diff", "man -P 'rm /x' ls", "nice tar --to-command='rm /x' -xf a.tar",
    ]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of ['tar -cf /tmp/a.tar /etc', 'sort /etc/passwd', 'rsync -a a b:c', 'git log -p', 'man ls']) {
      assert.equal(denies(RM, cmd), false, cmd);
    }
  });
});

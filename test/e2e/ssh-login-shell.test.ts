/**
 * End to end (warden serve, the real MCP client, a real OpenSSH sshd): the host's login shell
 * reads the line Warden rebuilt, as `SHELL -c LINE`. Warden judges it as bash/POSIX shell; zsh
 * reads the same quoting (so it passed the quoting probe) but its builtins do more: zsh 5.9's
 * printf evaluates a `%d` argument as an arithmetic expression, and the subscript of a set
 * parameter in it (`PATH[...]`) is expanded, so `printf %d 'PATH[$(touch M)]'` under an allow of
 * printf ran touch (checked against zsh 5.9 itself). Now the probe names the shell and Warden refuses a connection whose
 * login shell is zsh, a ksh, yash, or one it cannot name, before any command of the agent; the
 * suite's usual login shell (/bin/sh, dash) keeps working.
 * The login user's shell here is a stand-in for zsh (a real zsh too when the machine has one, or
 * WARDEN_TEST_ZSH names it): dash with ZSH_VERSION set, as zsh sets it, and a printf that
 * evaluates `%d` arguments as zsh's does.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, findExecutable } from '../support/system-deps.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

/** zsh as sshd runs it, for what this test needs: dash reads the line (zsh reads its quoting alike). */
const ZSH_LIKE = `#!/bin/sh
[ "$1" = -c ] || exit 2
export ZSH_VERSION=5.9
exec /bin/sh -c '
printf() {
  case $1 in *%d*) for a in "$@"; do case $a in *\\[*\\]) eval ": \\"\${a#*\\[}\\"" ;; esac; done ;; esac
  command printf "$@"
}
'"$2"
`;

const realZsh = process.env.WARDEN_TEST_ZSH ?? findExecutable('zsh');
const shells: [string, string][] = [['a zsh stand-in', ZSH_LIKE], ...(realZsh !== null ? [['zsh itself', realZsh] as [string, string]] : [])];
const root = isRoot() ? false : 'another login user needs root';

for (const [name, shell] of shells) {
  describe(`ssh_run on a host whose login shell is ${name}`, { skip: root }, () => {
    let sshd: Sshd;
    let warden: SshWarden;
    let dir = '';
    before(async () => {
      sshd = await startSshd({ loginShell: shell });
      dir = loginFolder(sshd, 'wrzsh-');
      warden = await startSshWarden(sshd, sshAllowPolicy('echo-printf', '{ echo: {}, printf: {} }'));
    });
    after(async () => {
      await warden?.close();
      await sshd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('printf %d with a subscript that holds $(touch ...) is refused before it runs: the connection is refused, naming the shell', async () => {
      const marker = join(dir, 'M');
      const r = await warden.run(`printf %d 'PATH[$(touch ${marker})]'`);
      assert.equal(existsSync(marker), false, `the marker was touched: zsh ran a command the policy never saw (${r.text})`);
      assert.equal(r.isError, true, r.text);
      assert.match(r.text, /WARDEN_BACKEND_ERROR/);
      assert.match(r.text, /login shell .*zsh.*Give the account .*login shell/s);
    });

    test('even an echo the policy allows does not run there', async () => {
      const before = sshd.sessionsStarted();
      const r = await warden.run('echo hello');
      assert.equal(r.isError, true, r.text);
      assert.match(r.text, /WARDEN_BACKEND_ERROR.*zsh/s);
      assert.equal(sshd.sessionsStarted(), before + 1, 'the probe of a new connection ran, nothing else');
    });
  });
}

describe('ssh_run on a host whose login shell is /bin/sh (the suite\'s usual user)', () => {
  let sshd: Sshd;
  let warden: SshWarden;
  before(async () => {
    sshd = await startSshd();
    warden = await startSshWarden(sshd, sshAllowPolicy('echo-printf', '{ echo: {}, printf: {} }'));
  });
  after(async () => {
    await warden?.close();
    await sshd?.stop();
  });

  test('echo and printf run; the probe runs once for the connection', async () => {
    assert.equal(await warden.ran('echo hello'), 'hello\n');
    assert.equal(await warden.ran("printf '%s-%d\\n' a 7"), 'a-7\n');
    assert.equal(sshd.sessionsStarted(), 3, 'one probe, then the two commands');
  });
});

/**
 * The login-shell probe names the shell as well as checking its quoting: bash and dash get
 * commands; zsh, a ksh and yash (which read the quoting alike but run more in a line than Warden
 * judged) are refused with a coded error naming the shell and what to change, and so is a shell
 * the probe cannot name unless the connection says `unknown_login_shell: allow`. The answer is
 * kept for the connection and asked again after a reconnect. Real shells where the machine has
 * them (zsh, ksh93: or WARDEN_TEST_ZSH / WARDEN_TEST_KSH), scripted hosts (hostile-sshd.ts) for
 * the rest.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { ServerChannel } from 'ssh2';
import { PROBE_LINE, probeOutput, readProbe } from '../../../tools/ssh/shell-probe.js';
import { sshConnectionSchema } from '../../../tools/ssh/config.js';
import { hostileFixture, type HostileFixture } from '../../support/hostile-sshd.js';
import { findExecutable } from '../../support/system-deps.js';

let fx: HostileFixture;
before(() => {
  fx = hostileFixture('warden-ssh-shellname-', 'SHELLNAME_TEST_PW', 'pw-shellname');
});
after(async () => {
  await fx.close();
});

/** Identity variables in the probe's order: BASH_VERSION, ZSH_VERSION, KSH_VERSION, YASH_VERSION, RANDOM. */
const AS = {
  dash: ['', '', '', '', ''],
  bash: ['5.2.15(1)-release', '', '', '', '1234'],
  zsh: ['', '5.9', '', '', '1234'],
  mksh: ['', '', '@(#)MIRBSD KSH R59 2020/10/31', '', '1234'],
  yash: ['', '', '', '2.54', '1234'],
  unknown: ['', '', '', '', '1234'],
  // A bash version in the environment does not hide zsh, which sets its own.
  zshUnderBashEnv: ['5.2', '5.9', '', '', '1234'],
};

/** A host whose login shell answers the probe as `ids` say, and runs `'true'` as anyone would. */
async function shellHost(ids: () => readonly string[]) {
  return fx.host({
    answerProbe: false,
    onExec: (accept: () => ServerChannel, _reject: () => void, line: string) => {
      const ch = accept();
      if (line === PROBE_LINE) ch.write(probeOutput(ids()));
      ch.exit(0);
      ch.end();
    },
  });
}

const refusedAs = (shell: RegExp) => (e: Error & { code?: string }) => {
  assert.equal(e.code, 'WARDEN_BACKEND_ERROR', e.message);
  assert.match(e.message, /the login shell on deploy@127\.0\.0\.1:\d+ \(connection hostile\) is /);
  assert.match(e.message, shell);
  assert.match(e.message, /Warden runs no command there\. Give the account bash or dash .* as its login shell/);
  return true;
};

describe('the probe names the login shell', () => {
  test('real shells: sh, dash and bash pass and are named; zsh and ksh93 are named where the machine has them', () => {
    const shells: [string | null, string][] = [
      ['sh', 'dash'],
      ['dash', 'dash'],
      ['bash', 'bash'],
      [process.env.WARDEN_TEST_ZSH ?? findExecutable('zsh'), 'zsh'],
      [process.env.WARDEN_TEST_KSH ?? findExecutable('ksh93'), 'ksh'],
    ];
    for (const [sh, name] of shells) {
      if (sh === null) continue;
      const r = spawnSync(sh, ['-c', PROBE_LINE], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${sh}: ${r.stderr}`);
      const v = readProbe({ stdout: r.stdout, exitCode: r.status, truncated: false });
      assert.equal(v.v === 'ok' ? v.shell : v.v, name, sh);
    }
  });

  test('what the identity lines say', () => {
    const named = (ids: readonly string[]) => {
      const v = readProbe({ stdout: probeOutput(ids), exitCode: 0, truncated: false });
      return v.v === 'ok' ? v.shell : v.v;
    };
    assert.equal(named(AS.dash), 'dash');
    assert.equal(named(AS.bash), 'bash');
    assert.equal(named(AS.zsh), 'zsh');
    assert.equal(named(AS.mksh), 'ksh');
    assert.equal(named(AS.yash), 'yash');
    assert.equal(named(AS.unknown), 'unknown');
    assert.equal(named(AS.zshUnderBashEnv), 'zsh');
    // A value with a line break of its own does not shift another into place: misread.
    assert.equal(named(['', '5.9\nx', '', '', '']), 'misread');
  });

  test('zsh, a ksh and yash are refused before any command, with a coded error naming the shell', async () => {
    for (const [ids, shell] of [
      [AS.zsh, /is zsh, whose builtins/],
      [AS.zshUnderBashEnv, /is zsh, whose builtins/],
      [AS.mksh, /is a ksh/],
      [AS.yash, /is yash/],
    ] as const) {
      const h = await shellHost(() => ids);
      // unknown_login_shell: allow changes nothing for a shell the probe names.
      const c = fx.connector(h, { unknown_login_shell: 'allow' });
      await assert.rejects(c.run("'true'", { timeoutMs: 5000, maxBytes: 4096 }), refusedAs(shell));
      assert.deepEqual(h.execs, [PROBE_LINE], 'only the probe ran');
      assert.equal(c.connected, false);
    }
  });

  test('a shell the probe cannot name is refused, saying how to allow it; unknown_login_shell: allow runs it', async () => {
    const h = await shellHost(() => AS.unknown);
    const refused = fx.connector(h);
    await assert.rejects(refused.run("'true'", { timeoutMs: 5000, maxBytes: 4096 }), (e: Error & { code?: string }) => {
      assert.ok(refusedAs(/is a shell Warden cannot name/)(e));
      assert.match(e.message, /set unknown_login_shell: allow on the connection/);
      return true;
    });
    const allowed = fx.connector(h, { unknown_login_shell: 'allow' });
    const r = await allowed.run("'true'", { timeoutMs: 5000, maxBytes: 4096 });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(h.execs, [PROBE_LINE, PROBE_LINE, "'true'"]);
  });

  test('bash and dash run; the answer is kept for the connection and asked again after a reconnect', async () => {
    let ids: readonly string[] = AS.bash;
    const h = await shellHost(() => ids);
    const c = fx.connector(h);
    await c.run("'true'", { timeoutMs: 5000, maxBytes: 4096 });
    ids = AS.dash;
    await c.run("'true'", { timeoutMs: 5000, maxBytes: 4096 });
    assert.deepEqual(h.execs, [PROBE_LINE, "'true'", "'true'"], 'one probe for the connection');
    // The host's account gets zsh, and the connection drops: the next call's connection is probed anew.
    ids = AS.zsh;
    h.dropClients();
    for (let i = 0; i < 100 && c.connected; i++) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(c.run("'true'", { timeoutMs: 5000, maxBytes: 4096 }), refusedAs(/is zsh/));
    assert.deepEqual(h.execs, [PROBE_LINE, "'true'", "'true'", PROBE_LINE]);
  });

  test('unknown_login_shell is refuse by default and takes only refuse or allow', () => {
    const base = { host: 'h', user: 'u', password: 'env:P', host_key: 'SHA256:' + 'A'.repeat(43) };
    assert.equal(sshConnectionSchema.parse(base).unknown_login_shell, 'refuse');
    assert.equal(sshConnectionSchema.parse({ ...base, unknown_login_shell: 'allow' }).unknown_login_shell, 'allow');
    assert.equal(sshConnectionSchema.safeParse({ ...base, unknown_login_shell: 'zsh' }).success, false);
  });
});

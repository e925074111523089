/**
 * End to end (through `warden serve`, the real MCP client and a real OpenSSH sshd): a read-only
 * service grant, `systemctl: { subcommands: [status, show, cat, list-units] }` and `docker`.
 * `systemctl show -p Environment app`, `show app`, `cat app` and `docker inspect app` print a
 * service's environment (Environment=DATABASE_PASSWORD=...); they are refused before any session
 * starts. This machine's systemctl and docker are real binaries, but systemd is not PID 1 and no
 * docker daemon runs here, so the allowed forms are shown to reach the host (a session runs the
 * real program, which answers that it cannot reach its manager), not to print a unit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let plain: SshWarden;

before(async () => {
  sshd = await startSshd();
  plain = await startSshWarden(sshd, sshAllowPolicy('services', '{ systemctl: { subcommands: [status, show, cat, list-units] }, docker: {} }'));
});

after(async () => {
  await plain?.close();
  await sshd?.stop();
});

/** Runs `command` on the host (a session starts) and returns what the real program said. */
async function reached(command: string): Promise<string> {
  const sessions = sshd.sessionsStarted();
  const r = await plain.run(command);
  assert.equal(r.isError, false, `${command} must run: ${r.text}`);
  assert.ok(sshd.sessionsStarted() > sessions, `${command}: a session reached the host`);
  const s = r.structured as { exit_code: number | null; stdout: string; stderr: string };
  return s.stdout + s.stderr;
}

describe('ssh_run: service readers that print a service\'s environment need environment: true', () => {
  test('systemctl show -p Environment (every spelling), show without -p, cat and docker inspect are refused before any session', async () => {
    for (const line of ['systemctl show -p Environment app', 'systemctl show --property=Environment app', 'systemctl show -pEnvironment app',
      'systemctl show --property Environment,ExecStart app']) {
      await plain.refused(line, /systemctl show property 'Environment' prints the unit's environment, which may hold secrets; this grant does not say environment: true/);
    }
    await plain.refused('systemctl show app', /systemctl show without -p\/--property prints every property, Environment= among them/);
    await plain.refused('systemctl cat app', /systemctl cat prints the unit's file/);
    await plain.refused('docker inspect app', /docker inspect prints the object's configuration, its environment \(Config\.Env\)/);
  });

  test('systemctl status, show -p ActiveState and docker ps still run the real programs on the host', async () => {
    for (const line of ['systemctl status app', 'systemctl show -p ActiveState app']) {
      assert.match(await reached(line), /systemd|bus|ActiveState/i, line);
    }
    assert.match(await reached('docker ps'), /docker|CONTAINER/i);
  });
});

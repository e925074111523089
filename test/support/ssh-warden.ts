/**
 * The setup the ssh_run end-to-end tests share: a warden.yaml with one SSH connection to the
 * test sshd (the client key an env reference, the host key pinned), a stdio principal sam in
 * group sre, structured results; a `warden serve` on it with the given policy; and the check that
 * a command was refused before any session reached the host.
 */
import assert from 'node:assert/strict';
import type { Sshd } from './sshd.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from './warden-process.js';

/** warden.yaml for the connection `name` to `sshd` (20 s command timeout). */
export function sshWardenConfig(sshd: Sshd, name = 'web-1'): string {
  return [
    'transcripts: { store: sqlite:warden.db }',
    'responses: { structured_content: true }',
    'identity: { stdio: { subject: sam, groups: [sre] } }',
    'connections:',
    `  ${name}:\n    type: ssh\n    host: ${sshd.host}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    private_key: env:WARDEN_TEST_SSH_KEY\n    host_key: "${sshd.hostKeyLine}"\n    command_timeout: 20s\n`,
    'policies: [policies/*.yaml]',
    '',
  ].join('\n');
}

/** A running Warden over `sshd`, and what stops it (the session, then its folder). */
export interface SshWarden {
  w: WardenSession;
  dir: WardenDir;
  /** ssh_run on the connection. */
  run(command: string): ReturnType<WardenSession['call']>;
  /** Asserts `command` was refused (WARDEN_DENIED, mentioning `mentions`) before any session reached the host. */
  refused(command: string, mentions: RegExp): Promise<void>;
  /** Asserts `command` ran and exited 0; returns its stdout. */
  ran(command: string): Promise<string>;
  close(): Promise<void>;
}

/** Start `warden serve` with the policy text (one file) on the connection `name` to `sshd`. */
export async function startSshWarden(sshd: Sshd, policy: string, name = 'web-1'): Promise<SshWarden> {
  const dir = writeWardenDir(sshWardenConfig(sshd, name), { 'p.yaml': policy });
  let w: WardenSession;
  try {
    w = await connectWarden(dir.configPath, { WARDEN_TEST_SSH_KEY: sshd.clientKey });
  } catch (e) {
    dir.cleanup();
    throw e;
  }
  const run = (command: string) => w.call('ssh_run', { connection: name, command });
  return {
    w,
    dir,
    run,
    async refused(command, mentions) {
      const sessions = sshd.sessionsStarted();
      const r = await run(command);
      assert.equal(r.isError, true, `${command} must be refused: ${r.text}`);
      assert.match(r.text, /WARDEN_DENIED/, command);
      assert.match(r.text, mentions, r.text);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(sshd.sessionsStarted(), sessions, `${command}: no session was started on the host`);
    },
    async ran(command) {
      const r = await run(command);
      assert.equal(r.isError, false, `${command} must run: ${r.text}`);
      const s = r.structured as { exit_code: number | null; stdout: string; stderr: string };
      assert.equal(s.exit_code, 0, `${command}: ${s.stderr}`);
      return s.stdout;
    },
    async close() {
      await w.close();
      dir.cleanup();
    },
  };
}

/**
 * The setup the ssh_run end-to-end tests share: a warden.yaml with one SSH connection to the
 * test sshd (the client key an env reference, the host key pinned), a stdio principal sam in
 * group sre, structured results; a `warden serve` on it with the given policy; and the check that
 * a command was refused before any session reached the host.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chownToLogin, startSshd, type Sshd } from './sshd.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from './warden-process.js';

/** warden.yaml for the connection `name` (or each of several) to `sshd` (20 s command timeout). */
export function sshWardenConfig(sshd: Sshd, name: string | readonly string[] = 'web-1'): string {
  const conn = (n: string) =>
    `  ${n}:\n    type: ssh\n    host: ${sshd.host}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    private_key: env:WARDEN_TEST_SSH_KEY\n    host_key: "${sshd.hostKeyLine}"\n    command_timeout: 20s\n`;
  return [
    'transcripts: { store: sqlite:warden.db }',
    'responses: { structured_content: true }',
    'identity: { stdio: { subject: sam, groups: [sre] } }',
    'connections:',
    ...(typeof name === 'string' ? [name] : name).map(conn),
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

/** Start `warden serve` with the policy text (one file) on the connection `name` to `sshd` (`also`: more connections to it). */
export async function startSshWarden(sshd: Sshd, policy: string, name = 'web-1', also: readonly string[] = []): Promise<SshWarden> {
  const dir = writeWardenDir(sshWardenConfig(sshd, [name, ...also]), { 'p.yaml': policy });
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

/**
 * A fresh folder for a test's data on the host, owned (with everything in it) by the login user:
 * `files` maps a relative name (`data/seed`) to its text; folders on the way are made. Mode 0777
 * by default, so the login user also writes there whoever runs the tests.
 */
export function loginFolder(sshd: Sshd, prefix: string, files: Record<string, string> = {}, mode = 0o777): string {
  const base = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(base, mode);
  const owned = [base];
  for (const [name, text] of Object.entries(files)) {
    const path = join(base, name);
    for (let d = dirname(path); d !== base && !owned.includes(d); d = dirname(d)) {
      mkdirSync(d, { recursive: true });
      owned.push(d);
    }
    writeFileSync(path, text);
    owned.push(path);
  }
  for (const p of owned) chownToLogin(p, sshd);
  return base;
}

/** A policy of one allow rule `id`: group sre runs `programs` (a YAML flow map) with ssh_run on web-1, pipelines allowed. */
export function sshAllowPolicy(id: string, programs: string): string {
  return `
rules:
  - id: ${id}
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      pipelines: true
      programs: ${programs}
`;
}

/** A test sshd, a login folder holding files under `app/`, and a Warden granting programs on that folder. */
export interface AppFixture {
  /** The folder the files are in. */
  app: string;
  /** ssh_run on web-1: whether it was refused, and its text with the structured result. */
  call(command: string): Promise<{ isError: boolean; text: string }>;
  close(): Promise<void>;
}

/**
 * Start an sshd, write `files` (relative names) under `app/` of a fresh login folder (`prefix`),
 * and a Warden whose rule sre-read grants each of `programs` on that folder only (sshAllowPolicy).
 */
export async function startAppFixture(prefix: string, files: Record<string, string>, programs: readonly string[]): Promise<AppFixture> {
  const sshd = await startSshd();
  const base = loginFolder(sshd, prefix, Object.fromEntries(Object.entries(files).map(([f, text]) => [`app/${f}`, text])), 0o755);
  const app = join(base, 'app');
  const paths = JSON.stringify([app]);
  const stop = async () => {
    await sshd.stop();
    rmSync(base, { recursive: true, force: true });
  };
  let warden: SshWarden;
  try {
    warden = await startSshWarden(sshd, sshAllowPolicy('sre-read', `{ ${programs.map((p) => `${p}: { paths: ${paths} }`).join(', ')} }`));
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    app,
    async call(command) {
      const r = await warden.run(command);
      return { isError: r.isError, text: r.text + JSON.stringify(r.structured ?? null) };
    },
    async close() {
      await warden.close();
      await stop();
    },
  };
}

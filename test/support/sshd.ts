// A throwaway OpenSSH server for integration tests (DESIGN.md: the real peer, not a fake).
//
// startSshd() generates an ed25519 host key and an ed25519 client key with ssh-keygen, writes a
// private sshd_config (no PAM, StrictModes no, AuthorizedKeysFile in the temp dir, loopback
// only, one random port) and runs `sshd -D -e -f config` as a child.
// The login user: when the tests run as root (the usual CI container), a dedicated system user
// `warden-ssh-test` (home '/', password field '*', so no password login) is created once with
// useradd and left in place (test files run in parallel and share it). It is not root on
// purpose: OpenSSH disables post-auth privilege separation for root logins and then refuses
// `signal` requests, so a root login could not show that a timed-out command is killed. When the
// tests do not run as root, the login user is the current user. `loginShell` (root only) logs
// in another dedicated user, `warden-ssh-shell`, whose login shell is set to the one given.
// Fixtures that the remote commands must read or could damage are handed to that user with
// `chownToLogin`.
// As root, the harness also creates /run/sshd (the privilege separation dir sshd requires).
// sshd logs at VERBOSE to a file, so tests can count "Starting session" lines: proof that a
// denied call never opened a session on the host.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, isRoot, requireExecutable } from './system-deps.js';
import { createSecretResolver } from '../../src/config/secrets.js';
import { sshConnectionSchema, type SshConnection } from '../../tools/ssh/config.js';
import { SshConnector } from '../../tools/ssh/connector.js';

/** A running sshd; stop() kills it (and its session children) and deletes its files. */
export interface Sshd {
  host: string;
  port: number;
  user: string;
  /** Temp dir holding keys, config and log (tests may put fixtures beside it in their own dirs). */
  dir: string;
  /** Client private key file (OpenSSH format) and its text. */
  clientKeyPath: string;
  clientKey: string;
  /** Host public key line as in known_hosts ("ssh-ed25519 AAAA... comment"). */
  hostKeyLine: string;
  /** SHA256:... fingerprint of the host key (as `ssh-keygen -l` prints it). */
  hostFingerprint: string;
  /** uid/gid of the login user (to hand fixtures to it). */
  uid: number;
  gid: number;
  /** PID of the listening sshd. */
  pid: number;
  /** sshd's log so far. */
  log(): string;
  /** Number of sessions (exec/shell requests) the server has started so far. */
  sessionsStarted(): number;
  /** PIDs of per-connection sshd children (to simulate a host that drops a connection). */
  connectionPids(): number[];
  stop(): Promise<void>;
}


function keygen(file: string, comment: string): void {
  const r = spawnSync(requireExecutable('ssh-keygen', 'openssh-client'), ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** Resolves when the port answers with an SSH banner. */
function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('SSH-2.0-')) done(true);
    });
    s.on('error', () => done(false));
  });
}

/**
 * Name of the user the test sshd logs in; creates the dedicated test user when root. `shell`:
 * log in `warden-ssh-shell` instead, whose login shell is set to that path now (root only; one
 * test file uses it, so setting it per sshd races with nobody).
 */
export function loginUser(shell?: string): { name: string; uid: number; gid: number } {
  if (!isRoot()) {
    if (shell !== undefined) throw new Error('another login shell needs root (a user of its own)');
    const u = userInfo();
    return { name: u.username, uid: u.uid, gid: u.gid };
  }
  const name = shell === undefined ? 'warden-ssh-test' : 'warden-ssh-shell';
  const ids = () => {
    const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    return u.status === 0 && g.status === 0 ? { name, uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) } : null;
  };
  let made = ids();
  if (!made) {
    // Home '/': it exists (no "Could not chdir" on stderr) and the user cannot write to it.
    const r = spawnSync(requireExecutable('useradd', 'passwd'), ['--system', '--no-create-home', '--home-dir', '/', '--shell', '/bin/sh', '--password', '*', name], { encoding: 'utf8' });
    made = ids(); // another test file may have created it first
    if (!made) throw new Error(`cannot create the ssh test user ${name}: ${r.stderr}`);
  }
  const home = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.split(':')[5];
  if (home !== '/') spawnSync(requireExecutable('usermod', 'passwd'), ['--home', '/', name]);
  if (shell !== undefined) {
    const r = spawnSync(requireExecutable('usermod', 'passwd'), ['--shell', shell, name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cannot set the login shell of ${name}: ${r.stderr}`);
  }
  return made;
}

/** Hand a fixture path to the login user (no-op unless root). */
export function chownToLogin(path: string, sshd: Pick<Sshd, 'uid' | 'gid'>): void {
  if (isRoot()) chownSync(path, sshd.uid, sshd.gid);
}

/** Children of a pid, for the per-connection sshd processes. */
function childPids(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** Per-connection sshd processes: the monitor children and their unprivileged sshd children. */
function sessionSshdPids(pid: number): number[] {
  const out: number[] = [];
  const isSshd = (p: number) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sshd';
    } catch {
      return false;
    }
  };
  for (const monitor of childPids(pid)) {
    if (!isSshd(monitor)) continue;
    out.push(monitor, ...childPids(monitor).filter(isSshd));
  }
  return out;
}

/** Options of startSshd. */
export interface SshdOptions {
  /** Environment variables sshd sets in every session (sshd_config `SetEnv`), as `env` on a host shows them. */
  setEnv?: Record<string, string>;
  /** sshd_config `MaxSessions` (sessions one connection may hold at once; default 32). */
  maxSessions?: number;
  /** Lines appended to sshd_config (last, so a `Match` block may close it), e.g. `ForceCommand ...`. */
  extraConfig?: string[];
  /**
   * Log in a user whose login shell is this text, written as an executable `login-shell` in the
   * sshd's folder (sshd runs it as `login-shell -c LINE`), or this executable when it is an
   * absolute path; root only (loginUser).
   */
  loginShell?: string;
}

function config(dir: string, port: number, user: string, o: SshdOptions = {}): string {
  // One line: sshd keeps the first SetEnv it reads.
  const vars = Object.entries(o.setEnv ?? {}).map(([k, v]) => `${k}=${v}`);
  const setEnv = vars.length ? [`SetEnv ${vars.join(' ')}`] : [];
  return [
    '# written by test/support/sshd.ts',
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    `AllowUsers ${user}`,
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'PermitUserEnvironment no',
    `MaxSessions ${o.maxSessions ?? 32}`,
    'MaxStartups 100:30:200',
    'LogLevel VERBOSE',
    ...setEnv,
    ...(o.extraConfig ?? []),
    '',
  ].join('\n');
}

/** Start a private sshd on a random loopback port. */
export async function startSshd(o: SshdOptions = {}): Promise<Sshd> {
  const sshd = requireExecutable('sshd', 'openssh-server');
  if (isRoot() && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'warden-sshd-'));
  try {
    chmodSync(dir, 0o711); // sshd reads authorized_keys as the login user
    let shell: string | undefined;
    if (o.loginShell !== undefined && o.loginShell.startsWith('/')) shell = o.loginShell;
    else if (o.loginShell !== undefined) writeFileSync((shell = join(dir, 'login-shell')), o.loginShell, { mode: 0o755 });
    const login = loginUser(shell);
    const user = login.name;
    keygen(join(dir, 'host_ed25519'), 'warden-test-host');
    keygen(join(dir, 'client_ed25519'), 'warden-test-client');
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_ed25519.pub')), { mode: 0o644 });
    const hostKeyLine = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim();
    const fp = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' });
    const hostFingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(fp.stdout)?.[0] ?? '';
    const logFile = join(dir, 'sshd.log');
    let child: ChildProcess | null = null;
    let port = 0;
    let exited = false;
    for (let attempt = 0; attempt < 3 && child === null; attempt++) {
      port = await freePort();
      writeFileSync(join(dir, 'sshd_config'), config(dir, port, user, o));
      const fd = openSync(logFile, 'a');
      const c = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      exited = false;
      c.once('exit', () => (exited = true));
      const deadline = Date.now() + 10_000;
      let up = false;
      while (!up && !exited && Date.now() < deadline) {
        up = await banner(port);
        if (!up) await new Promise((r) => setTimeout(r, 50));
      }
      if (up) child = c;
      else c.kill('SIGKILL');
    }
    if (child === null || child.pid === undefined) throw new Error(`sshd did not start:\n${readFileSync(logFile, 'utf8')}`);
    const main = child;
    const pid = child.pid;
    const log = () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    let stopped = false;
    return {
      host: '127.0.0.1',
      port,
      user,
      uid: login.uid,
      gid: login.gid,
      dir,
      clientKeyPath: join(dir, 'client_ed25519'),
      clientKey: readFileSync(join(dir, 'client_ed25519'), 'utf8'),
      hostKeyLine,
      hostFingerprint,
      pid,
      log,
      sessionsStarted: () => (log().match(/Starting session: /g) ?? []).length,
      connectionPids: () => sessionSshdPids(pid),
      async stop() {
        if (stopped) return;
        stopped = true;
        // sshd -D leaves established connections running when the listener exits: end them first.
        for (const c of sessionSshdPids(pid)) {
          try {
            process.kill(c, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        if (!exited) {
          const gone = new Promise<void>((r) => main.once('exit', () => r()));
          main.kill('SIGTERM');
          await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
          if (!exited) main.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Whether a process whose command line matches `pattern` is running on this host (the sshd's host). */
export function processRunning(pattern: string): boolean {
  return spawnSync('pgrep', ['-f', pattern]).status === 0;
}

/** Poll a condition every 50 ms for up to `ms`; resolves to its last value. */
export async function pollUntil(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/**
 * A connector named `web-1` to this sshd with its client key (secrets resolved from `work`), the
 * schema's defaults and `over`, logging to `log`; pushed onto `into` so the test can close it.
 */
export function sshdConnector(
  sshd: Sshd,
  work: string,
  into: SshConnector[],
  over: Record<string, unknown> = {},
  log?: ConstructorParameters<typeof SshConnector>[2],
): SshConnector {
  const parsed = sshConnectionSchema.parse({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    private_key: `file:${sshd.clientKeyPath}`,
    host_key: sshd.hostKeyLine,
    ...over,
  });
  const c = new SshConnector({ ...(parsed as object), name: 'web-1', type: 'ssh' } as SshConnection, createSecretResolver(work), log);
  into.push(c);
  return c;
}

// Repositories the SSH git tests build on the host: git run locally (its exit checked) and a
// tree handed to the sshd login user, so that the remote git sees it as that user's.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chownToLogin, type Sshd } from './sshd.js';

/** Run the host's git; fails the test on a non-zero exit. Returns its stdout. */
export function gitSync(args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync('git', args, { encoding: 'utf8', ...opts });
  assert.equal(r.status, 0, String(r.stderr));
  return String(r.stdout);
}

/** Give `p` and everything under it to the sshd's login user. */
export function chownLoginTree(p: string, sshd: Sshd): void {
  chownToLogin(p, sshd);
  if (statSync(p).isDirectory()) for (const e of readdirSync(p)) chownLoginTree(join(p, e), sshd);
}

/** Spawn options that run a local program as the sshd's login user with `home` (as root; else as is). */
export function asLoginUser(sshd: Sshd, home: string, root: boolean): SpawnSyncOptions {
  return root ? { uid: sshd.uid, gid: sshd.gid, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } } : {};
}

/** The identity the test repositories commit as (no global git config on a fresh machine). */
export const TEST_AUTHOR: readonly string[] = ['-c', 'user.email=t@example.com', '-c', 'user.name=t'];

/** A new repository at `dir` with `file` committed holding `text`. */
export function commitRepo(dir: string, file: string, text: string): void {
  gitSync(['init', '-q', dir]);
  writeFileSync(join(dir, file), text);
  gitSync(['-C', dir, 'add', file]);
  gitSync(['-C', dir, ...TEST_AUTHOR, 'commit', '-qm', `add ${file}`]);
}

/** A new repository at `dir` (README committed) with two secret files committed over it: config/master.key holding `key`, .vault-token holding `token`. */
export function commitSecretRepo(dir: string, key: string, token: string): void {
  commitRepo(dir, 'README', 'hello\n');
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'master.key'), `${key}\n`);
  writeFileSync(join(dir, '.vault-token'), `${token}\n`);
  gitSync(['-C', dir, 'add', 'config/master.key', '.vault-token']);
  gitSync(['-C', dir, ...TEST_AUTHOR, 'commit', '-qm', 'add keys']);
}

/**
 * Files that decide who may do what (warden.yaml, policy files) and `file:` secrets must not be
 * writable by anyone but root and the user Warden runs as. Why: anyone else could add an allow
 * rule for themselves (the policy watcher loads it on its own) or swap a credential. The same
 * holds for where a file sits: a folder others may write (even with the sticky bit, as /tmp)
 * lets them add a file the `policies/*.yaml` glob picks up, or one under a name Warden reads; and
 * a folder above it that others may write without the sticky bit, or that another user owns,
 * lets them rename the whole folder away and put their own in its place. This is OpenSSH's
 * StrictModes walk to `/`: every one of them is owned by root or by the user Warden runs as, and
 * is not writable by every user, nor by its group unless that is gid 0 (root's group: only
 * administrators are in it, and containers run with an arbitrary uid in gid 0 share files
 * through it, as OpenShift does) or the owner's private group (private-group.ts: Debian's and
 * Ubuntu's umask 002 makes every file of a user writable to a group only that user is in). One check for all three (yaml-source.ts, secrets.ts,
 * secret-files.ts), so they cannot drift apart.
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isPrivateGroup, type AccountFiles } from './private-group.js';

const WORLD_WRITE = 0o002;
const GROUP_WRITE = 0o020;
const STICKY = 0o1000;

/** What is judged of a file or folder: fstat/stat fields. */
export interface Owned {
  mode: number;
  uid: number;
  gid: number;
}

/** The user Warden runs as (0 where there are no uids). */
const runAs = (): number => process.geteuid?.() ?? 0;

/**
 * Why a file is not to be trusted, or null. `st` is the opened file's (fstat, so the file
 * checked is the file read); its folders are checked by sharedFolderProblem.
 */
export function sharedWriteProblem(file: string, st: Owned, me = runAs()): string | null {
  if (st.mode & WORLD_WRITE) return 'writable by every user on this host: anyone could change what it grants (chmod o-w it)';
  return strictModesProblem(resolve(file), st, 'file', me) ?? sharedFolderProblem(file, me);
}

/**
 * Why another user than root or `me` may change `path` (a file, its folder, or a folder above
 * it), or null: another owner, or group write to a group other than gid 0. A folder above with
 * the sticky bit may be group-writable: members may add entries there but not rename ours.
 * Exported so the rule can be tested for owners a normal user cannot give files to (and with
 * `accounts` files of the test's own, for private groups).
 */
export function strictModesProblem(path: string, st: Owned, role: 'file' | 'folder' | 'above', me = runAs(), accounts?: AccountFiles): string | null {
  const what = role === 'file' ? '' : role === 'folder' ? `its folder ${path} is ` : `the folder ${path} above it is `;
  const could =
    role === 'file' ? 'could change what it grants' : role === 'folder' ? 'could add or replace a file there' : 'could rename the folder holding it and put their own in its place';
  if (st.uid !== 0 && st.uid !== me) {
    const chown = me === 0 ? `chown root ${path}` : `chown root ${path}, or chown ${me} ${path}`;
    return `${what}owned by uid ${st.uid}, neither root nor the user Warden runs as (uid ${me}) on this host: that user ${could} (${chown}${role === 'folder' ? ', or move the file' : ''})`;
  }
  if (st.mode & GROUP_WRITE && st.gid !== 0 && !(role === 'above' && st.mode & STICKY) && !isPrivateGroup(st.gid, st.uid, accounts)) {
    const fix = role === 'folder' ? `chmod g-w ${path}, or move the file` : role === 'above' ? `chmod g-w ${path}, or chmod +t ${path}` : `chmod g-w ${path}`;
    return `${what}writable by its group (gid ${st.gid}) on this host${role === 'above' ? ' without the sticky bit' : ''}: any member ${could} (${fix})`;
  }
  return null;
}

/**
 * Why the folders holding `file` let other users change what is read at its name, or null: its
 * folder (as written and, for a symlink, the target's) must not be writable by every user, and
 * no folder above either, up to `/`, may be writable by every user without the sticky bit (with
 * it, as /tmp, others may add entries but not rename ours); each of them is also held to
 * strictModesProblem. Stat only: nothing is read.
 */
export function sharedFolderProblem(file: string, me = runAs()): string | null {
  const written = resolve(file);
  const starts = new Set<string>();
  // Every link of a chain is looked up in its own folder: whoever may write one of them can
  // repoint the chain (name -> hop/mid.yaml -> real.yaml), so each is judged as the first is, and
  // so are the real folders above a link's folder reached through a symlinked folder.
  for (const link of linkChain(written)) {
    starts.add(dirname(link));
    const real = realOf(dirname(link));
    if (real) starts.add(real);
  }
  const target = realOf(written);
  if (target) starts.add(dirname(target)); // gone, or a broken link: the read itself reports what is wrong
  for (const dir of starts) {
    const st = statOf(dir);
    if (!st) continue;
    if (st.mode & WORLD_WRITE) return `its folder ${dir} is writable by every user on this host: anyone could add or replace a file there (chmod o-w the folder, or move the file)`;
    const problem = strictModesProblem(dir, st, 'folder', me);
    if (problem) return problem;
  }
  for (const start of starts) {
    for (let dir = start; dir !== dirname(dir); ) {
      dir = dirname(dir);
      const st = statOf(dir);
      if (!st) continue;
      if (st.mode & WORLD_WRITE && !(st.mode & STICKY)) {
        return `the folder ${dir} above it is writable by every user on this host without the sticky bit: anyone could rename the folder holding it and put their own in its place (chmod o-w ${dir}, or chmod +t ${dir})`;
      }
      const problem = strictModesProblem(dir, st, 'above', me);
      if (problem) return problem;
    }
  }
  return null;
}

/** Longest symlink chain followed (Linux's own limit is 40). */
const MAX_LINKS = 40;

/** The written path and each symlink it leads through, as each is looked up (lstat and readlink only). */
function linkChain(written: string): string[] {
  const chain = [written];
  for (let p = written; chain.length <= MAX_LINKS; ) {
    try {
      if (!lstatSync(p).isSymbolicLink()) break;
      p = resolve(dirname(p), readlinkSync(p));
    } catch {
      break;
    }
    chain.push(p);
  }
  return chain;
}

function realOf(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function statOf(dir: string): Owned | null {
  try {
    return statSync(dir);
  } catch {
    return null;
  }
}

/**
 * Files that decide who may do what (warden.yaml, policy files) and `file:` secrets must not be
 * writable by every user on the host. Why: anyone could add an allow rule for themselves (the
 * policy watcher loads it on its own) or swap a credential. The same holds for where a file sits:
 * a folder every user may write (even with the sticky bit, as /tmp) lets anyone add a file the
 * `policies/*.yaml` glob picks up, or one under a name Warden reads; and a folder above it that
 * every user may write without the sticky bit lets anyone rename the whole folder away and put
 * their own in its place (the walk to `/` of OpenSSH's StrictModes). One check for all three
 * (yaml-source.ts, secrets.ts, secret-files.ts), so they cannot drift apart.
 */
import { realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const WORLD_WRITE = 0o002;
const STICKY = 0o1000;

/**
 * Why a YAML file is not to be trusted, or null. `mode` is the opened file's (fstat, so the file
 * checked is the file read); its folders are checked by sharedFolderProblem.
 */
export function sharedWriteProblem(file: string, mode: number): string | null {
  if (mode & WORLD_WRITE) return 'writable by every user on this host: anyone could change what it grants (chmod o-w it)';
  return sharedFolderProblem(file);
}

/**
 * Why the folders holding `file` let other users change what is read at its name, or null: its
 * folder (as written and, for a symlink, the target's) must not be writable by every user, and
 * no folder above either, up to `/`, may be writable by every user without the sticky bit (with
 * it, as /tmp, others may add entries but not rename ours). Stat only: nothing is read.
 */
export function sharedFolderProblem(file: string): string | null {
  const written = resolve(file);
  const starts = new Set([dirname(written)]);
  try {
    starts.add(dirname(realpathSync(written)));
  } catch {
    // gone, or a broken link: the read itself reports what is wrong
  }
  for (const dir of starts) {
    if (worldWritable(dir)) return `its folder ${dir} is writable by every user on this host: anyone could add or replace a file there (chmod o-w the folder, or move the file)`;
  }
  for (const start of starts) {
    for (let dir = start; dir !== dirname(dir); ) {
      dir = dirname(dir);
      const mode = modeOf(dir);
      if (mode !== null && mode & WORLD_WRITE && !(mode & STICKY)) {
        return `the folder ${dir} above it is writable by every user on this host without the sticky bit: anyone could rename the folder holding it and put their own in its place (chmod o-w ${dir}, or chmod +t ${dir})`;
      }
    }
  }
  return null;
}

function modeOf(dir: string): number | null {
  try {
    return statSync(dir).mode;
  } catch {
    return null;
  }
}

function worldWritable(dir: string): boolean {
  const mode = modeOf(dir);
  return mode !== null && (mode & WORLD_WRITE) !== 0;
}

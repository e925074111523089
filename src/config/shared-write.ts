/**
 * Files that decide who may do what (warden.yaml, policy files) must not be writable by every
 * user on the host. Why: anyone could add an allow rule for themselves, and the policy watcher
 * loads it on its own; a folder every user may write (even with the sticky bit, as /tmp) lets
 * anyone add a file the `policies/*.yaml` glob picks up, or replace one. `file:` secrets are
 * refused the same way (secrets.ts).
 */
import { realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const WORLD_WRITE = 0o002;

/**
 * Why a YAML file is not to be trusted, or null. `mode` is the opened file's (fstat, so the file
 * checked is the file read); the folder of the path as written and, for a symlink, the folder of
 * the file it points to are checked too.
 */
export function sharedWriteProblem(file: string, mode: number): string | null {
  if (mode & WORLD_WRITE) return 'writable by every user on this host: anyone could change what it grants (chmod o-w it)';
  const folders = new Set([dirname(file)]);
  try {
    folders.add(dirname(realpathSync(file)));
  } catch {
    // gone since it was opened: the read itself reports what is wrong
  }
  for (const dir of folders) {
    let dirMode: number;
    try {
      dirMode = statSync(dir).mode;
    } catch {
      continue;
    }
    if (dirMode & WORLD_WRITE) return `its folder ${dir} is writable by every user on this host: anyone could add or replace a file there (chmod o-w the folder, or move the file)`;
  }
  return null;
}

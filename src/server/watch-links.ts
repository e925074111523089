/**
 * Symlinks the policy watcher must see through (policy-watch.ts). A deploy that swaps a link
 * (`current -> releases/v2` renamed over `current -> releases/v1`) changes nothing inside the
 * folder being watched: the event is in the link's parent, and the watch still holds the old
 * target. A policy file that is itself a link changes in its target's folder.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, parse, resolve } from 'node:path';

/** The folder or file `path` resolves to now, or null when it does not (a dangling link, gone). */
export function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** Where a file that is a symlink leads, or null for a plain file (or one that cannot be read). */
export function linkTarget(file: string): string | null {
  try {
    return lstatSync(file).isSymbolicLink() ? realpathSync(file) : null;
  } catch {
    return null;
  }
}

/** Every component of `dir` (itself and its ancestors, as written) that is a symlink. */
export function symlinksOnPath(dir: string): string[] {
  const out: string[] = [];
  const root = parse(resolve(dir)).root;
  for (let p = resolve(dir); p !== root; p = dirname(p)) {
    try {
      if (lstatSync(p).isSymbolicLink()) out.push(p);
    } catch {
      /* a missing component: nothing to follow (the watch itself reports the folder) */
    }
  }
  return out;
}

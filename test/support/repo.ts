/**
 * Paths for tests: the repository root (found from the compiled test file) and the shared
 * corpus folder beside it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findUp(start: string, probe: (dir: string) => boolean): string {
  let dir = start;
  for (;;) {
    if (probe(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`not found from ${start}`);
    dir = up;
  }
}

/** The repository root (the folder with package.json named warden). */
export const REPO_ROOT = findUp(dirname(fileURLToPath(import.meta.url)), (d) => existsSync(join(d, 'package.json')) && existsSync(join(d, 'tsconfig.json')));

/** The shared corpus folder (../shared/corpus beside the checkout, or WARDEN_CORPUS_DIR); found on first use. Every corpus test reads it here. */
export function corpusDir(): string {
  if (process.env.WARDEN_CORPUS_DIR) return process.env.WARDEN_CORPUS_DIR;
  try {
    return findUp(REPO_ROOT, (d) => existsSync(join(d, 'shared', 'corpus'))) + '/shared/corpus';
  } catch {
    // The corpus tests must run: a missing corpus fails them, with what to do.
    throw new Error(`the attack corpus shared/corpus was not found in ${REPO_ROOT} or any folder above it; check the project out beside shared/, or set WARDEN_CORPUS_DIR`);
  }
}

/** The `warden` bin. */
export const WARDEN_BIN = resolve(REPO_ROOT, 'bin', 'warden.js');

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

/** The shared corpus folder (../shared/corpus beside the checkout, or WARDEN_CORPUS_DIR); found on first use. */
export function corpusDir(): string {
  return process.env.WARDEN_CORPUS_DIR ?? findUp(REPO_ROOT, (d) => existsSync(join(d, 'shared', 'corpus'))) + '/shared/corpus';
}

/** The `warden` bin. */
export const WARDEN_BIN = resolve(REPO_ROOT, 'bin', 'warden.js');

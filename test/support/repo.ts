/**
 * Paths for tests: the repository root (found from the compiled test file) and the shared
 * corpus folder beside it.
 */
import { spawnSync } from 'node:child_process';
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

/** The shared corpus folder (WARDEN_CORPUS_DIR, ../shared/corpus beside the checkout, or beside the local repository it was cloned from); found on first use. Every corpus test reads it here. */
export function corpusDir(): string {
  if (process.env.WARDEN_CORPUS_DIR) return process.env.WARDEN_CORPUS_DIR;
  const hasCorpus = (d: string): boolean => existsSync(join(d, 'shared', 'corpus'));
  // Beside the checkout; else beside the repository a clone was made from (`git clone . /tmp/x`
  // of a checkout that sits beside shared/), so a fresh clone anywhere still runs the corpus.
  for (const start of [REPO_ROOT, cloneSource()]) {
    if (!start) continue;
    try {
      return findUp(start, hasCorpus) + '/shared/corpus';
    } catch {
      /* try the next place */
    }
  }
  // The corpus tests must run: a missing corpus fails them, with what to do.
  throw new Error(`the attack corpus shared/corpus was not found above ${REPO_ROOT} or above the repository it was cloned from; check the project out beside shared/, or set WARDEN_CORPUS_DIR`);
}

/** The local repository this checkout was cloned from (origin), or null when it has none or it is not a local folder. */
function cloneSource(): string | null {
  const r = spawnSync('git', ['config', '--get', 'remote.origin.url'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const url = r.status === 0 ? r.stdout.trim().replace(/^file:\/\//, '') : '';
  return url.startsWith('/') && existsSync(url) ? url : null;
}

/** The `warden` bin. */
export const WARDEN_BIN = resolve(REPO_ROOT, 'bin', 'warden.js');

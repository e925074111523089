/**
 * What the pin (git-pin.ts) cannot hold, checked on the host in the same line, with no extra round
 * trip. `GIT_DIR=<-C>/.git/` follows a `.git` that is a symbolic link (to /home/other/.git), an
 * `objects` folder that is one moves every object read, and `objects/info/alternates` adds object
 * stores elsewhere (no variable or key switches alternates off): `show HEAD:secret` would then
 * read another repository's files. So a pinned git line runs as
 *
 *   { if [ -L C/.git ] || [ -L C/.git/objects ] || [ -s C/.git/objects/info/alternates ]; then
 *       echo 'warden: refused: ...' >&2; exit 97; fi; GIT_...=... 'git' ...; }
 *
 * (one line; a group, so it stays one element of a pipeline). Exit 97 tells this refusal apart.
 * A repository made by `clone --shared`/`--reference` has alternates: `git repack -a -d` and
 * removing the file makes it whole. Not checked: links deeper in `.git` (`refs`, `objects/pack`),
 * a link in C's own path (paths: follows links), and a change between the check and git's run.
 * kubectl_exec's argv has no shell to run the check (README: limits); its `sh -c` script has it.
 */
import { gitPin } from './git-pin.js';

/** The exit status of a line whose repository the check refuses. */
export const GIT_REPO_REFUSED = 97;

/** The shell statement that ends the line unless the pinned repository is its folder's own, or null when git is not pinned. */
export function gitRepoCheck(args: readonly string[], quote: (word: string) => string): string | null {
  const folder = gitPin(args).find(([name]) => name === 'GIT_WORK_TREE')?.[1];
  if (folder === undefined) return null;
  const dot = `${folder}/.git`;
  const tests = [`-L ${quote(dot)}`, `-L ${quote(`${dot}/objects`)}`, `-s ${quote(`${dot}/objects/info/alternates`)}`];
  const why = `warden: refused: ${dot} is a symbolic link or its objects come from elsewhere (a link or objects/info/alternates): git would read a repository outside its folder`;
  return `if ${tests.map((t) => `[ ${t} ]`).join(' || ')}; then echo ${quote(why)} >&2; exit ${GIT_REPO_REFUSED}; fi`;
}

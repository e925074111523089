/**
 * The repository a rebuilt git runs on, pinned to its `-C` folder. The ceiling (git-guard.ts
 * gitCeiling) keeps git from a repository above that folder, but the folder's own repository
 * may point elsewhere: a `.git` FILE (`gitdir: /home/other/.git`, as linked worktrees and
 * submodules use) makes git read and write that repository, a `commondir` file in the git dir
 * moves its objects, refs and config, and `core.worktree` in its config moves the work tree
 * (`status`, `diff`, `grep`, `checkout -- f` then read or write /etc). So every git line Warden
 * rebuilds with an absolute `-C` also sets, checked on git 2.39:
 *
 *   GIT_DIR=<-C>/.git/  GIT_WORK_TREE=<-C>  GIT_COMMON_DIR=<-C>/.git/
 *
 * The trailing `/` matters: git follows a .git file named by GIT_DIR, but `<-C>/.git/` is no
 * file (stat fails), so git stops with "not a git repository". The environment wins over
 * `core.worktree` and `commondir`. Not set for `clone` (it dies on an existing GIT_WORK_TREE and
 * reads its source as GIT_DIR) and `init` (it fails with them, and follows a .git file anyway:
 * refused under paths:, git-carry.ts), nor with the agent's own `--git-dir` (refused under
 * paths:); the agent's `--work-tree` wins over GIT_WORK_TREE, and is judged as a path.
 */
import { gitFolder } from './git-guard.js';
import { locateSubcommand } from './subcommand-options.js';

/** Subcommands that do not run on the -C folder's repository (or fail with it pinned). */
const UNPINNED = new Set(['clone', 'init']);

/** The global option that names the repository itself (it wins over the environment). */
const NAMES_REPOSITORY = /^--git-dir(=|$)/;

/** `NAME=value` pairs that pin git's repository to `-C/.git/` and its work tree to `-C`; empty when git has no absolute -C. */
export function gitPin(args: readonly string[]): [string, string][] {
  const folder = gitFolder(args);
  if (folder === null || folder === '/') return [];
  const sub = locateSubcommand('git', args);
  if (sub.kind === 'word' && UNPINNED.has(args[sub.at] as string)) return [];
  const end = sub.kind === 'word' ? sub.at : args.length;
  if (args.slice(0, end).some((w) => NAMES_REPOSITORY.test(w))) return [];
  return [['GIT_DIR', `${folder}/.git/`], ['GIT_WORK_TREE', folder], ['GIT_COMMON_DIR', `${folder}/.git/`]];
}

/** Why git, under a grant with paths:, runs a subcommand the pin cannot hold, or null. */
export function gitUnpinned(args: readonly string[]): string | null {
  const sub = locateSubcommand('git', args);
  if (sub.kind !== 'word' || args[sub.at] !== 'init') return null;
  return 'git init reinitialises the repository a .git file in its folder points to, wherever it is (Warden cannot pin init to the folder): with paths:, create repositories another way.';
}

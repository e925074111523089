/**
 * Submodule recursion under a grant with `paths:`. A submodule is another repository: its `.git`
 * file (`gitdir: /home/other/.git`) and its `core.worktree` may point anywhere, and git reads it
 * in a child git (the status dirty check, `diff --submodule=diff`, `fetch`), which the pin
 * (git-pin.ts) does not hold since git gives the child `GIT_DIR=.git`, or in-process (`grep` and
 * `ls-files --recurse-submodules`, `--submodule=log`). The guard (git-guard.ts) switches recursion
 * off on every rebuilt git; these are the agent's options that would switch it back on:
 * `--recurse-submodules` (any spelling git takes, any value), clone's `--recursive`, `--submodule`
 * (any format: `log` reads the submodule's commits, `diff` its files) and `--ignore-submodules=`
 * other than `all`. The `submodule` subcommand is refused everywhere (injection-catalogue.ts).
 */
import { findFlag, optionWords } from './flags.js';
import { findSubcommand } from './subcommand-options.js';

/** An unambiguous-or-not prefix of `--ignore-submodules` with a value other than `all`. */
function ignoreValue(args: string[]): string | undefined {
  return optionWords(args).find((w) => {
    const eq = w.indexOf('=');
    if (!w.startsWith('--') || eq < 0) return false;
    const name = w.slice(2, eq);
    return name.length > 0 && 'ignore-submodules'.startsWith(name) && w.slice(eq + 1) !== 'all';
  });
}

/** Why git, under a grant with paths:, is asked to enter submodules, or null. */
export function gitSubmoduleReach(args: string[]): string | null {
  const recurse = findFlag('git', args, ['--recurse-submodules']);
  const sub = findSubcommand('git', args);
  const recursive = sub.kind === 'word' && sub.word !== 'clone' ? null : findFlag('git', args, ['--recursive']);
  const hit = recurse ?? recursive;
  if (hit !== null) return `git ${hit.word} recurses into submodules, each a repository whose .git file may point outside the prefixes (git reads it without Warden's pin): with paths:, git stays in its -C folder's repository.`;
  const format = findFlag('git', args, ['--submodule']);
  if (format !== null) return `git ${format.word} reads each submodule's repository (its commits or files), whose .git file may point outside the prefixes: with paths:, submodules are shown as commit ids only.`;
  const ignore = ignoreValue(args);
  if (ignore !== undefined) return `git ${ignore} makes git look into submodules (a child git in each, which follows its .git file outside the prefixes): with paths:, only --ignore-submodules=all.`;
  return null;
}

/**
 * A repository's configuration carried where git runs. git-files.ts keeps a grant with `paths:`
 * from writing a file git obeys by name; a copy writes names the line does not spell:
 * - into a folder, a copy lands under its source's own name: `cp -r /srv/staging/x/.git
 *   /srv/app/repo/` writes `/srv/app/repo/.git` (also mv, ln, install, rsync, scp);
 * - a copy that carries a folder whole (`cp -r`/`-a`, `rsync -r`/`-a`/`-d`, `scp -r`, `mv`, and
 *   `ln`, whose link git follows) brings the `.git/` it holds, whose `config` may name a clean
 *   filter (`filter.X.clean`, with `* filter=X` in `.git/info/attributes`) that the git guard
 *   cannot switch off by name and that `git status` runs. Such a copy from outside a git grant's
 *   `paths:` into them is refused in a rule that grants both (from inside them, git could read the
 *   source already);
 * - git itself: with `paths:`, `--git-dir` makes any folder holding a `config` (no `.git` in its
 *   name) a repository, and a git with no absolute `-C` runs in the login folder, outside the
 *   prefixes (git finds the repository from there); nor may it enter submodules (git-submodules.ts).
 */
import { findFlag } from './flags.js';
import { GIT_VALUES, gitDirs } from './git-guard.js';
import { copyPlan as specCopyPlan, type CopyPlan } from './copy-models.js';
import { gitObeys, gitObeysWhy } from './git-files.js';
import { gitUnpinned } from './git-pin.js';
import { gitSubmoduleReach } from './git-submodules.js';
import { scanWords } from './operands.js';
import { normalisePath, underPrefix } from './paths.js';
import type { ProgramGrant } from './condition.js';
import type { ShellCommand } from './types.js';

/** Copiers modelled by option-models.ts: how they carry a folder's tree ('always', or with one of these flags). */
const COPIERS: Readonly<Record<string, 'always' | readonly string[] | null>> = {
  cp: ['-r', '-R', '-a', '--recursive', '--archive'],
  mv: 'always',
  ln: 'always',
  install: null,
};

/** `--target-directory` as written, any abbreviation getopt takes. */
const isTarget = (flag: string): boolean => flag === '-t' || (flag.length >= 4 && '--target-directory'.startsWith(flag));
const isNoTarget = (flag: string): boolean => flag === '-T' || (flag.length >= 4 && '--no-target-directory'.startsWith(flag));

/** What cp, mv, ln, install, rsync or scp copies and where to, or null for any other program (or no destination). */
export function copyPlan(program: string, args: string[]): CopyPlan | null {
  if (program === 'rsync' || program === 'scp') return specCopyPlan(program, args);
  const how = Object.hasOwn(COPIERS, program) ? COPIERS[program] : undefined;
  if (how === undefined) return null;
  const s = scanWords(program, args);
  if (s === undefined) return null;
  const target = s.options.find((o) => isTarget(o.flag));
  const operands = s.operands.filter((o) => o !== '-');
  const [sources, dest] = target !== undefined ? [operands, target.value ?? ''] : [operands.slice(0, -1), operands[operands.length - 1]];
  if (dest === undefined || sources.length === 0) return null;
  const named = target === undefined && sources.length === 1 && s.options.some((o) => isNoTarget(o.flag));
  let whole: string | null = null;
  if (how === 'always') whole = program;
  else if (how !== null) {
    const hit = findFlag(program, args, how);
    whole = hit === null ? null : `${program} ${hit.word}`;
  }
  return { sources, dest, named, whole };
}

/** The last name of `path` (trailing slashes and `.` resolved), or null when relative. */
export function lastName(path: string): string | null {
  const p = normalisePath(path);
  return p === null || p === '/' ? null : p.slice(p.lastIndexOf('/') + 1);
}

/** Why a copy (its destination already judged under the grant's prefixes) lands a source in a file git obeys, or null. */
export function copiedIntoObeyed(cmd: ShellCommand): string | null {
  const plan = copyPlan(cmd.program, cmd.args);
  if (plan === null || plan.named) return null;
  for (const src of plan.sources) {
    const name = lastName(src);
    const dest = normalisePath(plan.dest);
    if (name === null || dest === null) continue;
    const landed = `${dest === '/' ? '' : dest}/${name}`;
    if (gitObeys(landed)) return gitObeysWhy(cmd.program, landed);
  }
  return null;
}

/**
 * Why a copy that carries a folder whole brings it from outside `git`'s prefixes into them, in
 * a rule whose grant of git has `paths:` (without paths: git reaches the source already), or null.
 */
export function carriedToGit(cmd: ShellCommand, grant: ProgramGrant, git: ProgramGrant | undefined): string | null {
  if (git?.paths === undefined || grant.paths === undefined) return null;
  const plan = copyPlan(cmd.program, cmd.args);
  if (plan === null || plan.whole === null || !underPrefix(plan.dest, git.paths)) return null;
  const outside = plan.sources.find((s) => !underPrefix(s, git.paths ?? []));
  if (outside === undefined) return null;
  return `${plan.whole} carries '${normalisePath(outside) ?? outside}' whole into '${normalisePath(plan.dest) ?? plan.dest}', where this rule grants git: a .git it holds (its config naming a clean filter, its hooks) would be obeyed by git there. Copy files one by one, or from under git's paths (${git.paths.join(', ')}).`;
}

/** Why git, under a grant with `paths:`, names its git dir or runs where no prefix holds, or null. */
export function gitPlace(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (!w.startsWith('-')) break;
    if (w.split('=', 1)[0] === '--git-dir') return `git ${w} makes the folder it names a repository whatever its name (one holding a config that names a filter or hooks, which no .git in its path marks): with paths:, name the work tree with -C instead.`;
    if (GIT_VALUES.has(w)) i++;
  }
  const dirs = gitDirs(args);
  const first = dirs[0];
  if (first === undefined || normalisePath(first) === null) {
    return `git ${first === undefined ? 'without -C' : `-C '${first}'`} runs in the login folder (the remote user's home) or one under it, outside the prefixes, and reads the repository it finds there: give -C an absolute folder under them first.`;
  }
  // GIT_CEILING_DIRECTORIES (git-guard.ts) separates its entries with ':', so no ceiling can stand above such a folder.
  const colon = dirs.find((d) => d.includes(':'));
  if (colon !== undefined) return `git -C '${colon}' names a folder with ':', above which Warden cannot keep git from looking for a repository (GIT_CEILING_DIRECTORIES separates its entries with ':').`;
  return gitUnpinned(args) ?? gitSubmoduleReach(args);
}

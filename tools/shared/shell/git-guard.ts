/**
 * What a repository's configuration can make git run, switched off on every git command Warden
 * rebuilds (ssh_run's line, kubectl_exec's argv). A grant of git reads repositories that other
 * grants, or anyone on the host, may write: `.git/config` can name a diff textconv, an fsmonitor
 * hook, hooks, a pager, an ssh command, a credential helper or askpass, an editor, a gpg program
 * (run by `log --show-signature` or `log.showSignature`), an `ext::` transport. Command-line
 * configuration (`-c`, which git hands to the git processes it starts) wins over every file, so:
 *
 *   git --no-pager -c core.fsmonitor=false -c core.hooksPath=/dev/null ... SUB [--no-textconv --no-ext-diff] ARGS
 *
 * `--no-textconv --no-ext-diff` follow the subcommands that show diffs by default (textconv and
 * external diff drivers are named by attributes, so no key switches them off by name); the agent's
 * own `--textconv`/`--ext-diff`/`-c` are refused by the injection catalogue. Not switched off
 * (README): clean/smudge filters (`filter.X.*`, named by `.gitattributes`), merge drivers,
 * `remote.X.uploadpack`, aliases and `git-NAME` programs on PATH, and in git 2.46+ `hook.*`.
 * `diff.external` is not set empty: git 2.39 then tries to run "" (`--no-ext-diff` covers it).
 * With an absolute `-C`, the line also sets GIT_CEILING_DIRECTORIES (gitCeiling, startup-files.ts).
 */
import { lexicalPath } from './paths.js';
import { locateSubcommand } from './subcommand-options.js';

/** Key=value pairs, checked against `git help config` (git 2.39): each keeps the key from running a program. */
const OVERRIDES = [
  'core.fsmonitor=false', // a hook run by status/diff/add/... (bool or a command)
  'core.hooksPath=/dev/null', // no hooks: /dev/null/<hook> never exists
  'core.pager=cat',
  'core.sshCommand=ssh',
  'core.askPass=', // empty: git falls back to GIT_ASKPASS/SSH_ASKPASS from the host's environment
  'core.editor=:', // git does not start the editor ":"
  'sequence.editor=:',
  'credential.helper=', // empty resets the list of helpers, also credential.<url>.helper
  'protocol.ext.allow=never',
  'log.showSignature=false',
  'gpg.program=gpg',
  'gpg.openpgp.program=gpg',
  'gpg.x509.program=gpgsm',
  'gpg.ssh.program=ssh-keygen',
  'core.attributesFile=/dev/null', // the global attributes file only; in-tree .gitattributes still count
  'safe.bareRepository=explicit', // 2.38+: no implicit bare repository (a `config` planted in any folder)
  // Submodules: each is another repository (its .git file may point anywhere), read by a child git
  // that the pin (git-pin.ts) does not hold or in-process; these keep git from entering them.
  'submodule.recurse=false', // checkout, grep, fetch, pull, reset, switch, read-tree
  'diff.ignoreSubmodules=all', // status's dirty check, diff, log -p (a .gitmodules `ignore =` beats it: SUBMODULE_GUARD)
  'status.submoduleSummary=false',
  'diff.submodule=short', // not `log`/`diff`, which read the submodule's commits
  'fetch.recurseSubmodules=false', // fetch and pull: on-demand by default
];

/** The words Warden puts first after `git`. */
export const GIT_GUARD: readonly string[] = ['--no-pager', ...OVERRIDES.flatMap((kv) => ['-c', kv])];

const DIFF_GUARD: readonly string[] = ['--no-textconv', '--no-ext-diff'];
/**
 * On the command line, `--ignore-submodules=all` also beats a submodule's own `ignore =` (in
 * `.gitmodules` or the repository's config), which `diff.ignoreSubmodules` does not: no child
 * git is started in a submodule (checked with strace on 2.39).
 */
const SUBMODULE_GUARD: readonly string[] = ['--ignore-submodules=all'];
/**
 * The words Warden puts right after a subcommand: subcommands that show diffs (and so run
 * textconv or an external diff) take both diff options, and those that compare a work tree or
 * trees (checked on 2.39) take `--ignore-submodules=all`.
 */
const AFTER_SUBCOMMAND: ReadonlyMap<string, readonly string[]> = new Map([
  ...['log', 'show', 'diff', 'whatchanged', 'format-patch'].map((s) => [s, [...DIFF_GUARD, ...SUBMODULE_GUARD]] as const),
  ...['blame', 'annotate'].map((s) => [s, DIFF_GUARD] as const),
  ...['status', 'diff-files', 'diff-index', 'diff-tree'].map((s) => [s, SUBMODULE_GUARD] as const),
]);

const startsWith = (args: readonly string[], at: number, words: readonly string[]): boolean => words.every((w, i) => args[at + i] === w);

/** How many of `args` are Warden's guard words (0 when they do not start with them exactly). */
export function gitGuardLength(args: readonly string[]): number {
  return startsWith(args, 0, GIT_GUARD) ? GIT_GUARD.length : 0;
}

/** `args` of git as Warden runs them: the guard first, AFTER_SUBCOMMAND's words after the subcommand (idempotent). */
export function withGitGuard(args: readonly string[]): string[] {
  const out = gitGuardLength(args) > 0 ? [...args] : [...GIT_GUARD, ...args];
  const sub = locateSubcommand('git', out);
  const after = sub.kind === 'word' ? AFTER_SUBCOMMAND.get(out[sub.at] as string) : undefined;
  if (sub.kind !== 'word' || after === undefined || startsWith(out, sub.at + 1, after)) return out;
  return [...out.slice(0, sub.at + 1), ...after, ...out.slice(sub.at + 1)];
}

/** git's global options that take the next word (git 2.39 handle_options). */
export const GIT_VALUES: ReadonlySet<string> = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix', '--attr-source', '--list-cmds']);

/** The `-C` words of git's global options, in order (up to the subcommand). */
export function gitDirs(args: readonly string[]): string[] {
  const dirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (!w.startsWith('-')) break;
    if (!GIT_VALUES.has(w)) continue;
    if (w === '-C') dirs.push(args[i + 1] ?? '');
    i++;
  }
  return dirs;
}

/** The environment variable that bounds git's search for a repository (`man git`, ENVIRONMENT). */
export const GIT_CEILING = 'GIT_CEILING_DIRECTORIES';

/** The folder `-C` words lead to (git joins a relative -C to the one before and ignores an empty one), or null when they start from no absolute folder. */
export function gitFolder(args: readonly string[]): string | null {
  let dir: string | null = null;
  for (const d of gitDirs(args)) {
    if (d === '') continue;
    if (d.startsWith('/')) dir = d;
    else if (dir === null) return null;
    else dir = `${dir}/${d}`;
  }
  return dir === null ? null : lexicalPath(dir);
}

/**
 * The folder git looks for its repository from no higher than: the parent of the folder its
 * `-C` words lead to (gitFolder), or null when they start from no absolute folder or lead to `/`.
 * Given as GIT_CEILING_DIRECTORIES, git never enters it, so the repository is the -C folder's
 * own (its .git, or the git dir it is): a repository above it, outside a grant's paths:, is never
 * read (its config, its objects). Null too for a folder holding `:`, which separates the
 * variable's entries (refused under paths:). git-pin.ts pins the repository to `-C/.git/`.
 */
export function gitCeiling(args: readonly string[]): string | null {
  const folder = gitFolder(args);
  if (folder === null || folder === '/' || folder.includes(':')) return null;
  return folder.slice(0, folder.lastIndexOf('/')) || '/';
}

/**
 * Start-up files. psql reads ~/.psqlrc (or $PSQLRC), mysql/mariadb ~/.my.cnf, /etc/mysql/* and
 * the like, sqlite3 ~/.sqliterc; they can hold shell escapes (`\!`, `.shell`) or options that load
 * code (`plugin-dir`) or write files (`tee`), so whoever can write one plants a command for the
 * next granted call. Warden's rebuilt line (quote.ts, kubectl_exec's argv) therefore starts these
 * programs with the option that skips them; an ssh remote command, which is not rebuilt, must
 * give that option itself. git reads the repository's configuration, which can name programs
 * too: it is started with the overrides of git-guard.ts.
 */
import { GIT_CEILING, GIT_GUARD, gitCeiling, withGitGuard } from './git-guard.js';
import { gitPin } from './git-pin.js';
import type { ShellCommand } from './types.js';

/** The option, first after the program, that keeps it from reading its start-up files. */
const GUARDS: ReadonlyMap<string, readonly string[]> = new Map([
  ['psql', ['-X']], // --no-psqlrc
  ['mysql', ['--no-defaults']], // must be the first option; MySQL still reads ~/.mylogin.cnf
  ['mariadb', ['--no-defaults']],
  ['sqlite3', ['-init', '/dev/null']], // replaces ~/.sqliterc
]);

const base = (program: string): string => program.slice(program.lastIndexOf('/') + 1);

/** `args` of `program` with its start-up guard put first (unless already there). */
export function withoutStartupFiles(program: string, args: readonly string[]): string[] {
  if (base(program) === 'git') return withGitGuard(args);
  const guard = GUARDS.get(base(program));
  if (guard === undefined || guard.every((g, i) => args[i] === g)) return [...args];
  return [...guard, ...args];
}

/**
 * `NAME=value` pairs Warden sets for `program` where it rebuilds the line (as assignments on
 * ssh_run's line and a `sh -c` script, through `env` in kubectl_exec's argv): git's search for
 * a repository stops at its -C folder (git-guard.ts gitCeiling), and its repository and work
 * tree are that folder's own (git-pin.ts). Empty for any other program.
 */
export function startupEnvironment(program: string, args: readonly string[]): [string, string][] {
  if (base(program) !== 'git') return [];
  const ceiling = gitCeiling(args);
  return [...(ceiling === null ? [] : [[GIT_CEILING, ceiling] as [string, string]]), ...gitPin(args)];
}

/** Why `cmd` (not rebuilt by Warden) reads start-up files, or null: its guard must come first. */
export function startupFilesRead(cmd: ShellCommand): string | null {
  if (base(cmd.program) === 'git') {
    const guarded = withGitGuard(cmd.args);
    if (guarded.length === cmd.args.length) return null;
    return `git reads the repository's configuration, which may name commands (a diff textconv, fsmonitor, hooks); in a command Warden does not rebuild, start it as: git ${[...GIT_GUARD, '...'].join(' ')} (and --no-textconv --no-ext-diff right after log, show, diff, blame, --ignore-submodules=all right after status, diff, log, show).`;
  }
  const guard = GUARDS.get(base(cmd.program));
  if (guard === undefined || guard.every((g, i) => cmd.args[i] === g)) return null;
  return `${cmd.program} reads start-up files that may hold commands; in a command Warden does not rebuild, start it with ${guard.join(' ')}.`;
}

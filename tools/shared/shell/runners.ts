/**
 * Programs and environment variables that run other programs or code. One table for both sides
 * of the `shell:` condition: the injection catalogue never lets an allow grant them, and a deny
 * rule looks through them (deny-runs.ts) at what they run.
 */
import { INTERPRETER_VARIABLES } from './interpreters.js';

/** Shells whose scripts bash's grammar reads as they do: Warden parses their `-c` scripts. */
export const POSIX_SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'ash']);

/** awk and sed under their usual names (their programs are judged by script-checks.ts). */
export const AWKS: ReadonlySet<string> = new Set(['awk', 'gawk', 'mawk', 'nawk']);
export const SEDS: ReadonlySet<string> = new Set(['sed', 'gsed']);
/** The OpenSSH clients: options that run programs, and a remote command or batch. */
export const SSH_FAMILY: ReadonlySet<string> = new Set(['ssh', 'scp', 'sftp']);

/** Every shell (busybox and toybox contain one). */
export const SHELLS: readonly string[] = [
  ...POSIX_SHELLS, 'zsh', 'ksh', 'mksh', 'yash', 'csh', 'tcsh', 'fish', 'busybox', 'toybox',
];

/**
 * Interpreters an allow never grants (node is judged by its flags instead); what their words run
 * is interpreters.ts, which a test keeps in step with these names, PAGERS and the pattern.
 */
export const INTERPRETERS: readonly string[] = [
  'php', 'lua', 'luajit', 'tclsh', 'wish', 'expect', 'Rscript', 'R', 'irb', 'jshell', 'deno', 'bun', 'pwsh', 'powershell', 'osascript', 'gdb',
  'jrunscript', 'julia', 'ghci', 'runghc', 'runhaskell', 'rpmlua',
];
/** Versioned interpreter names: python3.11, perl5.36, pypy3, tclsh8.6, luajit-2.1.0-beta3. */
export const INTERPRETER_PATTERN = /^(python|pypy|perl|j?ruby|php|lua|tclsh|wish)[0-9.]*$|^luajit[\w.-]*$/;

/** Run the program their arguments name, with the words after it (`nice rm`, `sudo -u x rm`). */
export const WRAPPERS: ReadonlySet<string> = new Set([
  'xargs', 'timeout', 'nice', 'nohup', 'flock', 'sudo', 'doas', 'chroot', 'strace', 'ltrace', 'watch', 'stdbuf', 'ionice', 'setsid',
  'runuser', 'pkexec', 'unshare', 'nsenter', 'systemd-run', 'parallel', 'taskset', 'chrt', 'setarch', 'linux32', 'linux64', 'time',
  'command', 'builtin', 'exec', 'sg', 'firejail', 'valgrind', 'catchsegv', 'unbuffer', 'rlwrap', 'faketime', 'proxychains',
  'proxychains4', 'torsocks', 'torify', 'caffeinate', 'coproc', 'setpriv', 'gosu', 'su-exec', 'runcon', 'fakeroot', 'numactl', 'dumb-init',
  'tini', 'catatonit', 'chpst', 'cgexec', 's6-setuidgid', 'start-stop-daemon', 'prlimit', 'systemd-inhibit', 'systemd-cat', 'systemd-nspawn', 'eatmydata',
  'run0', 'sshpass', 'bwrap', 'dbus-run-session', 'dbus-launch', 'xvfb-run', 'chronic', 'ifne', 'perf', 'envdir', 'setuidgid', 'softlimit',
  'setlock', 'daemonize', 'nocache', 'trickle', 'cpulimit', 'entr', 'lckdo', 'sem', 'coreutils',
  'tsocks', 'ssh-agent', 'gpg-agent',
]);

/** The dynamic loader (`ld-linux-x86-64.so.2`, `ld.so`, `ld-musl-*.so.1`): it runs the program its words name. */
export const LOADER_PATTERN = /^ld(-[\w.-]+)?\.so(\.[0-9]+)*$/;

/** Does `base` run the program named among its words (a wrapper or the dynamic loader)? */
export function runsNamedProgram(base: string): boolean {
  return WRAPPERS.has(base) || LOADER_PATTERN.test(base);
}

/**
 * Programs with a shell escape in the commands they read from their words or standard input
 * (psql `\!`, sqlite3 `.shell`, mysql `system`, dc `!`, m4 `syscmd`, gnuplot `system`). An allow
 * judges their options and text by command-languages.ts, which must know each of them.
 */
export const ESCAPING: ReadonlySet<string> = new Set(['psql', 'sqlite3', 'mysql', 'mariadb', 'dc', 'm4', 'gnuplot', 'ftp', 'lftp']);

/**
 * Run shell text given in their arguments (`eval X`, `su -c X`, `watch X`, `flock F -c X`, `trap X SIG`,
 * `tmux new X`, `screen -dm X`, `capsh -- -c X`) or read on standard input (`at`, `batch`).
 */
export const SHELL_TEXT_RUNNERS: ReadonlySet<string> = new Set([
  'eval', 'source', '.', 'su', 'script', 'sg', 'trap', 'watch', 'flock', 'parallel', 'tmux', 'screen', 'capsh', 'at', 'batch',
]);

/** The last path component of a program word (`/usr/bin/rm` is `rm`). */
export function programBase(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/** Environment variables whose value is a command line a program runs (a deny rule parses it). */
const COMMAND_VARIABLES: ReadonlySet<string> = new Set([
  'GIT_SSH_COMMAND', 'GIT_SSH', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'GIT_PAGER', 'GIT_EXTERNAL_DIFF', 'GIT_ASKPASS', 'GIT_PROXY_COMMAND',
  'SSH_ASKPASS', 'PAGER', 'MANPAGER', 'EDITOR', 'VISUAL', 'FCEDIT', 'SYSTEMD_PAGER', 'SYSTEMD_EDITOR', 'LESSOPEN', 'LESSCLOSE',
  'PROMPT_COMMAND', 'RSYNC_RSH', 'RSYNC_CONNECT_PROG', 'BROWSER', 'SUDO_ASKPASS', 'SUDO_EDITOR', 'KUBE_EDITOR',
  'PSQL_PAGER', 'PSQL_EDITOR', 'PSQL_WATCH_PAGER',
]);

/**
 * Environment variables that make a program load code from a file, a library, a directory or an
 * option string (a deny rule cannot read it, so it may run any program); also every `LD_*` and
 * `BASH_FUNC_*` (exported functions).
 */
const LOADER_VARIABLES: ReadonlySet<string> = new Set([
  'BASH_ENV', 'ENV', 'PERL5OPT', 'PERL5LIB', 'PYTHONSTARTUP', 'PYTHONPATH', 'NODE_OPTIONS', 'NODE_PATH', 'RUBYOPT', 'RUBYLIB', 'SHELLOPTS',
  'BASHOPTS', 'PS4', 'TAR_OPTIONS', 'APT_CONFIG', 'ZIPOPT', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM', 'GIT_CONFIG', 'GIT_EXEC_PATH', 'GIT_TEMPLATE_DIR', ...INTERPRETER_VARIABLES,
  // GnuPG's home holds gpg.conf and gpg-agent.conf (a photo viewer, the agent, pinentry and scdaemon programs); rpm's holds its macros.
  'GNUPGHOME', 'RPM_CONFIGDIR',
]);

/**
 * What setting the variable `name` (`NAME`, `NAME[i]`, `NAME+`) can make programs run: the
 * command line its value holds, code Warden cannot read, or nothing Warden knows of (null).
 */
export function variableRuns(name: string): 'command' | 'loader' | null {
  const n = name.replace(/\+$/, '').replace(/\[.*$/s, '');
  if (COMMAND_VARIABLES.has(n)) return 'command';
  if (LOADER_VARIABLES.has(n) || n.startsWith('LD_') || n.startsWith('BASH_FUNC_')) return 'loader';
  return null;
}

/**
 * Builtins that read some of their words as variable names or arithmetic (`let`), where bash
 * evaluates an array subscript and expands `$(..)`, backticks and `${..}` in it, even from a quoted
 * literal: `test -v 'a[$(cmd)]'`, `printf -v 'a[$(cmd)]' x`, `read 'a[$(cmd)]'` run cmd. Every
 * word counts for these, except for test (the operand of -v and -R) and printf (the -v name).
 */
export const NAME_READERS: ReadonlySet<string> = new Set([
  'test', '[', 'printf', 'let', 'export', 'declare', 'typeset', 'local', 'readonly', 'read', 'mapfile', 'readarray', 'unset', 'wait',
  'getopts',
]);

/** The words of `base args` that bash reads as a variable name or arithmetic (see NAME_READERS). */
export function evaluatedWords(base: string, args: readonly string[]): string[] {
  if (!NAME_READERS.has(base)) return [];
  if (base === 'test' || base === '[') return args.filter((_, i) => i > 0 && /^-[vR]$/.test(args[i - 1] as string));
  if (base === 'printf') {
    // `-v NAME` or `-vNAME`, generously wherever it stands.
    return args.flatMap((a, i) => (a === '-v' && i + 1 < args.length ? [args[i + 1] as string] : /^-v./s.test(a) ? [a.slice(2)] : []));
  }
  return [...args];
}

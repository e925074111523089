/**
 * Programs that run other programs or code. One table for both sides of the `shell:` condition:
 * the injection catalogue never lets an allow grant them, and a deny rule looks through them
 * (deny-runs.ts) at what they run.
 */

/** Shells whose scripts bash's grammar reads as they do: Warden parses their `-c` scripts. */
export const POSIX_SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'ash']);

/** Every shell (busybox and toybox contain one). */
export const SHELLS: readonly string[] = [
  ...POSIX_SHELLS, 'zsh', 'ksh', 'mksh', 'yash', 'csh', 'tcsh', 'fish', 'busybox', 'toybox',
];

/** Interpreters an allow never grants (node is judged by its flags instead). */
export const INTERPRETERS: readonly string[] = [
  'php', 'lua', 'luajit', 'tclsh', 'wish', 'expect', 'Rscript', 'irb', 'jshell', 'deno', 'bun', 'pwsh', 'osascript', 'gdb', 'jrunscript',
];
/** Versioned interpreter names: python3.11, perl5.36, pypy3. */
export const INTERPRETER_PATTERN = /^(python|pypy|perl|ruby|php|lua)[0-9.]*$/;

/** Run the program their arguments name, with the words after it (`nice rm`, `sudo -u x rm`). */
export const WRAPPERS: ReadonlySet<string> = new Set([
  'xargs', 'timeout', 'nice', 'nohup', 'flock', 'sudo', 'doas', 'chroot', 'strace', 'ltrace', 'watch', 'stdbuf', 'ionice', 'setsid',
  'runuser', 'pkexec', 'unshare', 'nsenter', 'systemd-run', 'parallel', 'taskset', 'chrt', 'setarch', 'linux32', 'linux64', 'time',
  'command', 'builtin', 'exec', 'sg', 'firejail', 'valgrind', 'catchsegv', 'unbuffer', 'rlwrap', 'faketime', 'proxychains',
  'proxychains4', 'torsocks', 'torify', 'caffeinate',
]);

/** Run shell text given in their arguments (`eval X`, `su -c X`, `watch X`, `flock F -c X`, `trap X SIG`). */
export const SHELL_TEXT_RUNNERS: ReadonlySet<string> = new Set([
  'eval', 'source', '.', 'su', 'script', 'sg', 'trap', 'watch', 'flock', 'parallel',
]);

/** The last path component of a program word (`/usr/bin/rm` is `rm`). */
export function programBase(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/**
 * procps `ps` with the BSD `e` modifier (`ps e`, `ps auxeww`, `ps -ef e`; also a format naming
 * the `environ` column, which ps 4.0.2 leaves empty but is refused generously) prints every listed
 * process's environment after its command (read from /proc/PID/environ): the environment of
 * every process of the login user (all of them for root), where an application keeps its
 * `DATABASE_URL=postgres://app:PASSWORD@db/app` and API keys, which no name-based masking
 * knows. A grant of ps reads as one to list processes, so, as for jq's `env`, it is refused
 * unless the grant says `environment: true`.
 *
 * ps reads its words itself (procps-ng 4.0 parser.c, checked on ps 4.0.2): a word starting with
 * a letter is a BSD cluster, `-x` a SysV cluster, `--x` a GNU option. In a cluster the first
 * letter that takes a value ends it, taking the rest of the word or the next word (`-ue` is user
 * `e`, `-C e` command `e`, `o e` format `e`); `--x=v` and `--x v` give v to x.
 */

/** SysV letters that take a value (`-C CMD`, `-u USER`, `-o FMT`, ...). */
const SYSV_VALUES = 'CGOUgopqstu';
/** BSD letters that take a value (`O FMT`, `U USER`, `k SORT`, `o FMT`, `p PID`, `q PID`, `t TTY`). */
const BSD_VALUES = 'OUkopqt';
/** GNU long options that take a value. */
const GNU_VALUES = new Set(['--Group', '--group', '--pid', '--ppid', '--quick-pid', '--sid', '--tty', '--user', '--User', '--format',
  '--sort', '--cols', '--columns', '--width', '--rows', '--lines', '--help']);

/**
 * The word of a ps command that sets the BSD `e` modifier, or null. Generous: a word is a value
 * only where ps would surely read it as one (an unknown long option takes none), so any other
 * word that starts with a letter and holds an `e` before its first value letter counts.
 */
export function psEnvironmentWord(args: readonly string[]): string | null {
  // A format naming the `environ` column (empty on ps 4.0.2, which shows it only after e: generous).
  const format = (value: string | undefined): boolean => value !== undefined && /(^|[\s,])environ([\s,:=]|$)/i.test(value);
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      if (name === '--format' && format(eq < 0 ? args[i + 1] : w.slice(eq + 1))) return w;
      if (eq < 0 && GNU_VALUES.has(w)) i++;
      continue;
    }
    const sysv = w.startsWith('-');
    if (!sysv && !/^[A-Za-z]/.test(w)) continue; // a pid list (`123`), a session (`+1`)
    const values = sysv ? SYSV_VALUES : BSD_VALUES;
    const letters = sysv ? w.slice(1) : w;
    for (let k = 0; k < letters.length; k++) {
      const c = letters[k] as string;
      if (!sysv && c === 'e') return w;
      if (values.includes(c)) {
        const value = k + 1 < letters.length ? letters.slice(k + 1) : args[++i]; // the rest, or the next word
        if ((c === 'o' || c === 'O') && format(value)) return w;
        break;
      }
    }
  }
  return null;
}

/** Why a ps command shows other processes' environment under a grant without `environment: true`, or null. */
export function psEnvironmentReach(program: string, args: readonly string[], environment: boolean): string | null {
  if (program !== 'ps' || environment) return null;
  const word = psEnvironmentWord(args);
  if (word === null) return null;
  return `ps '${word}' (the BSD e modifier, or the environ column) prints every listed process's environment (/proc/PID/environ), which may hold secrets; this grant does not say environment: true.`;
}

/**
 * How wrappers (runners.ts WRAPPERS) read their own options, so that a deny rule finds the word
 * where the wrapped program stands (`sudo -u app ./x`, `timeout -s KILL 5 ./x`, `nice -n 5 ./x`)
 * and judges it as a program word (unjudged-code.ts). One table: short options that take a value
 * (attached or the next word), long ones that do (`--opt=v` or the next word), the options known
 * to take none, and how many operands come before the program (timeout's duration, flock's lock
 * file, chroot's folder). An option not listed makes the program word unknown: fail closed.
 * Options stop at the first operand (these wrappers use getopt with `+`, or parse by hand).
 */

interface WrapperModel {
  /** Short option letters that take a value. */
  values: string;
  /** Short option letters that take none. */
  flags: string;
  /** Short option letters whose value is optional: only glued (`-dX`), never the next word. */
  optional?: string;
  /** Long options (without `--`) that take a value. */
  longValues?: readonly string[];
  /** Long options that take none, or an optional value only when attached (`--opt[=value]`, never the next word). */
  longFlags?: readonly string[];
  /** Operands before the program; when a word there does not match `leadPattern`, it may be the program too. */
  lead?: number;
  leadPattern?: RegExp;
  /** `NAME=value` words before the program are assignments (env, sudo). */
  assignments?: boolean;
  /** `-N` (digits) is an option (nice -5, renice-style). */
  numeric?: boolean;
}

const HELP = ['help', 'version'];
/** `env -S 'PROG ARGS'` runs the program named inside its value (coreutils 9.1 runs `env -S './x a' y` as ./x). */
const SPLIT = (w: string): string => `env option -S (in '${w}') names the program inside its string, which Warden does not split`;
const MODELS: Readonly<Record<string, WrapperModel>> = {
  // sudo 1.9 (getopt `+Aa:BbC:c:D:Eeg:Hh::iKklNnPp:R:r:SsT:t:U:u:Vv`): -h alone is help, `-hHOST` glued names a
  // host (optional value), --host takes a value; --preserve-env[=list] only takes one attached.
  sudo: {
    values: 'ugpCrtUDTRac', flags: 'AbEeHiKklnPSsVvBN', optional: 'h', assignments: true,
    longValues: ['user', 'group', 'prompt', 'close-from', 'role', 'type', 'other-user', 'chdir', 'chroot', 'command-timeout', 'host', 'login-class', 'auth-type'],
    longFlags: ['askpass', 'background', 'bell', 'preserve-env', 'edit', 'set-home', 'login', 'remove-timestamp', 'reset-timestamp', 'list',
      'non-interactive', 'preserve-groups', 'stdin', 'shell', 'validate', ...HELP],
  },
  doas: { values: 'uC', flags: 'nsL' },
  // coreutils 9
  timeout: { values: 'sk', flags: 'vp', longValues: ['signal', 'kill-after'], longFlags: ['foreground', 'preserve-status', 'verbose', ...HELP], lead: 1, leadPattern: /^[0-9.]+[smhd]?$/ },
  nice: { values: 'n', flags: '', longValues: ['adjustment'], longFlags: HELP, numeric: true },
  stdbuf: { values: 'ioe', flags: '', longValues: ['input', 'output', 'error'], longFlags: HELP },
  env: {
    values: 'uCa', flags: 'i0v', assignments: true, longValues: ['unset', 'chdir', 'argv0'],
    longFlags: ['ignore-environment', 'null', 'debug', 'ignore-signal', 'default-signal', 'block-signal', 'list-signal-handling', ...HELP],
  },
  nohup: { values: '', flags: '', longFlags: HELP },
  // fakeroot 1.31 (usage text): [-l|--lib lib] [-f|--faked bin] [-i file] [-s file] [-u|--unknown-is-real] [-b|--fd-base fd] [-h] [-v] [--] [command]
  // -l/--lib (a library it preloads) and -f/--faked (a program it runs) run code of their own:
  // left out, so the program word becomes unknown.
  fakeroot: { values: 'isb', flags: 'uhv', longValues: ['fd-base'], longFlags: ['unknown-is-real', ...HELP] },
  // dbus-run-session 1.14: [--config-file FILE] [--] PROGRAM (checked: the next word is the file).
  // --dbus-daemon names a program it runs, so it is left out: the program word becomes unknown.
  'dbus-run-session': { values: '', flags: '', longValues: ['config-file'], longFlags: HELP },
  // tini 0.19 (usage text): tini [-hsvwgl] [-p SIGNAL] [-e EXIT_CODE] [--] PROGRAM [ARGS]
  tini: { values: 'pe', flags: 'hsvwgl', longFlags: ['version'] },
  chroot: { values: '', flags: '', longValues: ['groups', 'userspec'], longFlags: ['skip-chdir', ...HELP], lead: 1 },
  time: { values: 'fo', flags: 'apqvV', longValues: ['format', 'output'], longFlags: ['append', 'portability', 'quiet', 'verbose', ...HELP] },
  // util-linux 2.39
  ionice: { values: 'cnpPu', flags: 'tVh', longValues: ['class', 'classdata', 'pid', 'pgid', 'uid'], longFlags: ['ignore', ...HELP] },
  setsid: { values: '', flags: 'cfwVh', longFlags: ['ctty', 'fork', 'wait', ...HELP] },
  chrt: {
    values: 'TPD', flags: 'abdfiormpRvVh', lead: 1, leadPattern: /^-?[0-9]+$/,
    longValues: ['sched-runtime', 'sched-period', 'sched-deadline'],
    longFlags: ['all-tasks', 'batch', 'deadline', 'fifo', 'idle', 'other', 'rr', 'reset-on-fork', 'max', 'pid', 'verbose', 'ext', ...HELP],
  },
  taskset: { values: '', flags: 'acpVh', longFlags: ['all-tasks', 'cpu-list', 'pid', ...HELP], lead: 1, leadPattern: /^(0x)?[0-9a-fA-F,:-]+$/ },
  runuser: {
    values: 'ugGswc', flags: 'lmpPfVh', longValues: ['user', 'group', 'supp-group', 'shell', 'whitelist-environment', 'command', 'session-command'],
    longFlags: ['login', 'preserve-environment', 'pty', 'fast', ...HELP],
  },
  flock: {
    values: 'wEc', flags: 'sxeunoFVh', lead: 1, longValues: ['timeout', 'wait', 'conflict-exit-code', 'command'],
    longFlags: ['shared', 'exclusive', 'unlock', 'nonblock', 'nb', 'close', 'no-fork', 'verbose', ...HELP],
  },
  setpriv: { values: '', flags: '', longValues: ['reuid', 'regid', 'groups', 'inh-caps', 'ambient-caps', 'bounding-set', 'securebits', 'pdeathsig', 'selinux-label', 'apparmor-profile', 'landlock-access', 'landlock-rule', 'ruid', 'euid', 'rgid', 'egid'], longFlags: ['dump', 'keep-groups', 'clear-groups', 'init-groups', 'nnp', 'no-new-privs', 'reset-env', ...HELP] },
  // procps-ng watch 4: the program is shell text (`sh -c`), judged as a program word here.
  // `-d, --differences[=<permanent>]`: optional, so `watch -d ./x` runs ./x.
  watch: {
    values: 'nq', flags: 'bceprtwxgChv', optional: 'd', longValues: ['interval', 'equexit'],
    longFlags: ['differences', 'beep', 'color', 'no-color', 'errexit', 'precise', 'no-rerun', 'no-title', 'no-wrap', 'exec', 'chgexit', 'no-linewrap', ...HELP],
  },
  // strace 6 (getopt `+a:Ab:cCdDe:E:fFhiI:kno:O:p:P:qrs:S:tTu:U:vVwxX:yYzZ`), each long option checked against
  // strace 6.1: a required value may be the next word; `--quiet`, `--daemonize`, `--decode-fds`, the timestamp
  // options, `--strings-in-hex`, `--secontext`, `--tips` only take one attached (`=`).
  strace: {
    values: 'abeEIoOpPSsUuX', flags: 'AcCdDfFhiknqrtTvVwxyYzZ',
    longValues: ['output', 'signal', 'trace', 'status', 'user', 'attach', 'string-limit', 'summary-sort-by', 'summary-columns', 'summary-syscall-overhead',
      'trace-path', 'env', 'columns', 'detach-on', 'const-print-style', 'interruptible', 'kvm', 'inject', 'fault', 'silence', 'xlat-verbosity', 'abbrev',
      'verbose', 'raw', 'read', 'write', 'decode-pids', 'argv0'],
    longFlags: ['debug', 'always-show-pid', 'no-abbrev', 'seccomp-bpf', 'stack-traces', 'follow-forks', 'output-separately', 'output-append-mode',
      'summary', 'summary-only', 'summary-wall-clock', 'instruction-pointer', 'syscall-number', 'successful-only', 'failed-only',
      'quiet', 'daemonize', 'decode-fds', 'absolute-timestamps', 'timestamps', 'relative-timestamps', 'syscall-times', 'strings-in-hex', 'secontext', 'tips', ...HELP],
  },
  ltrace: { values: 'aAeEFlLnopsuwxXDb', flags: 'bcCfhiLrStTV', longValues: ['output', 'align', 'config', 'indent', 'library'], longFlags: ['demangle', 'no-signals', ...HELP] },
  // valgrind's options are all `--name=value` or `-q`/`-v`/`-s`.
  valgrind: { values: '', flags: 'qvsh', longValues: [], longFlags: HELP },
  command: { values: '', flags: 'pvV' },
  builtin: { values: '', flags: '' },
  exec: { values: 'a', flags: 'cl' },
  // util-linux 2.39 (checked with --help): a namespace option's file is optional, so only ever glued (`-mFILE`, `--mount=FILE`).
  unshare: {
    values: 'RwSG', flags: 'frcVh', optional: 'muinpUCT',
    longValues: ['map-user', 'map-group', 'map-users', 'map-groups', 'propagation', 'setgroups', 'root', 'wd', 'setuid', 'setgid', 'monotonic', 'boottime'],
    longFlags: ['mount', 'uts', 'ipc', 'net', 'pid', 'user', 'cgroup', 'time', 'fork', 'map-root-user', 'map-current-user', 'map-auto', 'kill-child', 'mount-proc', 'keep-caps', ...HELP],
  },
  nsenter: {
    values: 'tSGW', flags: 'aFZVh', optional: 'muinpCUTrw', longValues: ['target', 'setuid', 'setgid', 'wdns'],
    longFlags: ['all', 'mount', 'uts', 'ipc', 'net', 'pid', 'cgroup', 'user', 'time', 'root', 'wd', 'no-fork', 'follow-context', 'preserve-credentials', ...HELP],
  },
  // A resource option's limit is optional: `--nofile=1`, `-n1`, never the next word.
  prlimit: {
    values: 'po', flags: 'Vh', optional: 'cdefilmnqrstuvxy', longValues: ['pid', 'output'],
    longFlags: ['noheadings', 'raw', 'verbose', 'core', 'data', 'nice', 'fsize', 'sigpending', 'memlock', 'rss', 'nofile', 'msgqueue', 'rtprio', 'stack', 'cpu',
      'nproc', 'as', 'locks', 'rttime', ...HELP],
  },
  // systemd 252
  'systemd-inhibit': { values: '', flags: 'h', longValues: ['what', 'who', 'why', 'mode'], longFlags: ['no-pager', 'no-legend', 'list', ...HELP] },
  'systemd-cat': { values: 'tp', flags: 'h', longValues: ['identifier', 'priority', 'stderr-priority', 'level-prefix'], longFlags: HELP },
  // OpenSSH 9 (getopt `+cDdksE:a:O:P:t:`).
  'ssh-agent': { values: 'aEOPt', flags: 'cDdks' },
  pkexec: { values: '', flags: '', longValues: ['user'], longFlags: ['disable-internal-agent', 'keep-cwd', ...HELP] },
};

/**
 * Where, among the words after the wrapper `base`, its program may stand: indices to judge as a
 * program word (an unmatched lead word too, generously), `unknown` for an option this table does
 * not hold, or null for a wrapper it does not model (deny-runs.ts judges its first word).
 */
export function wrappedProgram(base: string, args: readonly string[]): { at: number[] } | { unknown: string } | null {
  const m = Object.hasOwn(MODELS, base) ? MODELS[base] : undefined;
  if (m === undefined) return null;
  let i = 0;
  for (; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      i++;
      break;
    }
    if (w === '-' && base === 'env') continue; // `env -` is `env -i`
    if (!w.startsWith('-') || w === '-') {
      if (m.assignments === true && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) continue;
      break;
    }
    if (m.numeric === true && /^-[-+]?[0-9]+$/.test(w)) continue; // nice -5, --5, -+5
    if (base === 'valgrind' && w.startsWith('--')) continue; // every long option of valgrind is `--name=value` or a flag
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq < 0 ? undefined : eq);
      if (base === 'env' && name === 'split-string') return { unknown: SPLIT(w) };
      if (m.longValues?.includes(name) === true) {
        if (eq < 0) i++;
      } else if (m.longFlags?.includes(name) !== true) return { unknown: `${base} option --${name} is not one Warden knows` };
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const ch = w[k] as string;
      if (base === 'env' && ch === 'S') return { unknown: SPLIT(w) };
      if (m.optional?.includes(ch) === true) break; // `-dX`: the rest of the word is its value, never the next word
      if (m.values.includes(ch)) {
        if (k === w.length - 1) i++;
        break;
      }
      if (!m.flags.includes(ch)) return { unknown: `${base} option -${ch} (in '${w}') is not one Warden knows` };
    }
  }
  while (m.assignments === true && i < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i] as string)) i++;
  const at: number[] = [];
  for (let n = 0; n < (m.lead ?? 0) && i < args.length; n++, i++) {
    if (m.leadPattern !== undefined && !m.leadPattern.test(args[i] as string)) at.push(i);
  }
  if (i < args.length) at.push(i);
  if (args[i] === '--' && i + 1 < args.length) at.push(i + 1); // `flock F -- CMD`: generously, the word after a late `--` too
  return { at };
}

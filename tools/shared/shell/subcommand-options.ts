/**
 * Which word of a command line is its subcommand. A `subcommands:` grant is only as good as
 * this answer: `systemctl -p status stop nginx` runs `stop` (`status` is the value of `-p`), so
 * "the first word that does not start with `-`" is wrong. Programs listed in SUBCOMMAND_OPTIONS
 * have their options before the subcommand modelled (which take a value, how they are spelled);
 * any other option (an unknown one, `--`, an option of an unmodelled program) makes the
 * subcommand undetermined, and the `shell:` condition then fails closed (no allow, deny matches).
 */

/** How one program reads the options before its subcommand. Why: only then can an option's value be told from the subcommand. */
interface SubcommandOptionTable {
  /** Options that never take a value from the next word (`-a`, `--no-pager`). */
  boolean: readonly string[];
  /** Options with a required value: the next word, unless attached (`-pX`, `--property=X`). */
  value: readonly string[];
  /**
   * Short option words. `getopt`: clusters such as `-ap X` (the value option takes the next
   * word). `attached`: cobra/pflag, whose command lookup never gives a cluster the next word,
   * while pflag does; a cluster ending in a value option is refused (`-nX`, `-n=X` are fine).
   * `exact`: each word is one option exactly as listed (git).
   */
  shorts: 'getopt' | 'attached' | 'exact';
  /** GNU getopt_long: an unambiguous prefix of a long option stands for it (`--prop`). */
  abbreviations?: boolean;
  /**
   * apt-pkg's CommandLine quirks. A boolean option eats a following yes/no/true/false/on/off/0/1
   * and a level option (`-q`, listed as boolean) a following number, so such a word after them
   * is refused; `-o=` and `--opt=` take the next word; an `items` value whose only `=` ends it
   * (`-o Foo=`) takes one more word.
   */
  apt?: { items: readonly string[] };
}

// systemctl(1): systemd v252 `systemctl --help` on this machine, and src/systemctl/systemctl.c (getopt
// string "ht:p:P:alqfs:H:M:n:o:iTr.::", permuting) up to v258 (--capsule/-C, --kill-value, --kill-subgroup,
// --drop-in, --when, ...). Older releases spell --kill-whom as --kill-who.
const SYSTEMCTL: SubcommandOptionTable = {
  boolean: [
    '-h', '--help', '--version', '--system', '--user', '--global', '-a', '--all', '-l', '--full', '-r', '--recursive', '--reverse',
    '--after', '--before', '--with-dependencies', '-T', '--show-transaction', '--show-types', '--value', '-i', '--ignore-inhibitors',
    '--failed', '--fail', '--irreversible', '--ignore-dependencies', '--now', '--dry-run', '-q', '--quiet', '--no-warn', '--wait',
    '--no-block', '--no-wall', '--no-reload', '--no-legend', '--no-pager', '--no-ask-password', '--runtime', '-f', '--force',
    '--firmware-setup', '--plain', '--read-only', '--mkdir', '--marked', '--stdin',
  ],
  value: [
    '-t', '--type', '-p', '--property', '-P', '-s', '--signal', '-H', '--host', '-M', '--machine', '-n', '--lines', '-o', '--output',
    '-C', '--capsule', '--state', '--job-mode', '--check-inhibitors', '--kill-whom', '--kill-who', '--kill-value', '--kill-subgroup',
    '--what', '--legend', '--preset-mode', '--root', '--image', '--image-policy', '--boot-loader-menu', '--boot-loader-entry',
    '--timestamp', '--message', '--reboot-argument', '--drop-in', '--when',
  ],
  shorts: 'getopt',
  abbreviations: true,
};

// git(1) handle_options() in git.c (2.39 to 2.47): exact words only, no clusters, no abbreviations.
// `-h`/`--help`/`-v`/`--version` end the options and become the command, so they are left out (refused).
const GIT: SubcommandOptionTable = {
  boolean: [
    '-p', '--paginate', '-P', '--no-pager', '--bare', '--no-replace-objects', '--no-lazy-fetch', '--literal-pathspecs',
    '--no-literal-pathspecs', '--glob-pathspecs', '--noglob-pathspecs', '--icase-pathspecs', '--no-optional-locks', '--no-advice',
    '--exec-path', '--html-path', '--man-path', '--info-path',
  ],
  value: ['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--shallow-file', '--attr-source', '--super-prefix'],
  shorts: 'exact',
};

// docker(1) global options (Docker 28 `docker --help` on this machine); cobra/pflag, no abbreviations.
const DOCKER: SubcommandOptionTable = {
  boolean: ['-D', '--debug', '--tls', '--tlsverify', '-v', '--version'],
  value: ['--config', '-c', '--context', '-H', '--host', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey'],
  shorts: 'attached',
};

// podman(1) global options (podman 4 and 5); cobra/pflag. Docker-compatible spellings take a value too.
const PODMAN: SubcommandOptionTable = {
  boolean: ['-r', '--remote', '--syslog', '--transient-store', '--noout', '-v', '--version'],
  value: [
    '-c', '--connection', '--url', '-H', '--host', '--context', '--config', '--identity', '--log-level', '--root', '--runroot',
    '--runtime', '--runtime-flag', '--storage-driver', '--storage-opt', '--cgroup-manager', '--conmon', '--events-backend',
    '--hooks-dir', '--imagestore', '--module', '--network-cmd-path', '--network-config-dir', '--out', '--ssh', '--tmpdir',
    '--volumepath', '--cdi-spec-dir', '--db-backend',
  ],
  shorts: 'attached',
};

// kubectl(1) `kubectl options` (v1.32 on this machine), plus -l/-o/-c of its subcommands: cobra's command
// lookup gives every option unknown to the root command the next word, as pflag does for these.
const KUBECTL: SubcommandOptionTable = {
  boolean: ['--disable-compression', '--insecure-skip-tls-verify', '--match-server-version', '--warnings-as-errors'],
  value: [
    '-n', '--namespace', '--context', '--cluster', '--user', '-s', '--server', '--kubeconfig', '--as', '--as-group', '--as-uid',
    '--cache-dir', '--certificate-authority', '--client-certificate', '--client-key', '--log-flush-frequency', '--password',
    '--profile', '--profile-output', '--request-timeout', '--tls-server-name', '--token', '--username', '-v', '--v', '--vmodule',
    '-l', '--selector', '-o', '--output', '-c', '--container',
  ],
  shorts: 'attached',
};

// apt-get(8)/apt(8): apt-pkg's CommandLine (options anywhere; clusters; a value option at the end of a word
// takes the next word). `-a` is --host-architecture for apt-get but --all-versions (boolean) for `apt list`,
// so apt leaves it out (refused).
const APT_BOOLEANS = [
  '-h', '--help', '-v', '--version', '-y', '--yes', '--assume-yes', '--assume-no', '-s', '--simulate', '--just-print', '--dry-run',
  '--recon', '--no-act', '-d', '--download-only', '-f', '--fix-broken', '-m', '--ignore-missing', '--fix-missing', '-u',
  '--show-upgraded', '-V', '--verbose-versions', '-b', '--compile', '--build', '--no-install-recommends', '--install-recommends',
  '--install-suggests', '--no-install-suggests', '--reinstall', '--purge', '--auto-remove', '--autoremove', '--allow-downgrades',
  '--allow-remove-essential', '--allow-change-held-packages', '--allow-unauthenticated', '--no-upgrade', '--only-upgrade',
  '--print-uris', '--fix-policy', '--no-download', '--ignore-hold', '--trivial-only', '--no-remove', '--force-yes',
];
const APT_LEVELS = ['-q', '--quiet', '--silent']; // integer levels: `-qq`, `-q2`, `--quiet=2`
const APT_VALUES = ['-o', '--option', '-c', '--config-file', '-t', '--target-release', '--default-release', '-P', '--build-profiles'];
const APT: SubcommandOptionTable = {
  boolean: [...APT_BOOLEANS, ...APT_LEVELS], value: APT_VALUES, shorts: 'getopt', apt: { items: ['-o', '--option'] },
};
const APT_GET: SubcommandOptionTable = { ...APT, value: [...APT_VALUES, '-a', '--host-architecture'] };

/**
 * Per-program tables of the options before the subcommand. Why a fixed table: only a program
 * whose options are all known can have its subcommand told apart from an option's value.
 */
const SUBCOMMAND_OPTIONS: Readonly<Record<string, SubcommandOptionTable>> = {
  systemctl: SYSTEMCTL,
  git: GIT,
  docker: DOCKER,
  podman: PODMAN,
  kubectl: KUBECTL,
  apt: APT,
  'apt-get': APT_GET,
};

/** The options `program` reads before its subcommand (which take a value), or undefined when not modelled. */
export function rootOptions(program: string): { boolean: readonly string[]; value: readonly string[] } | undefined {
  return Object.hasOwn(SUBCOMMAND_OPTIONS, program) ? SUBCOMMAND_OPTIONS[program] : undefined;
}

/**
 * Where the subcommand is: the word, none at all (`systemctl`, `kubectl -n x`), or undetermined
 * with the reason. Why three cases: a deny rule must treat "undetermined" as a match and
 * "none" as no match.
 */
export type SubcommandResult =
  | { kind: 'word'; word: string }
  | { kind: 'none' }
  | { kind: 'undetermined'; why: string };

type Step = { take: 0 | 1 } | { unknown: string };

const SENSE = new Set(['yes', 'true', 'with', 'on', 'enable', 'no', 'false', 'without', 'off', 'disable']);
/** Would apt's CommandLine read this word as the value of a boolean or level option? */
function aptEats(word: string): boolean {
  return SENSE.has(word.toLowerCase()) || /^\s*[+-]?\d/.test(word);
}

function arity(t: SubcommandOptionTable, opt: string): 'boolean' | 'value' | null {
  if (t.value.includes(opt)) return 'value';
  if (t.boolean.includes(opt)) return 'boolean';
  return null;
}

/** A value option with its value (attached, or the next word): how many words it takes. */
function valueStep(t: SubcommandOptionTable, opt: string, attached: string | null, next: string | undefined): Step {
  const v = attached ?? next;
  if (t.apt?.items.includes(opt) === true && v !== undefined && v.indexOf('=') === v.length - 1) {
    return { unknown: `apt reads one more word after ${opt} ${v}` };
  }
  return { take: attached === null ? 1 : 0 };
}

function aptCheck(t: SubcommandOptionTable, opt: string, next: string | undefined): Step {
  if (t.apt !== undefined && next !== undefined && !next.startsWith('-') && aptEats(next)) {
    return { unknown: `apt may read '${next}' as the value of ${opt}` };
  }
  return { take: 0 };
}

function longStep(t: SubcommandOptionTable, word: string, next: string | undefined): Step {
  const eq = word.indexOf('=');
  const name = eq < 0 ? word : word.slice(0, eq);
  let kind = arity(t, name);
  if (kind === null && t.abbreviations === true && name.length > 2) {
    const kinds = new Set([...t.boolean, ...t.value].filter((o) => o.startsWith(name)).map((o) => arity(t, o)));
    if (kinds.size === 1) kind = [...kinds][0] ?? null;
    else if (kinds.size > 1) return { unknown: `option ${name} is an ambiguous abbreviation` };
  }
  if (kind === null) return { unknown: `option ${name} is not one Warden knows` };
  // apt reads `--opt=` (nothing after `=`) as `--opt` followed by its value word.
  const attached = eq < 0 || (t.apt !== undefined && eq === word.length - 1) ? null : word.slice(eq + 1);
  if (kind === 'value') return valueStep(t, name, attached, next);
  return attached === null ? aptCheck(t, name, next) : { take: 0 };
}

function shortStep(t: SubcommandOptionTable, word: string, next: string | undefined): Step {
  if (t.shorts === 'exact') {
    const kind = arity(t, word);
    if (kind === null) return { unknown: `option ${word} is not one Warden knows` };
    return kind === 'value' ? valueStep(t, word, null, next) : { take: 0 };
  }
  for (let k = 1; k < word.length; k++) {
    const opt = `-${word[k] as string}`;
    const rest = word.slice(k + 1);
    const kind = arity(t, opt);
    if (kind === null) return { unknown: `option ${opt} (in '${word}') is not one Warden knows` };
    if (kind === 'value') {
      if (k > 1 && rest.length === 0 && t.shorts === 'attached') return { unknown: `'${word}' ends in ${opt}, and cobra and pflag disagree on whether it takes the next word` };
      // getopt, apt and pflag read `-pX` as X and `-p=X` as `=X` or X: one word either way; apt reads `-p=` as `-p`.
      const bare = rest.length === 0 || (t.apt !== undefined && rest === '=');
      return valueStep(t, opt, bare ? null : rest.replace(/^=/, ''), next);
    }
    if (t.apt !== undefined) {
      if (rest.length > 0 && aptEats(rest)) return { take: 0 };
      if (rest.length === 0) return aptCheck(t, opt, next);
    }
  }
  return { take: 0 };
}

/**
 * The subcommand of one command: the first operand once the options before it (and their
 * values) are skipped. Why it refuses rather than guesses: a guess that takes an option's
 * value for the subcommand lets `systemctl -p status stop` pass as `status`.
 */
export function findSubcommand(program: string, args: readonly string[]): SubcommandResult {
  const found = locateSubcommand(program, args);
  return found.kind === 'word' ? { kind: 'word', word: args[found.at] as string } : found;
}

/** findSubcommand with the subcommand's index among `args` (exec-hops.ts reads the words after it). */
export function locateSubcommand(program: string, args: readonly string[]): { kind: 'word'; at: number } | Exclude<SubcommandResult, { kind: 'word' }> {
  const table = Object.hasOwn(SUBCOMMAND_OPTIONS, program) ? SUBCOMMAND_OPTIONS[program] : undefined;
  const undetermined = (why: string): { kind: 'undetermined'; why: string } => ({ kind: 'undetermined', why: `cannot tell the subcommand of ${program}: ${why}` });
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (!w.startsWith('-') || w === '-') return { kind: 'word', at: i };
    if (w === '--') return undetermined(`'--' stands before it`);
    if (table === undefined) return undetermined(`option ${w} stands before it, and Warden does not model ${program}'s options`);
    const step = w.startsWith('--') ? longStep(table, w, args[i + 1]) : shortStep(table, w, args[i + 1]);
    if ('unknown' in step) return undetermined(step.unknown);
    i += step.take;
  }
  return { kind: 'none' };
}

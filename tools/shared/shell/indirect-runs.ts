/**
 * Runners that put words the line does not spell into what they run: find's `{}` and xargs'
 * replacement string (a file name or an input line), xargs appending input words, strace's
 * `-o |cmd`, a builtin's callback (`mapfile -C`, `compgen -C`), crontab reading a table,
 * coreutils' `--coreutils-prog=NAME`. A deny rule reads them with deny-runs.ts.
 */

const FIND_EXEC = /^-(exec|execdir|ok|okdir)$/;
/** xargs' short options whose value is the rest of the word or the next word (-e, -l, -i take only an attached one). */
const XARGS_VALUES = 'adELnPsI';
/** xargs' long options that take the next word as their value when written without `=`. */
const XARGS_LONG_VALUES = ['arg-file', 'delimiter', 'max-args', 'max-procs', 'max-chars', 'process-slot-var'];

/** xargs' options: its replacement strings, whether it reads an argument file, where its command starts. */
function xargsOptions(args: readonly string[]): { marks: string[]; file: boolean; start: number } {
  const marks: string[] = [];
  let file = false;
  let i = 0;
  for (; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      i++;
      break;
    }
    if (!w.startsWith('-') || w === '-') break;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq < 0 ? undefined : eq);
      if (name.length >= 3 && 'replace'.startsWith(name)) marks.push(eq < 0 ? '{}' : w.slice(eq + 1));
      if (name.length >= 2 && 'arg-file'.startsWith(name)) file = true;
      if (eq < 0 && XARGS_LONG_VALUES.some((o) => name.length >= 2 && o.startsWith(name))) i++;
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const ch = w[k] as string;
      const rest = w.slice(k + 1);
      if (ch === 'i') marks.push(rest === '' ? '{}' : rest);
      if (ch === 'a') file = true;
      if (ch === 'I') marks.push(rest === '' ? (args[i + 1] ?? '') : rest);
      if (XARGS_VALUES.includes(ch) && rest === '') i++;
      if (XARGS_VALUES.includes(ch) || 'eli'.includes(ch)) break;
    }
  }
  return { marks: marks.filter((m) => m !== ''), file, start: i };
}

/** What a runner fills in (see fillsIn). */
export interface FillsIn {
  /** Strings it replaces with words Warden cannot see (a file name, an input line). */
  marks: string[];
  /** It adds such words after the command it runs. */
  appends: boolean;
  /** Where, among its words, a command it runs starts. */
  starts: number[];
}

/**
 * What find, xargs or parallel fill in, or null for any other runner. xargs fills in only from a
 * feed (`fed`: the line gives it standard input) or an argument file; parallel also from its
 * `:::` words, so always (generously: its replacement strings all start with `{`).
 */
export function fillsIn(base: string, args: readonly string[], fed: boolean): FillsIn | null {
  if (base === 'find') {
    const starts = args.flatMap((a, i) => (FIND_EXEC.test(a) ? [i + 1] : []));
    return starts.length > 0 ? { marks: ['{}'], appends: false, starts } : null;
  }
  if (base === 'xargs') {
    const o = xargsOptions(args);
    return !fed && !o.file ? null : { marks: o.marks, appends: o.marks.length === 0, starts: [o.start] };
  }
  if (base === 'parallel' || base === 'sem') return { marks: ['{'], appends: true, starts: [Math.max(0, args.findIndex((a) => !a.startsWith('-')))] };
  return null;
}

/** The command strace's `-o |cmd` or `-o !cmd` pipes its trace to (generously: any word starting with `|` or `!`). */
export function straceCommands(args: readonly string[]): string[] {
  return args.map((w) => w.replace(/^(-[A-Za-z]*o|--output=?)/, '')).filter((v) => /^[|!]/.test(v)).map((v) => v.slice(1));
}

/** Builtins that run a callback given with -C: mapfile/readarray per line read, compgen (and complete's) to list completions. */
const CALLBACKS = new Set(['mapfile', 'readarray', 'compgen', 'complete']);

/** The shell text `base`'s -C option runs (`-C X`, `-tC X`, `-CX`), or none. */
export function callbackTexts(base: string, args: readonly string[]): string[] {
  if (!CALLBACKS.has(base)) return [];
  const out: string[] = [];
  args.forEach((w, i) => {
    const m = /^-[A-Za-z]*C(.*)$/s.exec(w);
    if (m === null) return;
    const text = m[1] === '' ? args[i + 1] : m[1];
    if (text !== undefined) out.push(text);
  });
  return out;
}

/** What crontab installs: a table from standard input (no operand or `-`), from a file (its operand), or nothing (-l, -r, -e). */
export function crontabTable(args: readonly string[]): 'stdin' | { file: string } | null {
  let operand: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      operand = args[i + 1];
      break;
    }
    if (w === '-' || !w.startsWith('-')) {
      operand = w;
      break;
    }
    if (/^-[A-Za-z]*[lre]/.test(w)) return null;
    if (/^-[A-Za-z]*[un]$/.test(w)) i++; // -u USER, -n HOST
  }
  return operand === undefined || operand === '-' ? 'stdin' : { file: operand };
}

/** Does crontab install a table from standard input? */
export function crontabFromStdin(args: readonly string[]): boolean {
  return crontabTable(args) === 'stdin';
}

/** Where xargs' command starts among its words. */
export function xargsStart(args: readonly string[]): number {
  return xargsOptions(args).start;
}

/** The program a word names after coreutils (`--coreutils-prog=rm` is rm), or the word itself. */
export function multiCallName(via: string | undefined, word: string): string {
  return via === 'coreutils' ? word.replace(/^--coreutils-prog(-shebang)?=/, '') : word;
}

/** socat's address types that run a program or a shell command (`EXEC:cmd`, `SYSTEM:cmd`, socat 1.8's `SHELL:cmd`). */
const SOCAT_RUNS = new Set(['exec', 'system', 'shell']);

/**
 * The word of a socat command whose address runs a program (`socat - EXEC:id`, `SYSTEM:'..'`,
 * `TCP-LISTEN:9!!EXEC:sh`), or null. Generously: every word counts (an option's value too), a
 * word is split into its addresses at `!!` (dual) and `|` (socat 1.8 chains), quotes and
 * backslashes are dropped, and the address type, read up to `:` or `,`, in any case.
 */
export function socatRun(args: readonly string[]): string | null {
  for (const w of args) {
    for (const address of w.split(/!!|\|/)) {
      const type = address.replace(/["'\\]/g, '').trimStart().split(/[:,]/, 1)[0] as string;
      if (SOCAT_RUNS.has(type.trim().toLowerCase())) return w;
    }
  }
  return null;
}

/** GnuPG's programs that show photo IDs. */
const GPGS = new Set(['gpg', 'gpg2', 'gpg1']);

/**
 * The word of a gpg command that shows a photo ID, which runs the photo viewer (a shell command,
 * perhaps set in gpg.conf), or null: `--list-options show-photos`, `--verify-options=show-photos`
 * (gpg takes any unambiguous prefix, in any case: `show-ph`) or the edit command `showphoto`.
 * Generously: any word, split at blanks, commas and `=`.
 */
export function gpgPhoto(base: string, args: readonly string[]): string | null {
  if (!GPGS.has(base)) return null;
  for (const w of args) {
    for (const token of w.toLowerCase().replace(/_/g, '-').split(/[\s,=]+/)) {
      if ((token.length >= 7 && 'show-photos'.startsWith(token)) || token.startsWith('showphoto')) return w;
    }
  }
  return null;
}

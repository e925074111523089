/**
 * Inspection of the small languages that allowed text tools embed: sed scripts and awk
 * programs can run commands or write files. Anything not understood counts as dangerous. This
 * module reads sed's and awk's options; sed scripts are scanned by sed-script.ts and awk
 * programs by awk-program.ts.
 */
import { awkProgramDanger } from './awk-program.js';
import { sedScriptDanger } from './sed-script.js';
import { AWKS } from './runners.js';

/**
 * What sed's options say: its scripts, the first option that edits or reads files, whether one
 * reads a script file, and whether an option is not one known to keep what sed prints (--debug,
 * --sandbox, -f, an unknown or ambiguous one: whole-lines.ts then judges nothing).
 */
export interface SedOptions {
  scripts: string[];
  fileOption: string | null;
  scriptFile: boolean;
  unjudged: boolean;
}

/** sed options that change nothing in what is printed (their value-taking kin: -e, -l, -i, -f). */
const SED_SHORT = new Set(['n', 'E', 'r', 's', 'u', 'z']);
const SED_LONG = ['quiet', 'silent', 'regexp-extended', 'separate', 'unbuffered', 'null-data', 'posix', 'expression', 'in-place', 'line-length'];

/** The one sed option reader: scripts given with -e/--expression, or the first operand; -i/-f in every spelling. */
export function sedOptions(args: readonly string[]): SedOptions {
  const out: SedOptions = { scripts: [], fileOption: null, scriptFile: false, unjudged: false };
  const file = (option: string, script: boolean): void => {
    out.fileOption ??= option;
    out.scriptFile ||= script;
  };
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, value] = [a.slice(2).split('=', 1)[0] as string, a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined];
      const hits = SED_LONG.filter((o) => o.startsWith(name));
      if (name.length === 0 || (!SED_LONG.includes(name) && hits.length !== 1)) out.unjudged = true;
      if (name.length > 0 && 'in-place'.startsWith(name)) file(`--${name}`, false);
      else if (name.length > 0 && 'file'.startsWith(name)) {
        file(`--${name}`, true);
        if (value === undefined) i++;
      } else if (name.length > 0 && 'expression'.startsWith(name)) out.scripts.push(value ?? args[++i] ?? '');
      else if (name.length > 0 && 'line-length'.startsWith(name) && value === undefined) i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const ch = a[k] as string;
        if (ch === 'i') {
          file('-i', false); // the rest of the word is the backup suffix
          break;
        }
        if (ch === 'e' || ch === 'l' || ch === 'f') {
          const v = k + 1 < a.length ? a.slice(k + 1) : (args[++i] ?? '');
          if (ch === 'e') out.scripts.push(v);
          if (ch === 'f') file('-f', true);
          break;
        }
        if (!SED_SHORT.has(ch)) out.unjudged = true;
      }
      continue;
    }
    operands.push(a);
  }
  if (out.scripts.length === 0 && operands[0] !== undefined) out.scripts.push(operands[0]);
  return out;
}

/** Why sed is dangerous: -i/-f in any spelling, or a dangerous script (sedScriptDanger); null if it is not. */
export function sedDanger(args: readonly string[]): string | null {
  const o = sedOptions(args);
  if (o.fileOption !== null) return `sed ${o.fileOption} edits or reads files`;
  if (o.scripts.length === 0) return 'sed without a script';
  // GNU sed carries unfinished a/i/c text (`-e 'a\' -e 'more'`) into the next -e: joining the
  // scripts with newlines reads it the same way.
  return sedScriptDanger(o.scripts.join('\n'));
}

/** Why sed may run a command or touch other files (a script file, e/w/r commands; -i does neither), or null. */
export function sedExecDanger(args: readonly string[]): string | null {
  const o = sedOptions(args);
  if (o.scriptFile) return 'sed reads its script from a file';
  if (o.scripts.length === 0) return 'sed without a script';
  return sedScriptDanger(o.scripts.join('\n'));
}

/** gawk/mawk/busybox short options that neither load code nor touch files. */
const AWK_SAFE_SHORT = new Set(['b', 'c', 'C', 'h', 'M', 'n', 'N', 'O', 'P', 'r', 's', 'S', 't', 'V']);
/** Long options that neither load code nor touch files (values: field-separator, assign). */
const AWK_SAFE_LONG = new Set([
  'field-separator', 'assign', 'characters-as-bytes', 'traditional', 'copyright', 'help', 'usage', 'non-decimal-data', 'use-lc-numeric',
  'optimize', 'no-optimize', 'posix', 're-interval', 'sandbox', 'lint', 'lint-old', 'version', 'bignum', 'csv',
]);
/** Long options that load code, write files or run a debugger (gawk, mawk), known so that no abbreviation slips through (source: program text, checked). */
const AWK_UNSAFE_LONG = [
  'file', 'exec', 'include', 'load', 'debug', 'dump-variables', 'dump', 'pretty-print', 'profile', 'gen-pot', 'trace', 'persist',
  'parsedebug', 'nostalgia', 'interactive', 'sprintf', 'random', 'posix_space', 'locale', 'source',
];
const AWK_KNOWN_LONG = [...AWK_SAFE_LONG, ...AWK_UNSAFE_LONG];

/**
 * Awk: the program texts (the first operand unless -e/--source came before it, and every
 * -e/--source value: busybox awk also takes options after operands) are checked with
 * awkProgramDanger; an option that is not known to be harmless is refused (-f, -E, -i, -l, -W,
 * -d, -o, -p, ... in every spelling: clusters such as `-bf`, abbreviations such as `--ex`).
 */
export function awkDanger(args: string[]): string | null {
  const programs: string[] = [];
  let sawSource = false;
  let firstOperand: string | undefined;
  let ended = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (ended || a === '-' || !a.startsWith('-')) {
      if (firstOperand === undefined) {
        firstOperand = a;
        if (!sawSource) programs.push(a);
      }
      continue;
    }
    if (a === '--') {
      ended = true;
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const matches = AWK_KNOWN_LONG.includes(name) ? [name] : AWK_KNOWN_LONG.filter((o) => o.startsWith(name));
      const opt = matches.length === 1 ? (matches[0] as string) : undefined;
      if (opt === undefined) return `awk option --${name} is ${matches.length === 0 ? 'not one Warden knows' : 'an ambiguous abbreviation'}`;
      if (opt === 'source') {
        sawSource = true;
        programs.push(eq < 0 ? (args[++i] ?? '') : a.slice(eq + 1));
        continue;
      }
      if (!AWK_SAFE_LONG.has(opt)) return `awk --${opt} loads program code, writes files or runs a debugger`;
      if (eq < 0 && (opt === 'field-separator' || opt === 'assign')) i++;
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const ch = a[k] as string;
      if (ch === 'F' || ch === 'v' || ch === 'e') {
        const value = k + 1 < a.length ? a.slice(k + 1) : (args[++i] ?? '');
        if (ch === 'e') {
          sawSource = true;
          programs.push(value);
        }
        break;
      }
      if (!AWK_SAFE_SHORT.has(ch)) return `awk -${ch} (in '${a}') loads program code, writes files or is not an option Warden knows`;
    }
  }
  if (programs.length === 0) return 'awk without a program';
  for (const p of programs) {
    const d = awkProgramDanger(p);
    if (d !== null) return d;
  }
  return null;
}

/**
 * Why an awk command reads the environment, or null: its program names `ENVIRON`, the array of
 * the remote environment (a database URL, a token), as jq's `env` does (jq-program.ts). Refused
 * unless the grant says `environment: true` (condition.ts). Generous: `ENVIRON` in any word
 * (an operand, a -v value, string text) counts, with backslash-newlines dropped.
 */
export function awkEnvironmentReach(program: string, args: readonly string[], environment: boolean): string | null {
  if (environment || !AWKS.has(program)) return null;
  const word = args.find((a) => /\bENVIRON\b/.test(a.replace(/\\\n/g, '')));
  return word === undefined ? null : `${program} reads the environment (ENVIRON), which may hold secrets; this grant does not say environment: true.`;
}

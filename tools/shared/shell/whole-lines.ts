/**
 * Which sed scripts, awk programs and jq invocations print the text they read as it is, so that
 * output masking still sees each secret's name beside its value (rewriters.ts): a sed script
 * made only of addresses and p, d, q, Q, =, n, { } and ! (`sed -n '1,5p'`, `sed '/^#/d'`); an
 * awk program made only of patterns that read (NR, FNR, NF, FILENAME, fields, literals,
 * comparisons, regex matches) with no action or `{ print }` / `{ print $0 }`, with no option but
 * -F and no `NAME=value` operand (`awk -v RS== 1` would split each line at its `=`); jq and its
 * kin with the filter `.` and only options that keep the document (-c, -S, -M, -C, --tab, -e,
 * -s). Anything else, or anything not read with certainty, is not whole lines (fail closed).
 */
import { JQ_FAMILY } from './jq-program.js';

/** sed options that change nothing in what is printed (their value-taking kin: -e, -l, -i). */
const SED_SHORT = new Set(['n', 'E', 'r', 's', 'u', 'z']);
const SED_LONG = ['quiet', 'silent', 'regexp-extended', 'separate', 'unbuffered', 'null-data', 'posix', 'expression', 'in-place', 'line-length'];

/** The scripts of a sed command if its options are all ones that keep lines, else null. */
function sedScripts(args: readonly string[]): string[] | null {
  const scripts: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const hits = SED_LONG.filter((o) => o.startsWith(name));
      const opt = SED_LONG.includes(name) ? name : hits.length === 1 ? hits[0] : undefined;
      // --debug, --file, --sandbox, an unknown or ambiguous option: not judged.
      if (name.length === 0 || opt === undefined) return null;
      if (opt === 'expression') scripts.push(eq < 0 ? (args[++i] ?? '') : a.slice(eq + 1));
      else if (opt === 'line-length' && eq < 0) i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const ch = a[k] as string;
        if (ch === 'i') break; // the rest is the backup suffix
        if (ch === 'e' || ch === 'l') {
          const v = k + 1 < a.length ? a.slice(k + 1) : (args[++i] ?? '');
          if (ch === 'e') scripts.push(v);
          break;
        }
        if (!SED_SHORT.has(ch)) return null; // -f (a script file), unknown letters
      }
      continue;
    }
    operands.push(a);
  }
  if (scripts.length === 0 && operands[0] !== undefined) scripts.push(operands[0]);
  return scripts.length === 0 ? null : scripts;
}

/**
 * Where a regex address that opens at `start` (its delimiter) ends, or -1. A bracket expression
 * may not hold the delimiter, a backslash or a newline: then every sed ends the regex at the
 * same place whether or not it reads a delimiter inside brackets as the end.
 */
function regexEnd(s: string, start: number, delim: string): number {
  let j = start + 1;
  for (;;) {
    const c = s[j];
    if (c === undefined || c === '\n') return -1;
    if (c === delim) return j + 1;
    if (c === '\\') {
      const n = s[j + 1];
      if (n === undefined || n === '\n') return -1;
      j += 2;
      continue;
    }
    if (c === '[') {
      j++;
      if (s[j] === '^') j++;
      if (s[j] === ']') j++;
      for (;;) {
        const b = s[j];
        if (b === undefined || b === '\n' || b === '\\' || b === delim) return -1;
        j++;
        if (b === ']') break;
      }
      continue;
    }
    j++;
  }
}

/** Whether a sed script only selects, deletes or numbers whole lines (see the module comment). */
export function sedPrintsWholeLines(args: readonly string[]): boolean {
  const scripts = sedScripts(args);
  if (scripts === null) return false;
  const s = scripts.join('\n');
  if (/[^\t\n\x20-\x7e]/.test(s)) return false;
  let i = 0;
  const blanks = (): void => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  /** One address (the second of a range: `+N` and `~N` too); false when none or not judged. */
  const address = (second: boolean): boolean => {
    const c = s[i];
    if (c === undefined) return false;
    if (/[0-9]/.test(c)) {
      while (/[0-9]/.test(s[i] ?? '')) i++;
      if (!second && s[i] === '~') for (i++; /[0-9]/.test(s[i] ?? ''); ) i++;
      return true;
    }
    if (second && (c === '+' || c === '~')) {
      i++;
      const from = i;
      while (/[0-9]/.test(s[i] ?? '')) i++;
      return i > from;
    }
    if (c === '$') {
      i++;
      return true;
    }
    let delim = c;
    let open = i;
    if (c === '\\') {
      delim = s[i + 1] ?? '';
      if (delim === '' || delim === '\n' || delim === '\\') return false;
      open = i + 1;
    } else if (c !== '/') return false;
    const end = regexEnd(s, open, delim);
    if (end < 0) return false;
    i = end;
    while (s[i] === 'I' || s[i] === 'M') i++;
    return true;
  };
  for (;;) {
    while (i < s.length && /[ \t\n;]/.test(s[i] as string)) i++;
    if (i >= s.length) return true;
    if (s[i] === '}') {
      i++;
      continue;
    }
    const start = i;
    if (address(false)) {
      blanks();
      if (s[i] === ',') {
        i++;
        blanks();
        if (!address(true)) return false;
      }
    } else i = start;
    blanks();
    while (s[i] === '!') {
      i++;
      blanks();
    }
    const cmd = s[i++];
    if (cmd === '{') continue;
    if (cmd === undefined || !'pdqQ=n'.includes(cmd)) return false;
    blanks();
    if (cmd === 'q' || cmd === 'Q') {
      while (/[0-9]/.test(s[i] ?? '')) i++;
      blanks();
    }
    if (i < s.length && !/[;\n}]/.test(s[i] as string)) return false;
  }
}

/** A double-quoted awk string at `i`: the index after it, or -1. */
function awkStringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\n') return -1;
    if (c === '"') return j + 1;
    if (c === '\\') j++;
  }
  return -1;
}

/** Names an awk pattern may read: none of them changes a line or the way lines are read. */
const AWK_READ_NAMES = new Set(['NR', 'FNR', 'NF', 'FILENAME']);
/** An awk action that prints the record as read (or nothing). */
const AWK_WHOLE_ACTION = /^\{[ \t]*(?:print(?:[ \t]+\$0)?[ \t]*;?[ \t]*)?\}/;

/** Whether one awk program text only selects whole records (see the module comment). */
function awkProgramWhole(s: string): boolean {
  if (/[^\t\n\x20-\x7e]/.test(s)) return false;
  let i = 0;
  let operand = false; // was the last token an operand (then `/` would divide)?
  while (i < s.length) {
    const c = s[i] as string;
    const two = s.slice(i, i + 2);
    if (c === ' ' || c === '\t' || c === '\n' || c === ';') {
      if (c !== ' ' && c !== '\t') operand = false;
      i++;
      continue;
    }
    if (c === '{') {
      const m = AWK_WHOLE_ACTION.exec(s.slice(i));
      if (m === null) return false;
      i += m[0].length;
      operand = false;
      continue;
    }
    if (c === '"') {
      i = awkStringEnd(s, i);
      if (i < 0) return false;
      operand = true;
      continue;
    }
    if (c === '/') {
      if (operand) return false; // a division, or a regex some awk reads otherwise
      const end = regexEnd(s, i, '/');
      if (end < 0) return false;
      i = end;
      operand = true;
      continue;
    }
    const num = /^[0-9]+(?:\.[0-9]+)?/.exec(s.slice(i));
    if (num !== null) {
      i += num[0].length;
      operand = true;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (name !== null) {
      if (!AWK_READ_NAMES.has(name[0])) return false; // functions (sub, getline), variables, BEGIN/END
      i += name[0].length;
      operand = true;
      continue;
    }
    if (two === '==' || two === '!=' || two === '<=' || two === '>=' || two === '&&' || two === '||' || two === '!~') {
      i += 2;
      operand = false;
      continue;
    }
    if (two === '++' || two === '--' || (s[i + 1] === '=' && '+-*%^'.includes(c))) return false;
    if ('<>!~(,?:+-*%$'.includes(c)) {
      i++;
      operand = false;
      continue;
    }
    if (c === ')') {
      i++;
      operand = true;
      continue;
    }
    return false; // `=` (an assignment), `[`, `|`, `>` after print, `\`, `#`, `@`, ...
  }
  return true;
}

/** Whether an awk command prints only whole records as read: see the module comment. */
export function awkPrintsWholeLines(args: readonly string[]): boolean {
  let program: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (program === undefined && a === '--') continue;
    if (program === undefined && a.startsWith('-') && a !== '-') {
      if (a === '-F' || a === '--field-separator') i++;
      else if (!a.startsWith('-F') && !a.startsWith('--field-separator=')) return false;
      continue;
    }
    if (program === undefined) program = a;
    // An operand that assigns (RS==, ORS=), or an option after the program (busybox awk reads `awk 1 -v RS== f` so).
    else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a) || (a.startsWith('-') && a !== '-')) return false;
  }
  return program !== undefined && awkProgramWhole(program);
}

/** jq options (and their letters in a cluster) that print the same document. */
const JQ_KEEP_LONG = new Set(['--compact-output', '--sort-keys', '--monochrome-output', '--color-output', '--tab', '--exit-status', '--slurp']);
const JQ_KEEP_SHORT = /^-[cSMCes]+$/;

/** Whether a jq-family command prints its input document whole: the filter `.` (or none), keys and all. */
export function jqPrintsDocument(program: string, args: readonly string[]): boolean {
  if (!JQ_FAMILY.has(program)) return false;
  const operands: string[] = [];
  let ended = false;
  for (const a of args) {
    if (!ended && a === '--') ended = true;
    else if (!ended && a.startsWith('-') && a !== '-') {
      if (!JQ_KEEP_LONG.has(a) && !JQ_KEEP_SHORT.test(a)) return false;
    } else operands.push(a);
  }
  // mikefarah's yq names its command first (`yq e . f`, `yq eval . f`).
  if (program === 'yq' && (operands[0] === 'e' || operands[0] === 'eval')) operands.shift();
  return operands.length === 0 || operands[0] === '.';
}

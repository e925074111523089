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
import { sedOptions } from './script-checks.js';
import { sedScriptDanger } from './sed-script.js';

/**
 * Where an awk regex that opens at `start` (its delimiter) ends, or -1. A bracket expression
 * may not hold the delimiter, a backslash or a newline: then every awk ends the regex at the
 * same place whether or not it reads a delimiter inside brackets as the end (sed scripts are read by sed-script.ts).
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

/** sed commands that print, drop or number whole lines, end the run, read the next line, or group. */
const SED_WHOLE_COMMANDS = new Set(['p', 'd', 'q', 'Q', '=', 'n', '{', '}']);

/**
 * Whether a sed script only selects, deletes or numbers whole lines (see the module comment):
 * its options read by script-checks.ts and its script by sed-script.ts, the readers the
 * injection checks use, so that both judge the same words.
 */
export function sedPrintsWholeLines(args: readonly string[]): boolean {
  const o = sedOptions(args);
  if (o.unjudged || o.scriptFile || o.scripts.length === 0) return false;
  const seen: string[] = [];
  if (sedScriptDanger(o.scripts.join('\n'), seen) !== null) return false;
  return seen.every((c) => SED_WHOLE_COMMANDS.has(c));
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

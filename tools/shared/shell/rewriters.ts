/**
 * Programs that rewrite the text they read. Command-output masking (secret-text.ts) finds a
 * secret by its name beside its value (`DB_PASSWORD=***`, `password: ***`, `"password": ***`)
 * plus content detectors; a program that rewrites text takes the name away or hides the value
 * from both: `cut -d= -f2 .env`, `awk -F= '{print $2}'`, `sed 's/.*=//'`, `tr -d =`, `rev`,
 * `fold -w 12` (name and value on two lines), `paste -s`/`fmt`/`column`/`pr` (a YAML block value
 * joined to other lines), `join -o 1.2`, `base64`, `xxd`, `od -c`, `iconv -t UTF-16`, `dd skip=12`,
 * `jq -r .db.password`, `openssl base64`, `colrm 1 12`, `unexpand -t 4` (a block's lines indented
 * less than its name), `numfmt --from-unit=10` (a card number with a digit added) printed the
 * bare value through a real sshd; `kubectl get -o jsonpath=` prints it too. So an allow
 * grant of such a program refuses it unless the grant says `rewrites: true` (condition.ts): the
 * author then chose to show what it makes of the files it may read. Why one key per program and
 * not allow_flags: what these programs do without any flag is the rewrite; an option of a
 * program that otherwise keeps lines whole (grep -o, nl -s, cmp -l) is listed in allow_flags
 * instead (output-shape.ts). Programs that print lines as they are (cat, grep, head, tail -n,
 * less, sort, uniq, tac, strings, expand) are not here (tac -s is an option: output-shape.ts). sed, awk and jq count as rewriters
 * unless what they run only selects whole lines or prints the document as it is
 * (whole-lines.ts).
 */
import { JQ_FAMILY } from './jq-program.js';
import { AWKS, SEDS } from './runners.js';
import { awkPrintsWholeLines, jqPrintsDocument, sedPrintsWholeLines } from './whole-lines.js';

const FIELDS = 'prints chosen fields or characters of each line';
const JOINS = 'joins or splits lines, or lays them out in columns';
const ENCODES = 'encodes its input (base64, hex, octal, another charset)';

/** Programs whose every run rewrites text, and what they do to it. */
const ALWAYS: Readonly<Record<string, string>> = {
  cut: FIELDS,
  join: FIELDS,
  tr: 'replaces or deletes characters (tr -d = joins a name to its value)',
  rev: 'reverses each line',
  fold: JOINS,
  fmt: JOINS,
  paste: JOINS,
  column: JOINS,
  pr: JOINS,
  base64: ENCODES,
  base32: ENCODES,
  basenc: ENCODES,
  uuencode: ENCODES,
  xxd: ENCODES,
  od: ENCODES,
  hexdump: ENCODES,
  hd: ENCODES,
  iconv: ENCODES,
  recode: ENCODES,
  // Tools that pick fields or values out of structured text (sd is a sed, gron flattens JSON to one path per value).
  sd: 'replaces text in each line',
  choose: FIELDS,
  mlr: FIELDS,
  xsv: FIELDS,
  qsv: FIELDS,
  csvcut: FIELDS,
  dasel: 'prints the values its selector picks',
  gron: 'rewrites JSON as one assignment per value',
  // `colrm 1 12` removes the name's columns; `rs`/`lam` reshape lines into columns (BSD).
  colrm: FIELDS,
  rs: JOINS,
  lam: JOINS,
  // `unexpand -t 4` writes a block value's lines with fewer characters of indentation than its name's, so the block seems to end.
  unexpand: 'turns blanks into tabs, so a value\'s lines can seem indented less than its name',
  // `numfmt --from-unit=10` adds a digit to a card number the content detectors would have seen.
  numfmt: 'rewrites the numbers in each line',
};
/** GNU coreutils under their g-prefixed names (Homebrew, BSD ports): gcut, gtr, gbase64, ... */
const G_PREFIXED = ['cut', 'join', 'tr', 'fold', 'fmt', 'paste', 'pr', 'base64', 'base32', 'basenc', 'od', 'unexpand', 'numfmt'];
/** dd operands that start its window inside a line or convert the bytes (`dd if=.env bs=1 skip=12`); a plain copy keeps the text. */
const DD_RESHAPES = /^(skip|iseek|conv|cbs|iflag)=/;

/** openssl commands that print no file's text (a certificate's fields, versions, a TLS handshake). */
const OPENSSL_KEEPS = new Set(['version', 'x509', 's_client', 'ciphers', 'list', 'help', 'verify']);

/** kubectl and the programs that run it (`k3s kubectl`, `microk8s kubectl`, OpenShift's oc). */
const KUBECTLS = new Set(['kubectl', 'oc', 'k3s', 'microk8s']);
/** kubectl output formats that print each object whole, keys beside values (or only names). */
const KUBECTL_WHOLE = new Set(['json', 'yaml', 'wide', 'name']);
/** kubectl's shorthand options that take a value (the rest of a cluster is that value, not more letters). */
const KUBECTL_VALUE_SHORTS = 'cfklLnpsv';

/**
 * Why a kubectl command prints values without their keys, or null: `-o jsonpath=`, `go-template`,
 * `template`, `custom-columns` (any format but json, yaml, wide and name) and `--template` print
 * what their expression selects (`kubectl get secret db -o jsonpath='{.data.password}'`).
 * Generous: an `o` anywhere in a cluster before a value-taking letter counts.
 */
function kubectlFormat(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') break;
    let format: string | undefined;
    if (a === '--output' || a === '-o') format = args[++i] ?? '';
    else if (a.startsWith('--output=')) format = a.slice('--output='.length);
    else if (a === '--template' || a.startsWith('--template=')) format = 'template';
    else if (/^-[^-]/.test(a)) {
      for (let k = 1; k < a.length && !KUBECTL_VALUE_SHORTS.includes(a[k] as string); k++) {
        if (a[k] === 'o') {
          format = k + 1 < a.length ? a.slice(k + 1).replace(/^=/, '') : (args[++i] ?? '');
          break;
        }
      }
    }
    if (format !== undefined && !KUBECTL_WHOLE.has(format)) return `prints what its output format selects (-o ${format.split('=', 1)[0]}; only json, yaml, wide and name print keys beside values)`;
  }
  return null;
}

/** Every program a grant may say `rewrites: true` for. */
export const REWRITING_PROGRAMS: readonly string[] = [...Object.keys(ALWAYS), ...G_PREFIXED.map((n) => `g${n}`), ...SEDS, ...AWKS, ...JQ_FAMILY, ...KUBECTLS, 'openssl', 'dd'];

/** What a command does to the text it reads, or null when it keeps lines as they are. */
function rewrite(program: string, args: readonly string[]): string | null {
  if (Object.hasOwn(ALWAYS, program)) return ALWAYS[program] as string;
  if (program.startsWith('g') && G_PREFIXED.includes(program.slice(1))) return ALWAYS[program.slice(1)] as string;
  if (program === 'dd') return args.some((a) => DD_RESHAPES.test(a)) ? 'copies a window of bytes that may start inside a line (skip=), or converts them (conv=)' : null;
  if (SEDS.has(program)) {
    return sedPrintsWholeLines(args) ? null : 'runs a script that may change lines (only addresses with p, d, q, Q, =, n print lines as they are)';
  }
  if (AWKS.has(program)) {
    return awkPrintsWholeLines(args) ? null : 'runs a program that may print parts of lines (only patterns with no action or { print } print lines as they are)';
  }
  if (KUBECTLS.has(program)) return kubectlFormat(args);
  if (JQ_FAMILY.has(program)) return jqPrintsDocument(program, args) ? null : 'prints what its filter selects (only the filter . prints keys beside values)';
  if (program === 'openssl') {
    const sub = args.find((a) => !a.startsWith('-'));
    return sub !== undefined && OPENSSL_KEEPS.has(sub) && args[0] === sub ? null : 'encodes, decodes or prints keys (only version, x509, s_client, ciphers, list, help and verify print no file text)';
  }
  return null;
}

/**
 * Why this command's output may show a secret's value without its name, or null. `grantSays`:
 * the grant says `rewrites: true` (the author's choice).
 */
export function rewrittenOutput(program: string, args: readonly string[], grantSays: boolean): string | null {
  if (grantSays) return null;
  const what = rewrite(program, args);
  if (what === null) return null;
  return (
    `${program} ${what}, so a secret's value can be shown without the name beside it that output masking reads (DB_PASSWORD=***); ` +
    `say rewrites: true in this program's grant to allow it.`
  );
}

/**
 * Secret values inside free text: a `.properties`, `.env`, YAML or JSON file in a ConfigMap or
 * printed by `cat` over SSH, `env` output, a `sh -c` script in a container's command, a `curl -H
 * 'Authorization: ...'` argument, a log line, a termination or event message. Why: masking by
 * name (kubernetes/clean.ts) sees only the name beside a JSON value, and the content detectors
 * see each string without any name; these texts carry their own names (`DB_PASSWORD=...`,
 * `password: ...`, `"apiKey": "..."`, `--token ...`). Shared by kubectl_get, kubectl_exec,
 * kubectl_logs and ssh_run.
 * Generous: whatever follows a secret-looking name is masked, even when it is not a secret.
 * Passwords behind flags whose name says nothing (`mysql -phunter2`, `curl -u alice:pw`) are
 * masked by credential-flags.ts, called from here; secrets a config-file format keeps after a blank or at a
 * position (`requirepass PW`, `.netrc`, `.pgpass`, `sasl_passwd`, htpasswd hashes) by
 * config-secrets.ts. So are a secret-named name/value pair in either
 * order (`{"name":"DB_PASSWORD","value":...}`, `{"value":...,"name":"DB_PASSWORD"}`, YAML `- name:
 * ...` / `value: ...` and the reverse), an assignment nested in another's value
 * (`JAVA_OPTS=-Ddb.password=...`) and JSON or lines inside a JSON string (nested-secrets.ts), and
 * a Secret manifest kept as text, YAML flow included (secret-manifests.ts), YAML name/value
 * items with other keys between (name-value-items.ts), and the members of a secret-named block in
 * YAML or pretty-printed JSON (`credentials:` / `  user: admin`, a `password: |` block scalar;
 * secret-blocks.ts), URL-encoded and bracketed form fields (`password%3D...`, `user[password]=...`;
 * form-fields.ts), and an assignment split over lines (`PASSWORD` / `=` / value;
 * split-assignments.ts), and a secret-named column's values in a table (secret-columns.ts). Which names are secret, and when the value
 * beside one is a count rather than a secret, is secret-names.ts's one rule, which kubectl_get's
 * object cleaner (kubernetes/clean.ts) shares; there too the `key` of a `secretKeyRef` is a key
 * name (keyRefKey, checked where a form matched a `key`), and so is the `key` of a selector
 * requirement, toleration, taint or volume item (kube-fields.ts structKey, by the item's next
 * member or its list). A label's or annotation's key is read with its DNS prefix (PREFIXED). Not seen: a program's
 * password flag it does not know, which the content detectors may still catch.
 */
import { maskArgvLists } from './argv-lists.js';
import { maskXmlSecrets } from './xml-secrets.js';
import { maskCredentialFlags } from './credential-flags.js';
import { maskConfigSecrets } from './config-secrets.js';
import { maskNulRecords } from './secret-argv.js';
import { plainText } from './terminal-text.js';
import { maskEncodedJson, maskNestedAssignments } from './nested-secrets.js';
import { closingBracket, maskSecretManifests } from './secret-manifests.js';
import { keyRefKey, secretName, secretValue } from './secret-names.js';
import { maskNameValueItems } from './name-value-items.js';
import { maskSecretBlocks } from './secret-blocks.js';
import { maskFormFields } from './form-fields.js';
import { maskSplitAssignments } from './split-assignments.js';
import { maskSecretColumns } from './secret-columns.js';
import { STRUCT_MAX, kubeStruct, structKey } from './kube-fields.js';

export { secretName };

/** The mask put in place of a secret value. */
export const SECRET_MASK = '***';

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_.\-]*`;
/**
 * A quoted value. A quote left open runs to the end of the line: output cut at the cap ends
 * inside a value (a whole-line assignment's value runs on over lines: MULTILINE_QUOTED). Each escape reads one way (`\\.`, a lone backslash only before the end):
 * `\\.?` split `\a` two ways, and where a form failed after it (form 3's `$` is the text's end,
 * so `{"x":"\a\a...` before a newline) every split was tried, 2^n (24 escapes took 180 ms).
 */
const QUOTED = String.raw`"(?:[^"\\\n]|\\.)*(?:"|\\?$)|'[^'\n]*(?:'|$)`;
/** `grep -r`/`grep -rn` line prefixes: `FILE:`, `FILE:12:`, a context line's `FILE-12-`. */
const GREP_PREFIX = String.raw`(?:[^\s:]+:(?:\d+[:-])?|[^\s:]+-\d+-)`;

/**
 * NAME behind a grep prefix. Why: a context line's file name holds `-12-` too (`a-1-b-2-c=`),
 * and with NAME running over them every split was retried to the line's end (a 100 KB line
 * took seconds). Behind `-12-` the name holds no `-12-` and a letter; the longest prefix wins
 * as before, so the match is the same. Behind `:`, `:12:` or a blank it is a whole NAME.
 */
const GREP_NAME = String.raw`(?:(?<=[ \t:]["']?|:\d+[:-]["']?)${NAME}|[A-Za-z_](?:[A-Za-z0-9_.]|-(?!\d+-[A-Za-z_]))*)`;

/**
 * A label's or annotation's prefix, a DNS subdomain and `/` (`example.com/api-token: ...`):
 * without it such a key was read by no form. The value is judged by the name after it, or by
 * the full key for a known setting (secret-names.ts: ingress-nginx's `auth-secret`).
 */
const PREFIXED = String.raw`(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?\/)?${NAME}`;

/**
 * A line's decoration before the file's text: a line number (`cat -n`, `nl`: `     3<TAB>`;
 * `uniq -c`: `      2 `) or a diff marker (`+`, `-`, `< `, `> `). Why: `password = x` (an ini
 * line, blanks around `=`) is read as a whole line only, and behind these it was read by no form.
 */
const LINE_DECORATION = String.raw`(?:[ \t]*\d+[ \t]|[-+]|[<>][ \t])`;

/**
 * A whole line `NAME=...`/`NAME: ...` after `prefix`; Makefile's `:=`, `::=`, `:::=`, `?=`, `+=`,
 * `!=` and its `override`/`export` too (`API_KEY ?= x` was read by no form).
 */
const wholeLine = (prefix: string, name = PREFIXED) =>
  new RegExp(String.raw`(^${prefix}[ \t]*(?:(?:export|override)[ \t]+){0,2}["']?)(${name})(["']?[ \t]*(?:(?::{1,3}|[?+!])?=|:(?=[ \t]))[ \t]*)(\S.*)$`, 'gm');

/** How many more lines a quoted value may run over (a 4096-bit RSA key in PEM is 52 lines). */
export const QUOTED_LINES_MAX = 100;
/** A line opening a whole-line assignment with a value (`NAME=v`, `NAME: v`, `export NAME=`): `=` then `=` or the line's end is base64 padding. */
const ASSIGNMENT_LINE = String.raw`[ \t]*(?:export[ \t]+)?["']?${PREFIXED}["']?[ \t]*(?:=[^=\r\n]|:[ \t])`;
/** A line inside a quoted value: after a newline (in `"`, an escaped one) that opens no assignment. */
const nextLine = (body: string, escape: string) => String.raw`(?:${escape}\n(?!${ASSIGNMENT_LINE})${body}*){0,${QUOTED_LINES_MAX}}`;
/**
 * A whole-line assignment whose quoted value runs onto the next lines (`DB_PASSWORD="abc` newline
 * `def"`, a PEM in a .env value, a YAML double-quoted scalar folded over lines), to its closing
 * quote and the rest of that line, as a whole line is masked. `\"` closes no `"` value; `''` is
 * no `'` value's end (YAML's escaped quote; in a shell, two quoted words joined). A quote never closed ends before
 * the next line opening an assignment, after QUOTED_LINES_MAX more lines, or at the text's end
 * (output cut at the cap). Why linear: every line that can open such a value is an
 * ASSIGNMENT_LINE, so a value's lines are read by the one opener above them; each stops where it
 * is longest (a quote, a bounding line, the cap or the end): nothing is tried again.
 */
const MULTILINE_QUOTED = new RegExp(
  String.raw`(^[ \t]*(?:export[ \t]+)?["']?)(${PREFIXED})(["']?[ \t]*(?:=|:(?=[ \t]))[ \t]*)` +
    String.raw`((?:"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*${nextLine(String.raw`(?:[^"\\\n]|\\[^\n])`, String.raw`\\?`)}(?:"|\\?$)|'(?:[^'\n]|'')*${nextLine(String.raw`(?:[^'\n]|'')`, '')}(?:'|$)).*)`,
  'gm',
);

/**
 * Multi-line quoted values of secret names masked whole (MULTILINE_QUOTED). A value on one line
 * is left to the whole-line form; after a name that is not secret the scan goes on at the next
 * line, so assignments inside that value are still read by the forms.
 */
function maskMultilineQuoted(text: string, count?: { n: number }): string {
  if (!text.includes('\n')) return text;
  let out = '';
  let at = 0;
  MULTILINE_QUOTED.lastIndex = 0;
  for (let m = MULTILINE_QUOTED.exec(text); m; m = MULTILINE_QUOTED.exec(text)) {
    const [all, before, name, between, value] = m as unknown as [string, string, string, string, string];
    const from = m.index + before.length;
    const firstLine = value.indexOf('\n');
    if (firstLine < 0) continue;
    if (!secretValue(name, value) || keyRefKey(text, name, from) || structKey(text, name, from, m.index + all.length, value)) {
      MULTILINE_QUOTED.lastIndex = from + name.length + between.length + firstLine;
      continue;
    }
    out += text.slice(at, m.index) + before + name + between + SECRET_MASK;
    at = m.index + all.length;
    if (count) count.n++;
  }
  return at === 0 ? text : out + text.slice(at);
}

/**
 * Typographic quotes, read as ASCII quotes are where a form's value starts or ends: GNU tools in a
 * UTF-8 locale quote a line they read as ‘...’ (`date -f .env`: `invalid date ‘DB_PASSWORD=x’`),
 * other locales with “ ” « » „ 「 」. Why: without them `‘DB_PASSWORD=` had no boundary before its
 * name, and `date: invalid date ‘  password: x’` was read as the value of `date:`, its name inside.
 */
const TYPO_QUOTES = '\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u201F\u00AB\u00BB\u2039\u203A\u300C\u300D\u300E\u300F';

/** A JSON member with a scalar value, not named `not` (`name"`, `(?:name|value)"`). */
const jsonMember = (not: string) => String.raw`"(?!${not})[^"\\\n]*"\s*:\s*(?:"(?:[^"\\\n]|\\.)*"|[^\s,{}\[\]"]+)`;
/** A YAML flow entry with a scalar value, not named `not`; a plain value ends on no blank (one way to split). */
const flowMember = (not: string) => String.raw`(?!${not})[A-Za-z_][\w.-]*:[ \t]+(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\n,{}\[\]"' \t](?:[^\n,{}\[\]]*[^\n,{}\[\] \t])?)`;
const JSON_MEMBER = jsonMember('name"');
const FLOW_MEMBER = flowMember('name:');
/**
 * The forms, each `(before)(name)(between)(value)`, tried in order (a masked value no longer
 * matches later forms): a whole line `NAME=...`/`NAME: ...` (.env, properties, ini, YAML,
 * `export`), the same behind a grep file-name prefix, a JSON member `"NAME": value`, `NAME:
 * value` after a blank, `{` or `,` (a header, YAML flow), `NAME=value` after a blank, quote or
 * separator (a script, a URL query), and a flag `--NAME value`. A `:` needs a blank after it
 * or a quoted name: `auth-proxy:1.2` is an image.
 */
const FORMS: RegExp[] = [
  wholeLine(''),
  // Separate, not an optional prefix: a prefix matched greedily (`A=b:c=d`) would hide the line.
  wholeLine(GREP_PREFIX, GREP_NAME),
  wholeLine(LINE_DECORATION),
  // A value opening an object or array is not taken whole (`"db":{"password":"x"}`): the scan
  // goes on inside it, where a secret-named member is masked (OBJECT_VALUE masks a secret-named one whole).
  new RegExp(String.raw`(")(${PREFIXED})("\s*:\s*)(${QUOTED}|[^\s,}\]{\[][^\s,}\]]*)`, 'g'),
  new RegExp(String.raw`(^|[\s{,'"${TYPO_QUOTES}])(${PREFIXED})(:[ \t]+)(${QUOTED}|[^\n"'},{\[${TYPO_QUOTES}][^\n"'},${TYPO_QUOTES}]*)`, 'gm'),
  new RegExp(String.raw`(^|[\s;&|(\x60"'?{,${TYPO_QUOTES}])(-{0,2}${NAME})(=)(${QUOTED}|[^\s;&|)"'\x60,${TYPO_QUOTES}]+)`, 'gm'),
  // A shell line continuation (`--password \` newline value) is a blank between flag and value,
  // and so is a here-string's `<<<` (`gh auth login --with-token <<< TOKEN`; it was masked, not
  // the token); a `<` redirect names a file, not a value.
  new RegExp(String.raw`(^|[\s${TYPO_QUOTES}])(--?${NAME})((?:[ \t]|\\\r?\n)+(?:<<<[ \t]*)?)(${QUOTED}|[^\s;&|\-<${TYPO_QUOTES}][^\s;&|${TYPO_QUOTES}]*)`, 'gm'),
  // Name/value pairs (env entries, headers) in JSON and YAML flow: the name is the value's, with
  // other members of the same object between them (`{"name":"X","foo":1,"value":...}`). A member
  // between is a scalar one not named `name` (the next pair's start ends the look): each member is
  // read by the one `name` before it, so the cost stays linear. YAML block items are
  // name-value-items.ts's (the same item is a matter of indentation).
  new RegExp(String.raw`("name"\s*:\s*")(${NAME})("(?:\s*,\s*${JSON_MEMBER})*?\s*,\s*"value"\s*:\s*)(${QUOTED}|[^\s,}\]{\[][^\s,}\]]*)`, 'g'),
  new RegExp(String.raw`((?:^|[\s{,])name:[ \t]+["']?)(${NAME})(["']?(?:[ \t]*,[ \t]*${FLOW_MEMBER})*?[ \t]*,[ \t]*value:[ \t]+)(${QUOTED}|[^\n,}\s][^\n,}]*)`, 'gm'),
];

/**
 * Value-first name/value pairs, each `(before)(value)(between)(name)(after)`: JSON
 * `{"value":...,"name":"DB_PASSWORD"}`, YAML flow `{value: ..., name: DB_PASSWORD}`, with other
 * scalar members of the same object between (`{"value":"x","foo":1,"name":"DB_PASSWORD"}`; a
 * YAML block item in either order is name-value-items.ts's). Why each start is pinned (a
 * `"value"` whose bare value stops at a quote, a line's start, a `{` or `,`): a failed match is
 * retried from the next `value`, and a value read across another `value` would make that
 * quadratic; pinned, the values tried do not overlap. For the same reason a member between is
 * neither `name` (the pair's end) nor `value` (the next pair's start): each member is read by
 * the one `value` before it, so the cost stays linear.
 */
const VALUE_FIRST: RegExp[] = [
  new RegExp(String.raw`("value"\s*:\s*)(${QUOTED}|[^\s,}\]{\["][^\s,}\]"]*)((?:\s*,\s*${jsonMember('(?:name|value)"')})*?\s*,\s*"name"\s*:\s*")(${NAME})(")`, 'g'),
  new RegExp(String.raw`([{,][ \t]*value:[ \t]+)(${QUOTED}|[^\n,{}"'][^\n,{}]*)((?:[ \t]*,[ \t]*${flowMember('(?:name|value):')})*?[ \t]*,[ \t]*name:[ \t]+["']?)(${NAME})(["']?)`, 'g'),
];

/** A JSON member or YAML flow entry whose value opens an object or array: `"credentials": {`, `auth: [`. */
const OBJECT_VALUE = new RegExp(String.raw`(?:(")(${NAME})"\s*:\s*|(^|[\s{,])(${NAME}):[ \t]+)(?=[{\[])`, 'gm');

/**
 * The object or array value of a secret-named member, masked whole to its closing bracket
 * (`"credentials":{"user":"a","value":"pw"}`): its members need not have secret names.
 */
function maskObjectValues(text: string, count?: { n: number }): string {
  if (!text.includes('{') && !text.includes('[')) return text;
  let out = '';
  let at = 0;
  OBJECT_VALUE.lastIndex = 0;
  for (let m = OBJECT_VALUE.exec(text); m; m = OBJECT_VALUE.exec(text)) {
    if (m.index < at) continue;
    const name = m[2] ?? m[4]!;
    const start = m.index + m[0].length;
    // An empty `[]`/`{}` hides nothing, nor does a bracket ending its line (pretty-printed JSON:
    // its members are read one by one on the lines below, as in YAML); a known Kubernetes
    // field's members are read one by one (kube-fields.ts, within a bounded span: each match
    // costs a constant).
    const head = text.slice(start, start + STRUCT_MAX);
    if (!secretName(name) || /^(?:\[[ \t]*\]|\{[ \t]*\})/.test(head) || /^[{\[][ \t]*\r?(?:\n|$)/.test(head) || kubeStruct(name, head.slice(0, closingBracket(head, 0)))) {
      if (m[0].length === 0) OBJECT_VALUE.lastIndex++;
      continue;
    }
    const end = closingBracket(text, start);
    out += text.slice(at, start) + SECRET_MASK;
    at = end;
    OBJECT_VALUE.lastIndex = Math.max(end, start + 1);
    if (count) count.n++;
  }
  return at === 0 ? text : out + text.slice(at);
}

/**
 * The masker at one depth of JSON strings holding JSON (nested-secrets.ts decodes them and comes
 * back here): Secret manifests kept as text first (secret-manifests.ts), then secret-named object
 * values, the forms, assignments nested in another's value, and program password flags.
 */
function maskText(text: string, count: { n: number } | undefined, depth: number): string {
  if (text.length < 3 || !/[=:\s<%]/.test(text)) return text;
  let out = maskEncodedJson(text, depth, (inner, d) => maskText(inner, count, d), count);
  out = maskSecretManifests(out, count);
  out = maskSecretBlocks(out, count);
  out = maskObjectValues(out, count);
  out = maskNameValueItems(out, secretValue, count);
  out = maskXmlSecrets(out, count);
  out = maskMultilineQuoted(out, count);
  out = maskSplitAssignments(out, count);
  for (const form of FORMS) {
    out = out.replace(form, (all: string, before: string, name: string, between: string, value: string, at: number, whole: string) => {
      const from = at + before.length;
      // A bracket ending its line opens pretty-printed JSON or flow lines, read one by one below.
      if (/^[{\[][ \t]*\r?$/.test(value)) return all;
      if (!secretValue(name.replace(/^-+/, ''), value) || keyRefKey(whole, name, from) || structKey(whole, name, from, at + all.length, value)) return all;
      if (count) count.n++;
      return `${before}${name}${between}${SECRET_MASK}`;
    });
  }
  for (const form of VALUE_FIRST) {
    out = out.replace(form, (all: string, before: string, value: string, between: string, name: string, after: string) => {
      if (!secretValue(name, value)) return all;
      if (count) count.n++;
      return `${before}${SECRET_MASK}${between}${name}${after}`;
    });
  }
  out = maskFormFields(out, count);
  if (out.includes('=')) out = maskNestedAssignments(out, secretName, secretValue, count);
  out = maskConfigSecrets(out, count);
  return maskCredentialFlags(out, count);
}

/** Mask the values of secret-named assignments inside a text; `count.n` grows by each value masked. */
export function maskSecretText(text: string, count?: { n: number }): string {
  return maskText(maskSecretColumns(text, count), count, 0);
}

/**
 * A command's output streams as plain text (terminal-text.ts: no escape sequence can split a
 * name or a value) with named secrets masked, and how many values were. Why a tool calls it in
 * execute (not the pipeline): the transcript stores what the tool returns, so the value never
 * reaches it; the content detectors then read the same plain text. A stream cut at the output
 * cap is safe: an open quote runs to its end. NUL-separated words (`/proc/PID/environ`,
 * `/proc/PID/cmdline`) are read one by one and shown one per line (secret-argv.ts).
 */
export function maskSecretStreams<S extends Record<string, string>>(streams: S): { streams: S; masked: number } {
  const count = { n: 0 };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(streams)) {
    // An argv written as a list (a manifest's args:, an exec form) after the line masker (argv-lists.ts).
    out[k] = maskArgvLists(maskSecretText(v.includes('\0') ? maskNulRecords(v, maskSecretText, count) : plainText(v), count), count);
  }
  return { streams: out as S, masked: count.n };
}

/** The note telling the agent why it sees `***` (null when nothing was masked). */
export function secretNote(masked: number): string | null {
  if (masked === 0) return null;
  return `${masked} value${masked === 1 ? '' : 's'} beside secret-looking names (DB_PASSWORD=, password:, "apiKey":, --token) or password flags (mysql -p, curl -u) or in config files (requirepass, .netrc, .pgpass) masked as ${SECRET_MASK}`;
}

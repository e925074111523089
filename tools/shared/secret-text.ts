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
 * masked by credential-flags.ts, called from here. So are a secret-named name/value pair in either
 * order (`{"name":"DB_PASSWORD","value":...}`, `{"value":...,"name":"DB_PASSWORD"}`, YAML `- name:
 * ...` / `value: ...` and the reverse), an assignment nested in another's value
 * (`JAVA_OPTS=-Ddb.password=...`) and JSON or lines inside a JSON string (nested-secrets.ts), and
 * a Secret manifest kept as text, YAML flow included (secret-manifests.ts). Not seen: a program's
 * password flag it does not know, which the content detectors may still catch.
 */
import { maskCredentialFlags } from './credential-flags.js';
import { plainText } from './terminal-text.js';
import { maskEncodedJson, maskNestedAssignments } from './nested-secrets.js';
import { closingBracket, maskSecretManifests } from './secret-manifests.js';

/** The mask put in place of a secret value. */
export const SECRET_MASK = '***';

/**
 * Names whose literal value is a secret (env var names, configmap keys, flag names). `session`
 * is here on purpose: a session id or cookie is a bearer credential (`session_id=...` is masked).
 * `tokenizer`/`tokenise` names an algorithm, not a token (`TOKENIZERS_PARALLELISM=false`); a
 * secret word elsewhere in the name still counts (`tokenizer_secret`).
 */
const SECRET_NAME = /pass(word|wd|phrase)?|secret|token(?!i[sz])|credential|private|api[-_]?key|access[-_]?key|auth|session|cookie|signing|encryption[-_]?key|\bpwd\b|_pwd|^pwd|dsn|conn(ection)?[-_]?str/i;
/** `STRIPE_KEY`, `jwt.key`, `DB_PW`: a key or pw word of a name. */
const KEY_WORD = /(^|[-_.])(key|pw)($|[-_.])/i;
/** `masterKey`, `signingKeyId`: a camel-case Key word. */
const CAMEL_KEY = /[a-z0-9]Key($|[A-Z0-9_.-])/;

/** Is this a name whose value must not be shown? */
export function secretName(name: string): boolean {
  return SECRET_NAME.test(name) || KEY_WORD.test(name) || CAMEL_KEY.test(name);
}

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_.\-]*`;
/**
 * A quoted value. A quote left open runs to the end of the line: output cut at the cap ends
 * inside a value. Each escape reads one way (`\\.`, a lone backslash only before the end):
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

/** A whole line `NAME=...`/`NAME: ...` after `prefix`. */
const wholeLine = (prefix: string, name = NAME) =>
  new RegExp(String.raw`(^${prefix}[ \t]*(?:export[ \t]+)?["']?)(${name})(["']?[ \t]*(?:=|:(?=[ \t]))[ \t]*)(\S.*)$`, 'gm');

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
  // A value opening an object or array is not taken whole (`"db":{"password":"x"}`): the scan
  // goes on inside it, where a secret-named member is masked (OBJECT_VALUE masks a secret-named one whole).
  new RegExp(String.raw`(")(${NAME})("\s*:\s*)(${QUOTED}|[^\s,}\]{\[][^\s,}\]]*)`, 'g'),
  new RegExp(String.raw`(^|[\s{,'"])(${NAME})(:[ \t]+)(${QUOTED}|[^\n"'},{\[][^\n"'},]*)`, 'gm'),
  new RegExp(String.raw`(^|[\s;&|(\x60"'?{,])(-{0,2}${NAME})(=)(${QUOTED}|[^\s;&|)"'\x60,]+)`, 'gm'),
  new RegExp(String.raw`(^|\s)(--?${NAME})([ \t]+)(${QUOTED}|[^\s;&|\-][^\s;&|]*)`, 'gm'),
  // Name/value pairs (env entries, headers) in JSON, a YAML block item and YAML flow: the name is the value's.
  new RegExp(String.raw`("name"\s*:\s*")(${NAME})("\s*,\s*"value"\s*:\s*)(${QUOTED}|[^\s,}\]{\[][^\s,}\]]*)`, 'g'),
  new RegExp(String.raw`((?:^|[\s{,])name:[ \t]+["']?)(${NAME})(["']?[ \t]*\n[ \t]*value:[ \t]+)(\S.*)$`, 'gm'),
  new RegExp(String.raw`((?:^|[\s{,])name:[ \t]+["']?)(${NAME})(["']?[ \t]*,[ \t]*value:[ \t]+)(${QUOTED}|[^\n,}\s][^\n,}]*)`, 'gm'),
];

/**
 * Value-first name/value pairs, each `(before)(value)(between)(name)(after)`: JSON
 * `{"value":...,"name":"DB_PASSWORD"}`, a YAML block item `- value: ...` with `name:` on the next
 * line (`valueFrom:` is not `value:`), YAML flow `{value: ..., name: DB_PASSWORD}`. Why each
 * start is pinned (a `"value"` whose bare value stops at a quote, a line's start, a `{` or `,`):
 * a failed match is retried from the next `value`, and a value read across another `value`
 * would make that quadratic; pinned, the values tried do not overlap.
 */
const VALUE_FIRST: RegExp[] = [
  new RegExp(String.raw`("value"\s*:\s*)(${QUOTED}|[^\s,}\]{\["][^\s,}\]"]*)(\s*,\s*"name"\s*:\s*")(${NAME})(")`, 'g'),
  new RegExp(String.raw`(^[ \t]*(?:-[ \t]+)?value:[ \t]+)(\S.*)(\n[ \t]*name:[ \t]+["']?)(${NAME})(["']?[ \t]*)$`, 'gm'),
  new RegExp(String.raw`([{,][ \t]*value:[ \t]+)(${QUOTED}|[^\n,{}"'][^\n,{}]*)(,[ \t]*name:[ \t]+["']?)(${NAME})(["']?)`, 'g'),
];

/**
 * A count or size beside a secret word: the last word of the name says so (`max_tokens`,
 * `prompt_tokens`, `completionTokens`, `token_count`, `active_sessions`, `session_timeout`,
 * `SESSION_TTL`), or the first (`max_token`, `num_secrets`). Its value is shown only when it is
 * a plain number (COUNT_VALUE): `token_count=abc`, `max_tokens=4096x` and a 13-digit number are
 * masked, fail closed (a trailing `num` is not such a word: `SECRET_NUM=4242` may be a PIN). A name without such a word keeps its value masked whatever it is
 * (`auth_token=5`, `SESSION_KEY=123456`, `session_id=42`). Why: LLM and web servers log token
 * usage and session counts on every request, and `***` there hid what an operator reads.
 */
const COUNT_WORDS = String.raw`(?:tokens|sessions|cookies|secrets|credentials|passwords|count|counts|total|len|length|size|limit|max|min|ttl|timeout|age|seconds|secs|ms)`;
const COUNT_NAME = new RegExp(String.raw`(?:^|[-_.])${COUNT_WORDS}$|^(?:max|min|num|total)[-_.]`, 'i');
const COUNT_CAMEL = /[a-z0-9](?:Tokens|Sessions|Cookies|Secrets|Credentials|Passwords|Count|Counts|Total|Len|Length|Size|Limit|Max|Min|Ttl|TTL|Timeout|Age|Seconds|Secs|Ms)$|^(?:max|min|num|total)[A-Z]/;
/** A plain number of up to 12 digits, quoted or not, before the line's end, a separator or a blank. */
const COUNT_VALUE = /^(["']?)\d{1,12}(?:\.\d{1,6})?\1(?:[,;]?$|[,;]?[ \t])/;

/** Is this a count or size whose value is a plain number, not a secret? */
function countValue(name: string, value: string): boolean {
  return (COUNT_NAME.test(name) || COUNT_CAMEL.test(name)) && COUNT_VALUE.test(value);
}

/** The shell's working directories in `env` output (`PWD=/srv/app`), not passwords (`PWD=` in an ODBC string is). */
const SHELL_DIR = /^(OLD)?PWD$/;

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
    if (!secretName(name)) {
      if (m[0].length === 0) OBJECT_VALUE.lastIndex++;
      continue;
    }
    const start = m.index + m[0].length;
    const end = closingBracket(text, start);
    out += text.slice(at, start) + SECRET_MASK;
    at = end;
    OBJECT_VALUE.lastIndex = Math.max(end, start + 1);
    if (count) count.n++;
  }
  return at === 0 ? text : out + text.slice(at);
}

/** May the value beside this name be shown? Not beside a secret name, but `PWD=/srv/app` in `env` output is a directory. */
function maskable(name: string, value: string): boolean {
  return secretName(name) && value.trim() !== '' && value !== SECRET_MASK && !(SHELL_DIR.test(name) && /^\/[^\s;]*$/.test(value)) && !countValue(name, value);
}

/**
 * The masker at one depth of JSON strings holding JSON (nested-secrets.ts decodes them and comes
 * back here): Secret manifests kept as text first (secret-manifests.ts), then secret-named object
 * values, the forms, assignments nested in another's value, and program password flags.
 */
function maskText(text: string, count: { n: number } | undefined, depth: number): string {
  if (text.length < 3 || !/[=:\s]/.test(text)) return text;
  let out = maskEncodedJson(text, depth, (inner, d) => maskText(inner, count, d), count);
  out = maskSecretManifests(out, count);
  out = maskObjectValues(out, count);
  for (const form of FORMS) {
    out = out.replace(form, (all: string, before: string, name: string, between: string, value: string) => {
      if (!maskable(name.replace(/^-+/, ''), value)) return all;
      if (count) count.n++;
      return `${before}${name}${between}${SECRET_MASK}`;
    });
  }
  for (const form of VALUE_FIRST) {
    out = out.replace(form, (all: string, before: string, value: string, between: string, name: string, after: string) => {
      if (!maskable(name, value)) return all;
      if (count) count.n++;
      return `${before}${SECRET_MASK}${between}${name}${after}`;
    });
  }
  if (out.includes('=')) out = maskNestedAssignments(out, secretName, maskable, count);
  return maskCredentialFlags(out, count);
}

/** Mask the values of secret-named assignments inside a text; `count.n` grows by each value masked. */
export function maskSecretText(text: string, count?: { n: number }): string {
  return maskText(text, count, 0);
}

/**
 * A command's output streams as plain text (terminal-text.ts: no escape sequence can split a
 * name or a value) with named secrets masked, and how many values were. Why a tool calls it in
 * execute (not the pipeline): the transcript stores what the tool returns, so the value never
 * reaches it; the content detectors then read the same plain text. A stream cut at the output
 * cap is safe: an open quote runs to its end.
 */
export function maskSecretStreams<S extends Record<string, string>>(streams: S): { streams: S; masked: number } {
  const count = { n: 0 };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(streams)) out[k] = maskSecretText(plainText(v), count);
  return { streams: out as S, masked: count.n };
}

/** The note telling the agent why it sees `***` (null when nothing was masked). */
export function secretNote(masked: number): string | null {
  if (masked === 0) return null;
  return `${masked} value${masked === 1 ? '' : 's'} beside secret-looking names (DB_PASSWORD=, password:, "apiKey":, --token) or password flags (mysql -p, curl -u) masked as ${SECRET_MASK}`;
}

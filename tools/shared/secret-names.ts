/**
 * The one rule for "is the value beside this name a secret?", shared by the text masker
 * (secret-text.ts: `DB_PASSWORD=...` in command output, a ConfigMap's `.env` file) and the object
 * cleaner (kubernetes/clean.ts: an env entry `{name, value}`, a ConfigMap key, a label, an
 * annotation, a `--flag=value` argument). Why one module: a count such as `token_count: "12"`
 * must read the same in a pod's YAML printed by `cat` and in the object kubectl_get returns.
 */

import { kubeSetting } from './kube-fields.js';

/**
 * Words whose literal value is a secret (env var names, configmap keys, flag names). Word rules,
 * not exception lists:
 * - `pass` counts as a word of its own or as `password`/`passwd`/`passphrase` (`DB_PASS`,
 *   `dbPass`, `pass123`), not as the start of another word (`passive`, `passthrough`, `passport`,
 *   `tests_passed`). Where the word starts is not checked (`dbpass`, `PGPASS`, `rootpass`,
 *   `sshpass` glue a prefix on and are passwords), except that `pass` ending an English word is
 *   that word: `bypass`, `compass`/`encompass`, `surpass`, `trespass`, `overpass`, `underpass`.
 *   Why a list of words that are not passwords rather than of prefixes that are: an unknown glued
 *   prefix (`vaultpass`) stays masked, fail closed.
 * - `auth` is not the start of `author`/`authority`/`authored` (`author_email`,
 *   `certificate-authority-data`, a CA certificate, is public), but `authorization`/
 *   `authorisation` is: `auth` followed by `or` counts only before `iz`/`is`.
 * - a secret word followed by `less` says the secret is absent (`passwordless`, `tokenless`,
 *   `Cross-Origin-Embedder-Policy: credentialless`, `cookieless`, `secretless`).
 * - `private` counts only as a private key (`private_key`, `privateKey`, `privkey`): `"private":
 *   true` in package.json and `private_ip` are not secrets.
 * - `tokenizer`/`tokenise` names an algorithm, not a token (`TOKENIZERS_PARALLELISM=false`); a
 *   secret word elsewhere in the name still counts (`tokenizer_secret`).
 * - `session` is here on purpose: a session id or cookie is a bearer credential.
 */
const SECRET_NAME =
  /(?:(?<!by|com|sur|tres|over|under)pass(?:word|wd|phrase|(?![a-z]))|secret|token(?!i[sz])|credential|private[-_.]?key|privkey|api[-_]?key|access[-_]?key|auth(?!or(?!i[sz]))|session|cookie|signing|encryption[-_]?key)(?!less)|\bpwd\b|_pwd|^pwd|dsn|conn(ection)?[-_]?str/i;
/**
 * `STRIPE_KEY`, `jwt.key`, `DB_PW`, wpa_supplicant's `psk`: a key, pw or psk (pre-shared key) word
 * of a name, with a slot's digits (`wep_key0`, `KEY2`).
 */
const KEY_WORD = /(^|[-_.])(key|pw|psk)\d*($|[-_.])/i;
/** `masterKey`, `signingKeyId`: a camel-case Key word. */
const CAMEL_KEY = /[a-z0-9]Key($|[A-Z0-9_.-])/;
/**
 * A name whose last word is `Ref` or `Name` names a reference or another object, not a secret
 * value: `secretKeyRef`, `configMapKeyRef`, `secretRef` (their values are `{name, key}`
 * objects), `secretName: db-creds` (a volume's or an Ingress TLS entry's Secret), `SECRET_NAME`,
 * `token_ref`. A secret word after it still counts (`secret_name_password`).
 */
const REFERENCE = /(?:[a-z0-9](?:Ref|Name)|(?:^|[-_.])(?:ref|REF|name|NAME))$/;

/** Does this name name a reference or another object (`secretKeyRef`, `secretName`, `name`)? */
export const referenceName = (name: string): boolean => REFERENCE.test(name);

/** Is this a name whose value must not be shown? */
export function secretName(name: string): boolean {
  return !REFERENCE.test(name) && (SECRET_NAME.test(name) || KEY_WORD.test(name) || CAMEL_KEY.test(name));
}

/**
 * A count or size beside a secret word: the last word of the name says so (`max_tokens`,
 * `prompt_tokens`, `completionTokens`, `token_count`, `active_sessions`, `session_timeout`,
 * `SESSION_TTL`), or the first (`max_token`, `num_secrets`). Its value is shown only when it is
 * a plain number (COUNT_VALUE): `token_count=abc`, `max_tokens=4096x` and a 13-digit number are
 * masked, fail closed (a trailing `num` is not such a word: `SECRET_NUM=4242` may be a PIN). A
 * name without such a word keeps its value masked whatever it is (`auth_token=5`,
 * `SESSION_KEY=123456`, `session_id=42`). Why: LLM and web servers log token usage and session
 * counts on every request, and `***` there hid what an operator reads.
 */
const COUNT_WORDS = String.raw`(?:tokens|sessions|cookies|secrets|credentials|passwords|count|counts|total|len|length|size|limit|max|min|ttl|timeout|age|seconds|secs|ms)`;
const COUNT_NAME = new RegExp(String.raw`(?:^|[-_.])${COUNT_WORDS}$|^(?:max|min|num|total)[-_.]`, 'i');
const COUNT_CAMEL = /[a-z0-9](?:Tokens|Sessions|Cookies|Secrets|Credentials|Passwords|Count|Counts|Total|Len|Length|Size|Limit|Max|Min|Ttl|TTL|Timeout|Age|Seconds|Secs|Ms)$|^(?:max|min|num|total)[A-Z]/;
/**
 * The whole value is a plain number of up to 12 digits, quoted or not: to the value's end as the
 * text form delimits it (a trailing `,`/`;` and blanks allowed), or to the next assignment when a
 * whole-line form ran the value on to it (`max_tokens=4096 api_token=...`, `prompt_tokens: 12,
 * total: 30`: the next name is then read by the forms itself). Anything else after the number
 * masks the value, fail closed: `token_count: 12 hunter2`, `max_tokens: 4096 # note`.
 */
const COUNT_VALUE = /^(["']?)\d{1,12}(?:\.\d{1,6})?\1[,;]?(?:[ \t]*$|[ \t]+(?=-{0,2}[A-Za-z_][A-Za-z0-9_.-]*(?:=|:[ \t])))/;

/** Is `value` beside `name` a count (`token_count: 12`), whatever the name's other words? */
export const countValue = (name: string, value: string): boolean => (COUNT_NAME.test(name) || COUNT_CAMEL.test(name)) && COUNT_VALUE.test(value);

/** The shell's working directories in `env` output (`PWD=/srv/app`), not passwords (`PWD=` in an ODBC string is). */
const SHELL_DIR = /^(OLD)?PWD$/;

/**
 * nginx's upstream directives (`proxy_pass`, `fastcgi_pass`, ...: `pass` is "pass to"), lower
 * case as nginx spells them, and an address as their value: a URL with no `user:pw@`, a unix
 * socket, `host:port` or a variable, an optional `;` after it. Why: `proxy_pass ***` hid where a
 * location goes. Any other value (`proxy_pass hunter2`, one with `@`), and `PROXY_PASS=...` (a
 * proxy's password in an env file), stays masked.
 */
const UPSTREAM_DIRECTIVE = /^(?:proxy|fastcgi|uwsgi|scgi|grpc|memcached)_pass$/;
const UPSTREAM_ADDRESS = /^(?:[a-z][a-z0-9+.-]*:\/\/[^\s@;'"`\\]+|unix:\/[^\s@;'"`\\]+|\$\w+|[\w.-]+:\d{1,5})[ \t]*;?[ \t]*$/;

/**
 * Must the value beside this name be masked? Beside a secret name, unless it is empty or
 * already masked, a count (above), the shell's working directory, or a Kubernetes API setting
 * whose value has the shape the API allows (kube-fields.ts: `automountServiceAccountToken: false`,
 * `sessionAffinity: None`, ingress-nginx's `auth-secret: basic-auth`). A JSON number is read as
 * its text (`"token_count": 12`); any other non-string value beside a secret name (an object, a
 * boolean) is masked, fail closed. Flag dashes are the caller's to strip (`--max-tokens`).
 */
export function secretValue(full: string, value: unknown): boolean {
  // A label's or annotation's prefix is a domain, not a name (`auth.example.com/team`); a
  // setting may be known by its full key (`nginx.ingress.kubernetes.io/auth-type`).
  const name = full.slice(full.indexOf('/') + 1);
  if (!secretName(name) || kubeSetting(full, value)) return false;
  const v = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof v !== 'string') return true;
  // An empty collection hides nothing (`tokenRequests: []`, `"credentials": {},`); a mask, with
  // its JSON comma (secret-blocks.ts), is masked already.
  if (v.trim() === '' || /^\*\*\*,?$/.test(v) || /^(?:\[[ \t]*\]|\{[ \t]*\})[,;]?[ \t]*$/.test(v)) return false;
  if (SHELL_DIR.test(name) && /^\/[^\s;]*$/.test(v)) return false;
  if (UPSTREAM_DIRECTIVE.test(name) && UPSTREAM_ADDRESS.test(v)) return false;
  return !((COUNT_NAME.test(name) || COUNT_CAMEL.test(name)) && COUNT_VALUE.test(v));
}

/** `secretKeyRef:` then its `name:`/`optional:` lines at the key's indentation (YAML block). */
const KEY_REF_BLOCK = /KeyRef["']?:[ \t]*\n([ \t]+)(?:(?:name|optional):[^\n]*\n\1){0,2}$/;
/** `secretKeyRef: {name: db, ` or `"secretKeyRef":{"` (YAML flow, JSON compact or pretty). */
const KEY_REF_FLOW = /KeyRef["']?\s*:\s*\{\s*(?:["']?(?:name|optional)["']?\s*:\s*["']?[\w.-]*["']?\s*,\s*){0,2}["']?$/;

/**
 * Is the `key` whose name starts at `at` the key NAME of a `secretKeyRef`/`configMapKeyRef`
 * (`{name: db, key: password}`), not a secret? Read from the 200 characters before it, so each
 * name costs a bounded look-back (linear); a `key` farther from its `KeyRef` (a long `name`
 * between) stays masked, fail closed. A `key` elsewhere (`?key=...`, a bare `key: ...` line) is
 * a secret word as before.
 */
export function keyRefKey(text: string, name: string, at: number): boolean {
  if (name !== 'key') return false;
  const back = text.slice(Math.max(0, at - 200), at);
  return back.includes('KeyRef') && (KEY_REF_BLOCK.test(back) || KEY_REF_FLOW.test(back));
}

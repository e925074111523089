/**
 * Secret values inside the free text of API objects: a `.properties`, `.env`, YAML or JSON file
 * in a ConfigMap, a `sh -c` script in a container's command, a `curl -H 'Authorization: ...'`
 * argument, a termination or event message. Why: masking by name (clean.ts) sees only the name
 * beside a JSON value, and the content detectors see each string without any name; these texts
 * carry their own names (`DB_PASSWORD=...`, `password: ...`, `"apiKey": "..."`, `--token ...`).
 * Generous: whatever follows a secret-looking name is masked, even when it is not a secret.
 * Not seen: values whose name is elsewhere (`-p hunter2`, a YAML `name:`/`value:` pair, a
 * `user:pass` operand), which the content detectors may still catch.
 */

/** The mask put in place of a secret value. */
export const SECRET_MASK = '***';

/** Names whose literal value is a secret (env var names, configmap keys, flag names). */
const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|credential|private|api[-_]?key|access[-_]?key|auth|session|cookie|signing|encryption[-_]?key|\bpwd\b|_pwd|^pwd|dsn|conn(ection)?[-_]?str/i;
/** `STRIPE_KEY`, `jwt.key`, `DB_PW`: a key or pw word of a name. */
const KEY_WORD = /(^|[-_.])(key|pw)($|[-_.])/i;
/** `masterKey`, `signingKeyId`: a camel-case Key word. */
const CAMEL_KEY = /[a-z0-9]Key($|[A-Z0-9_.-])/;

/** Is this a name whose value must not be shown? */
export function secretName(name: string): boolean {
  return SECRET_NAME.test(name) || KEY_WORD.test(name) || CAMEL_KEY.test(name);
}

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_.\-]*`;
const QUOTED = String.raw`"(?:[^"\\\n]|\\.)*"|'[^'\n]*'`;

/**
 * The forms, each `(before)(name)(between)(value)`, tried in order (a masked value no longer
 * matches later forms): a whole line `NAME=...`/`NAME: ...` (.env, properties, ini, YAML,
 * `export`), a JSON member `"NAME": value`, `NAME: value` after a blank, `{` or `,` (a header,
 * YAML flow), `NAME=value` after a blank, quote or separator (a script, a URL query), and a flag
 * `--NAME value`. A `:` needs a blank after it or a quoted name: `auth-proxy:1.2` is an image.
 */
const FORMS: RegExp[] = [
  new RegExp(String.raw`(^[ \t]*(?:export[ \t]+)?["']?)(${NAME})(["']?[ \t]*(?:=|:(?=[ \t]))[ \t]*)(\S.*)$`, 'gm'),
  new RegExp(String.raw`(")(${NAME})("\s*:\s*)(${QUOTED}|[^\s,}\]]+)`, 'g'),
  new RegExp(String.raw`(^|[\s{,'"])(${NAME})(:[ \t]+)(${QUOTED}|[^\n"'},]+)`, 'gm'),
  new RegExp(String.raw`(^|[\s;&|(\x60"'?{,])(-{0,2}${NAME})(=)(${QUOTED}|[^\s;&|)"'\x60,]+)`, 'gm'),
  new RegExp(String.raw`(^|\s)(--?${NAME})([ \t]+)(${QUOTED}|[^\s;&|\-][^\s;&|]*)`, 'gm'),
];

/** Mask the values of secret-named assignments inside a text. */
export function maskSecretText(text: string): string {
  if (text.length < 3 || !/[=:\s]/.test(text)) return text;
  let out = text;
  for (const form of FORMS) {
    out = out.replace(form, (all: string, before: string, name: string, between: string, value: string) => {
      if (!secretName(name.replace(/^-+/, '')) || value.trim() === '' || value === SECRET_MASK) return all;
      return `${before}${name}${between}${SECRET_MASK}`;
    });
  }
  return out;
}

/**
 * Secrets in config-file formats where the value follows its key with only blanks, or sits at a
 * position, so no `NAME=`/`NAME:` form of secret-text.ts sees it: Redis `requirepass`,
 * `masterauth`, `sentinel auth-pass NAME PW` and ACL `>password` words (`user alice on >pw ~*`),
 * `.netrc` `password`/`account` tokens (one line or several), the fifth field of a `.pgpass` line,
 * the password of a Postfix `sasl_passwd` entry (`[smtp.host]:587 user:pw`), an htpasswd or shadow
 * hash (`alice:$apr1$...`), the LM and NT hashes of a Samba `smbpasswd` line, and a properties or
 * keepalived key whose last word is a secret word, then a blank (`db.password hunter2`,
 * `auth_pass 1111`), and a URL's password (`.git-credentials`). Why by structure: each is read only where the line has the format's shape
 * (a numeric or `*` port in a five-field line, a relay host before `user:pw`, a `machine` entry in
 * the text), so ordinary colon text, prose and nginx directives (`ssl_session_cache shared:...`)
 * stay. Every matcher is anchored at a line's start and its parts cannot overlap, so the cost
 * is linear. grep's `FILE:`, `FILE:12:` and context `FILE-12-` prefixes are read before a directive, a `.pgpass` line
 * (and one file's `12:`, before a `.pgpass` line).
 * Also strongSwan's `ipsec.secrets` (`%any : PSK "x"`, `: RSA key.pem "passphrase"`: all after the
 * type) and PHP config (`define('DB_PASSWORD', 'x')`, `$password = 'x';`, `$cfg['password'] = 'x'`;
 * WordPress's `*_SALT` too). nslcd's and pam_ldap's `bindpw PW` (and `rootpwmodpw`, `rootbindpw`,
 * slapd's `rootpw`) are read as Redis's directives are; OpenVPN's inline blocks and static keys by
 * openvpn-secrets.ts. A bare secret word with one value on its line (`password PW`, `Password<TAB>PW`)
 * and Dockerfile's legacy `ENV NAME value` are read as directives too.
 * Not seen: a file whose secret has no key at all (OpenVPN `auth-user-pass`: a user line, then a
 * password line; a Docker secret; pppd's `chap-secrets` lines): shell/secret-files.ts refuses
 * reading the well-known ones.
 */
import { secretValue } from './secret-names.js';
import { maskOpenVpnSecrets } from './openvpn-secrets.js';

const MASK = '***';
type Count = { n: number } | undefined;

/** grep's `FILE:` / `FILE:12:` prefix, then a line's indentation. */
const LEAD = String.raw`(?:[^\s:]+:(?:\d+:)?)?[ \t]*`;
const VALUE = String.raw`([ \t]+)([^\s=:{\[(#].*)$`;

/** `KEY value`: a key whose last word is a secret word, or a Redis password directive. */
const DIRECTIVE = new RegExp(String.raw`^(${LEAD})([A-Za-z][\w.-]*)${VALUE}`, 'gm');
/**
 * The same on a `grep -n -C` context line (`FILE-12-KEY value`). The key holds no `-12-`
 * (the longest prefix wins): with `[\w.-]*` every split of `a-1-a-1-...` rescanned the rest of
 * the line, quadratic.
 */
const CONTEXT_DIRECTIVE = new RegExp(String.raw`^([^\s:]+-\d+-[ \t]*)([A-Za-z](?:[\w.]|-(?!\d+-))*)${VALUE}`, 'gm');
const LAST_WORD = /[-_.](?:pass|password|passwd|passphrase|secret|token)$/;
const CAMEL_LAST = /[a-z0-9](?:Pass|Password|Passwd|Passphrase|Secret|Token)$/;
/** Directives whose value is a password whatever their name's shape: Redis's, nslcd's and pam_ldap's bind passwords, slapd's `rootpw`. */
const REDIS = /^(?:requirepass|masterauth|bindpw|rootpwmodpw|rootbindpw|rootpw)$/i;

/**
 * A key that is a secret word and nothing else (msmtp's or an ssh-config-like `Password x`,
 * `password<TAB>x`, `secret x`), masked only with one value on its line (a quoted one, a `;`
 * or a `#` comment after it): prose goes on in words (`password authentication failed`).
 */
const BARE = /^(?:password|passwd|passphrase|secret|token|psk)$/i;
const ONE_VALUE = /^(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\S+)[ \t]*;?[ \t]*(?:#.*)?$/;

/**
 * Dockerfile's legacy `ENV NAME value` (also `ONBUILD ENV`): the rest of the line is the value,
 * with its `\` continuation lines (each backslash takes the character after it, a newline too:
 * one way to read it). `ENV A=1 B=2` is read by the `NAME=` forms.
 */
const DOCKER_ENV = new RegExp(String.raw`^(${LEAD}(?:ONBUILD[ \t]+)?ENV[ \t]+)([A-Za-z_][\w.-]*)([ \t]+)(?=\S)((?:[^\n\\]|\\[\s\S])*\\?)$`, 'gim');

/** slapd's root password as a hash (`rootpw {SSHA}...`, LDIF `olcRootPW: {SSHA}...`), which DIRECTIVE leaves (a value opening with `{`). */
const ROOTPW_HASH = new RegExp(String.raw`^(${LEAD}(?:rootpw|olcRootPW:)[ \t]+)\{[A-Za-z0-9.-]+\}\S+`, 'gim');

/** Redis Sentinel's `sentinel auth-pass MASTER PW`. */
const SENTINEL = /^([ \t]*sentinel[ \t]+auth-pass[ \t]+\S+[ \t]+)(\S.*)$/gim;
/** A Redis ACL rule line (`user NAME` then rules), its `>password` and `#sha256` words. */
const ACL_LINE = /^([ \t]*user[ \t]+\S+)([ \t].*)$/gm;
const ACL_RULE = /(?:^|[ \t])(?:on|off|nopass|resetpass|reset|allkeys|allcommands|allchannels|~\S*|[+-]@\S+)(?=[ \t]|$)/;
const ACL_SECRET = /([ \t])(>|#(?=[0-9a-fA-F]{64}(?:[ \t]|$)))(\S+)/g;

/** A `.netrc` entry in the text (`machine HOST`, `default login ...`). */
const NETRC_ENTRY = /^[ \t]*(?:machine[ \t]+\S|default(?:[ \t]+(?:login|password|account)\b|[ \t]*$))/m;
const NETRC_LINE = /^[ \t]*(?:machine|default|login|password|account)(?=[ \t]|$).*$/gm;
const NETRC_TOKEN = /(^|[ \t])(password|account)([ \t]+)("(?:[^"\\\n]|\\.)*"?|\S+)/g;

/**
 * `.pgpass`: `host:port:database:user:password`, a port of digits or `*`, `\:` escaped; after
 * grep's `FILE:12:` prefix, or the `12:` of `grep -n` on one file (it once passed unmasked: the
 * line number read as the host and the host as a port).
 */
const PG_FIELD = String.raw`(?:[^:\\\s]|\\.)+`;
const PG_TEXT = String.raw`(?:[^:\\\n]|\\.)+`;
const PGPASS = new RegExp(String.raw`^((?:[^\s:]+:\d+:|\d+:)?${PG_FIELD}:(?:\d{1,5}|\*):${PG_TEXT}:${PG_TEXT}:)(${PG_TEXT})$`, 'gm');

/** Postfix `sasl_passwd`: a relay (`[host]:port`, `host.domain`, `@domain`, `user@domain`), then `user:password`. */
/** A dotted host name; its first `.` is fixed (the run before it holds none), so it reads one way. */
const HOST = String.raw`[A-Za-z0-9-]+\.[A-Za-z0-9.-]+`;
const SASL = new RegExp(String.raw`^([ \t]*(?:\[[^\]\s]+\](?::\d{1,5})?|@?${HOST}(?::\d{1,5})?|[^\s@:]+@${HOST})[ \t]+([^\s:]+):)(\S+)[ \t]*$`, 'gm');
/** Postfix transports (a transport map's `example.com smtp:[relay]`), not users. */
const TRANSPORT = /^(?:smtps?|lmtp|relay|local|virtual|error|discard|retry|uucp|pipe|bsmtp)$/;

/** An htpasswd or shadow line's hash: `{SHA}...`, `$apr1$...`, `$6$salt$...`, `$2y$...`. */
const HASH_LINE = /^([^\s:]+:)(\{S?SHA(?:256|512)?\}[A-Za-z0-9+/=]+|\$[0-9a-z]{1,12}\$[^\s:]+)(?=:|[ \t]*$)/gm;
/** `smbpasswd`: `user:uid:LMHASH:NTHASH:[flags]:...`; 32 X's is no hash. */
const SMBPASSWD = /^([^\s:]+:\d+:)([0-9A-F]{32})(:)([0-9A-F]{32})(?=:\[)/gim;

/**
 * A URL's password (`https://alice:TOKEN@host`: `.git-credentials`, `git remote -v`, a proxy
 * setting), the content detector `password_in_url`'s pattern (src/masking/detectors.ts), here
 * always on: that detector runs only where a policy names it. The greedy class backtracks to the
 * last `@` before a blank, `/`, `?` or `#`, so each try ends there.
 */
const URL_PASSWORD = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@?#]*:)([^\s/?#]+)@/g;

/** strongSwan `ipsec.secrets`: selectors, ` : `, a secret type, then the secret (or a key file and its passphrase). */
const IPSEC = /^([^\n]*?(?:^|[ \t]):[ \t]*(?:PSK|EAP|XAUTH|NTLM|PIN|RSA|ECDSA|BLISS|P12|PKCS12|PKCS8|PRIVATE)[ \t]+)(\S[^\n]*)$/gm;
const PHP_STRING = String.raw`'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"`;
/** PHP `define('NAME', value)`. */
const PHP_DEFINE = new RegExp(String.raw`(\bdefine\(\s*(['"])([A-Za-z_][\w.-]*)\2\s*,\s*)(${PHP_STRING}|[^\s),]+)`, 'g');
/** PHP `$NAME = 'v'` or `$x['a']['NAME'] = 'v'` (the last key names it). */
const PHP_ASSIGN = new RegExp(String.raw`(\$([A-Za-z_]\w*)(?:\[[ \t]*(?:'[^'\n]*'|"[^"\n]*"|\$?\w+)[ \t]*\])*?(?:\[[ \t]*['"]([^'"\n]*)['"][ \t]*\])?[ \t]*=[ \t]*)(${PHP_STRING})`, 'g');
const PHP_SECRET = (name: string, value: string) => secretValue(name, value) || /(?:^|_)SALT$/i.test(name);

const masked = (v: string) => v === MASK || /^X{32}$/i.test(v);

function directives(text: string, count: Count): string {
  const mask = (all: string, lead: string, name: string, gap: string, value: string) => {
    const secret = REDIS.test(name) || LAST_WORD.test(name.toLowerCase()) || CAMEL_LAST.test(name) || (BARE.test(name) && ONE_VALUE.test(value));
    if (!secret || value.trim() === MASK || (!REDIS.test(name) && !secretValue(name, value))) return all;
    if (count) count.n++;
    return `${lead}${name}${gap}${MASK}`;
  };
  let out = /env/i.test(text) ? text.replace(DOCKER_ENV, (all: string, head: string, name: string, gap: string, value: string) => {
    if (value.trim() === MASK || !secretValue(name, value)) return all;
    if (count) count.n++;
    return `${head}${name}${gap}${MASK}`;
  }) : text;
  out = out.replace(DIRECTIVE, mask);
  if (/rootpw/i.test(out)) out = out.replace(ROOTPW_HASH, (_all: string, head: string) => {
    if (count) count.n++;
    return `${head}${MASK}`;
  });
  return /-\d+-/.test(out) ? out.replace(CONTEXT_DIRECTIVE, mask) : out;
}

function redisAcl(text: string, count: Count): string {
  let out = text.replace(SENTINEL, (all: string, head: string, value: string) => {
    if (value === MASK) return all;
    if (count) count.n++;
    return head + MASK;
  });
  if (out.includes('user')) {
    out = out.replace(ACL_LINE, (all: string, head: string, rules: string) => {
      if (!ACL_RULE.test(rules)) return all;
      return head + rules.replace(ACL_SECRET, (w: string, gap: string, sigil: string, value: string) => {
        if (value === MASK) return w;
        if (count) count.n++;
        return `${gap}${sigil}${MASK}`;
      });
    });
  }
  return out;
}

function netrc(text: string, count: Count): string {
  if (!NETRC_ENTRY.test(text)) return text;
  return text.replace(NETRC_LINE, (line: string) =>
    line.replace(NETRC_TOKEN, (all: string, before: string, key: string, gap: string, value: string) => {
      if (value === MASK) return all;
      if (count) count.n++;
      return `${before}${key}${gap}${MASK}`;
    }),
  );
}

function positional(text: string, count: Count): string {
  const bump = () => {
    if (count) count.n++;
  };
  let out = text;
  if (out.includes('://') && out.includes('@')) {
    out = out.replace(URL_PASSWORD, (all: string, head: string, pw: string) => (masked(pw) || pw === '[password]' ? all : (bump(), `${head}${MASK}@`)));
  }
  if (out.includes(':')) {
    out = out.replace(PGPASS, (all: string, head: string, pw: string) => (masked(pw) ? all : (bump(), head + MASK)));
    out = out.replace(SASL, (all: string, head: string, user: string, pw: string) => {
      const hostPort = user.includes('.') && /^\d{1,5}$/.test(pw);
      if (masked(pw) || TRANSPORT.test(user) || pw.startsWith('[') || hostPort) return all;
      bump();
      return head + MASK + all.slice(head.length + pw.length);
    });
    out = out.replace(SMBPASSWD, (_all: string, head: string, lm: string, sep: string, nt: string) => {
      const one = (h: string) => (masked(h) ? h : (bump(), MASK));
      return head + one(lm) + sep + one(nt);
    });
    out = out.replace(HASH_LINE, (_all: string, head: string) => (bump(), head + MASK));
  }
  return out;
}

function ipsecAndPhp(text: string, count: Count): string {
  const bump = (head: string) => {
    if (count) count.n++;
    return head + MASK;
  };
  let out = /PSK|EAP|XAUTH|NTLM|PIN|RSA|ECDSA|BLISS|P12|PKCS|PRIVATE/.test(text) ? text.replace(IPSEC, (all: string, head: string, v: string) => (masked(v) ? all : bump(head))) : text;
  if (out.includes('define')) out = out.replace(PHP_DEFINE, (all: string, head: string, _q: string, name: string, v: string) => (masked(v.replace(/^['"]|['"]$/g, '')) || !PHP_SECRET(name, v) ? all : bump(head)));
  if (out.includes('$')) {
    out = out.replace(PHP_ASSIGN, (all: string, head: string, variable: string, key: string | undefined, v: string) => {
      const name = key ?? variable;
      return masked(v.replace(/^['"]|['"]$/g, '')) || !PHP_SECRET(name, v) ? all : bump(head);
    });
  }
  return out;
}

/** Mask the secrets of the config-file formats above; `count.n` grows by each value masked. */
export function maskConfigSecrets(text: string, count?: { n: number }): string {
  const vpn = maskOpenVpnSecrets(text, count);
  if (!/[ \t:]/.test(vpn)) return vpn;
  let out = directives(vpn, count);
  out = redisAcl(out, count);
  out = netrc(out, count);
  out = ipsecAndPhp(out, count);
  return positional(out, count);
}

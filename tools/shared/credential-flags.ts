/**
 * Passwords a program takes from a flag or a position whose name says nothing: `mysql
 * -phunter2`, `curl -u alice:hunter2`, `sshpass -p`, `smbclient -U alice%pw`, `htpasswd -b FILE
 * USER PASS`, `rabbitmqctl add_user NAME PASS`, `openssl ... -passin pass:PW`, `vault login TOKEN`,
 * `az login -p PW`, `echo PW | docker login --password-stdin`. A `ps` listing, a shell history, a cron table or
 * a script shows them in a command's output; secret-text.ts masks them with the named forms.
 * Why a table per program: `-p` is a password for mysql and sshpass, a port for ssh and docker
 * run, a pid for ps. Generous where unsure (flags before the password flag in a cluster are
 * taken as switches); a program named inside another word (`xmysql`) is not one.
 */

/** Where a password is, for one program family. */
interface Spec {
  /** Short flags whose value (attached, or the next word) is a password: `sshpass -p PW`. */
  value?: string;
  /** Short flags whose attached value only is one (`mysql -pPW`; a lone `-p` prompts). */
  attached?: string;
  /** Short and long flags whose value is `user<sep>password` (no sep: the program prompts). */
  userPass?: { short: string; long: string[]; sep: string };
  /** Only after this word (`docker login -p`; `docker run -p` publishes a port). */
  after?: string;
  /** The words after the program's own options are another command (`sshpass -p PW ssh -p 22`). */
  endsAtCommand?: boolean;
  /** A password given by position among the words. */
  positional?: (words: Word[]) => Word | null;
  /** Words that are a password behind a scheme, the scheme kept (openssl's `-passin pass:PW`). */
  schemes?: string[];
}

interface Word {
  start: number;
  end: number;
  text: string;
}

const MYSQL: Spec = { attached: 'p' };
const LOGIN: Spec = { value: 'p', after: 'login' };
const SMB: Spec = { userPass: { short: 'U', long: ['user'], sep: '%' } };
const MONGO: Spec = { value: 'p' };
const LDAP: Spec = { value: 'w' };

const SPECS: Record<string, Spec> = {
  sshpass: { value: 'p', endsAtCommand: true },
  curl: { userPass: { short: 'uU', long: ['user', 'proxy-user'], sep: ':' } },
  'redis-cli': { value: 'a' },
  lftp: { userPass: { short: 'u', long: ['user'], sep: ',' } },
  useradd: { value: 'p' },
  usermod: { value: 'p' },
  sqlcmd: { value: 'P' },
  bcp: { value: 'P' },
  htpasswd: { positional: htpasswdPassword },
  rabbitmqctl: { positional: rabbitPassword },
  // `-passin pass:PW`, `-passout pass:PW`, `-pass pass:PW`, `-password pass:PW` (env:, file:, fd: name no password).
  openssl: { schemes: ['pass:'] },
  vault: { positional: vaultToken },
};
for (const p of ['mysql', 'mysqldump', 'mysqladmin', 'mysqlimport', 'mysqlcheck', 'mysqlshow', 'mysqlslap', 'mysqlpump', 'mysqlbinlog', 'mariadb', 'mariadb-dump', 'mariadb-admin', 'mariadb-import', 'mariadb-check', 'mariadb-show', 'mariadb-slap']) SPECS[p] = MYSQL;
for (const p of ['docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'oras', 'helm', 'az']) SPECS[p] = LOGIN;
for (const p of ['smbclient', 'rpcclient', 'smbmap', 'smbcacls', 'smbget']) SPECS[p] = SMB;
for (const p of ['mongo', 'mongosh', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport', 'mongostat', 'mongotop', 'mongofiles']) SPECS[p] = MONGO;
for (const p of ['search', 'modify', 'add', 'delete', 'whoami', 'passwd', 'compare', 'modrdn', 'exop']) SPECS[`ldap${p}`] = LDAP;

/** A program's name as a word of its own, after a path or not (`/usr/bin/mysql`, not `xmysql`). */
const PROGRAM = new RegExp(`(?=[${[...new Set(Object.keys(SPECS).map((p) => p[0]))].join('')}])(?<![\\w.-])(${Object.keys(SPECS).sort((a, b) => b.length - a.length).join('|')})(?=[\\s'"]|$)`, 'g');

/** At most this many words per program are read, so many names on one line stay linear. */
const MAX_WORDS = 16;
/** secret-text.ts's SECRET_MASK (not imported: that module calls this one). */
const MASK = '***';

/** The words after `from` up to a command separator or the line's end (quotes run to their end or the line's). */
function wordsFrom(text: string, from: number): Word[] {
  const words: Word[] = [];
  let i = from;
  while (words.length < MAX_WORDS) {
    // A shell line continuation (`\` newline) is a blank: `mysql -uroot \` then `-pPW` on the next line.
    for (;;) {
      if (text[i] === ' ' || text[i] === '\t') i++;
      else if (text[i] === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) i += text[i + 1] === '\n' ? 2 : 3;
      else break;
    }
    const c = text[i];
    if (c === undefined || c === '\n' || c === ';' || c === '|' || c === '&') break;
    const start = i;
    while (i < text.length) {
      const d = text[i];
      if (d === ' ' || d === '\t' || d === '\n' || d === ';' || d === '|' || d === '&') break;
      if (d === "'" || d === '"') {
        const close = d === "'" ? text.indexOf("'", i + 1) : closingDouble(text, i + 1);
        const eol = text.indexOf('\n', i + 1);
        i = close === -1 || (eol !== -1 && eol < close) ? (eol === -1 ? text.length : eol) : close + 1;
      } else i++;
    }
    words.push({ start, end: i, text: text.slice(start, i) });
  }
  return words;
}

function closingDouble(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

const unquote = (s: string): string => s.replace(/^(['"])(.*?)\1?$/s, '$2');

type Edit = { start: number; end: number; text: string };

/** The edits masking the passwords among one program's words. */
function editsFor(spec: Spec, words: Word[]): Edit[] {
  const edits: Edit[] = [];
  const mask = (w: Word, keep: string, value: string, sep?: string): void => {
    const v = unquote(value);
    if (sep !== undefined) {
      const at = v.indexOf(sep);
      if (at === -1 || v.slice(at + 1) === MASK || at === v.length - 1) return;
      edits.push({ start: w.start, end: w.end, text: `${keep}${v.slice(0, at + 1)}${MASK}` });
    } else if (v !== '' && v !== MASK) edits.push({ start: w.start, end: w.end, text: `${keep}${MASK}` });
  };
  let armed = spec.after === undefined;
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!.text;
    if (!armed) {
      armed = w === spec.after;
      continue;
    }
    if (!w.startsWith('-')) {
      if (spec.endsAtCommand) break;
      continue;
    }
    const next = words[k + 1];
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq === -1 ? undefined : eq);
      if (!spec.userPass?.long.includes(name)) continue;
      if (eq !== -1) mask(words[k]!, w.slice(0, eq + 1), w.slice(eq + 1), spec.userPass.sep);
      else if (next) (mask(next, '', next.text, spec.userPass.sep), k++);
      continue;
    }
    for (let i = 1; i < w.length; i++) {
      const f = w[i]!;
      const rest = w.slice(i + 1);
      const sep = spec.userPass?.short.includes(f) ? spec.userPass.sep : undefined;
      if (spec.attached?.includes(f)) {
        if (rest) mask(words[k]!, w.slice(0, i + 1), rest);
      } else if (spec.value?.includes(f) || sep !== undefined) {
        if (rest) mask(words[k]!, w.slice(0, i + 1), rest, sep);
        else if (next) (mask(next, '', next.text, sep), k++);
      } else continue;
      break;
    }
  }
  const p = spec.positional?.(words);
  if (p) mask(p, '', p.text);
  for (const w of spec.schemes ? words : []) {
    const v = unquote(w.text);
    const scheme = spec.schemes!.find((x) => v.startsWith(x));
    if (scheme) mask(w, scheme, v.slice(scheme.length));
  }
  return edits;
}

/** `vault login TOKEN` (a token as its one plain word; `-method=...` logins name theirs `password=`). */
function vaultToken(words: Word[]): Word | null {
  const plain = words.filter((w) => !w.text.startsWith('-'));
  return plain[0]?.text === 'login' && plain[1] && !plain[1].text.includes('=') && plain[1].text !== '-' ? plain[1] : null;
}

/** `htpasswd -b[c] FILE USER PASS`, `htpasswd -nb USER PASS` (-C and -r take a value). */
function htpasswdPassword(words: Word[]): Word | null {
  let batch = false;
  let noFile = false;
  const plain: Word[] = [];
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!.text;
    if (w.startsWith('-') && w.length > 1) {
      batch ||= w.includes('b');
      noFile ||= w.includes('n');
      if (/[Cr]$/.test(w)) k++;
    } else plain.push(words[k]!);
  }
  return batch ? (plain[noFile ? 1 : 2] ?? null) : null;
}

/** `rabbitmqctl add_user NAME PASS`, `change_password NAME PASS`, `authenticate_user NAME PASS`. */
function rabbitPassword(words: Word[]): Word | null {
  const plain = words.filter((w) => !w.text.startsWith('-'));
  const at = plain.findIndex((w) => /^(add_user|change_password|authenticate_user)$/.test(w.text));
  return at === -1 ? null : (plain[at + 2] ?? null);
}

/**
 * An argv (a container's `command` then `args`, one string per word) with the passwords its
 * programs take from flags or positions masked. Why: masked one word at a time, `-phunter2`
 * is not known as mysql's without the `mysqldump` word before it. Each word is read as one
 * (its blanks, quotes and separators made plain characters), so positions map back to words.
 */
export function maskCredentialArgv(argv: readonly string[]): string[] {
  const starts: number[] = [];
  let line = '';
  for (const w of argv) {
    if (line) line += ' ';
    starts.push(line.length);
    line += w.length ? w.replace(/[\s;|&'"]/g, '_') : '_';
  }
  const out = [...argv];
  // Each word by where it starts: an edit finds its word at once (a long argv, such as every line of an output, stays linear).
  const at = new Map(starts.map((s, i) => [s, i]));
  for (const e of credentialEdits(line)) {
    const k = at.get(e.start) ?? -1;
    if (k === -1 || e.start + (argv[k]!.length || 1) !== e.end || !e.text.endsWith(MASK)) continue;
    out[k] = argv[k]!.slice(0, e.text.length - MASK.length) + MASK;
  }
  return out;
}

/** The edits masking every program's passwords in a text. */
function credentialEdits(text: string): Edit[] {
  const edits: Edit[] = [];
  let last: Word[] = [];
  PROGRAM.lastIndex = 0;
  for (let m = PROGRAM.exec(text); m; m = PROGRAM.exec(text)) {
    const at = m.index;
    if (last.some((w) => at > w.start && at < w.end)) continue; // inside a word the last program read (a quoted value)
    last = wordsFrom(text, at + m[0].length);
    for (const e of editsFor(SPECS[m[1]!]!, last)) edits.push(e);
  }
  return edits;
}

/**
 * A password echoed into a program that reads it from stdin (`echo PW | docker login -u u
 * --password-stdin`, `printf '%s' PW | helm registry login --password-stdin`): the echoed word.
 * Linear: the echoed word and the rest of the line are runs without a `|` or newline.
 */
const STDIN_PASSWORD = /(?<![\w.-])((?:echo|printf)[ \t]+(?:-[neE]+[ \t]+|'%s\\?n?'[ \t]+|"%s\\?n?"[ \t]+)?)('[^'\n]*'|"[^"\n]*"|[^\s|'"]+)([ \t]*\|[^|\n]*--password-stdin)/g;

function stdinEdits(text: string): Edit[] {
  if (!text.includes('--password-stdin')) return [];
  const edits: Edit[] = [];
  for (const m of text.matchAll(STDIN_PASSWORD)) {
    const start = m.index + m[1]!.length;
    const v = unquote(m[2]!);
    // A variable (`"$TOKEN"`) names where the password is; it is not one.
    if (v !== MASK && !v.startsWith('$')) edits.push({ start, end: start + m[2]!.length, text: MASK });
  }
  return edits;
}

/** Mask the passwords given by program-specific flags and positions; `count.n` grows by each value masked. */
export function maskCredentialFlags(text: string, count?: { n: number }): string {
  const edits = [...credentialEdits(text), ...stdinEdits(text)];
  if (!edits.length) return text;
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of edits) {
    if (e.start < at) continue;
    out += text.slice(at, e.start) + e.text;
    at = e.end;
    if (count) count.n++;
  }
  return out + text.slice(at);
}

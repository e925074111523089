/**
 * Programs that read a command language with shell escapes (psql `\!`, sqlite3 `.shell`, mysql
 * `system`, dc `!`, m4 `syscmd`, ...), as one table: which of their options carry text in that
 * language, name a script file, an output that may be `|cmd`, or load code. An allow rule that
 * grants one of them lets it read only text the line shows, and only without an escape
 * (language-escapes.ts); what feeds it on standard input must be echo or printf, whose text is
 * judged too (fed-text.ts). Deny rules see these programs through deny-runs.ts (ESCAPING).
 */
import { fedTexts } from './fed-text.js';
import { dcEscape, ftpEscape, gnuplotEscape, lftpEscape, m4Escape, mysqlEscape, psqlEscape, sqliteEscape, type TextJudge } from './language-escapes.js';
import { mysqlFiles, psqlFiles, sqliteFiles, type FileAccess, type FileJudge } from './language-file-access.js';
import type { ShellCommand } from './types.js';

/**
 * What an option does: its value is text in the language, a script file (`-` is standard input),
 * an output file that may be `|cmd`, some other value, a value only when attached (`-pSECRET`),
 * or it is refused (`deny`: why), taking a value or not.
 */
type OptionKind = 'text' | 'script' | 'output' | 'value' | 'attached' | { deny: string; value: boolean };

interface Language {
  judge: TextJudge;
  /** The files its text reads and writes (language-file-access.ts), held to a grant's `paths:`. */
  files?: FileJudge;
  /** sqlite3: the first operand is the database file (written too), not text. */
  database?: boolean;
  /** Short option letters, or for `words` programs (sqlite3) whole option names after `-`/`--`. */
  short: Readonly<Record<string, OptionKind>>;
  long: Readonly<Record<string, OptionKind>>;
  /** sqlite3's options are whole words (`-cmd`), not getopt clusters. */
  words?: boolean;
  /** What an operand is: text in the language, a script file, or a name (database, host) never run. */
  operands: 'text' | 'script' | 'name';
}

const value = (...names: string[]): Record<string, OptionKind> => Object.fromEntries(names.map((n) => [n, 'value' as const]));
const deny = (why: string, takesValue = true): OptionKind => ({ deny: why, value: takesValue });

const PSQL: Language = {
  judge: psqlEscape,
  files: psqlFiles,
  short: { ...value('d', 'v', 'F', 'h', 'p', 'U', 'P', 'R', 'T'), c: 'text', f: 'script', o: 'output', L: 'output' },
  long: {
    ...value('dbname', 'set', 'variable', 'field-separator', 'host', 'port', 'username', 'pset', 'record-separator', 'table-attr'),
    command: 'text', file: 'script', output: 'output', 'log-file': 'output',
  },
  operands: 'name',
};
const MYSQL: Language = {
  judge: mysqlEscape,
  files: mysqlFiles,
  short: { ...value('D', 'h', 'P', 'u', 'S', 'O'), e: 'text', p: 'attached', G: deny('lets client commands (system) stand anywhere in a line', false) },
  long: {
    ...value('database', 'host', 'port', 'user', 'socket', 'login-path', 'delimiter', 'protocol', 'character-sets-dir', 'default-character-set'),
    execute: 'text', 'init-command': 'text', password: 'attached',
    pager: deny('runs a pager command'), tee: deny('writes its output to a file'),
    'defaults-file': deny('reads options (a pager among them) from a file Warden cannot read'),
    'defaults-extra-file': deny('reads options (a pager among them) from a file Warden cannot read'),
    'plugin-dir': deny('chooses where plugin libraries load from'), 'default-auth': deny('loads an authentication plugin library'),
    'named-commands': deny('lets client commands (system) stand anywhere in a line', false),
  },
  operands: 'name',
};
const SQLITE: Language = {
  judge: sqliteEscape,
  files: sqliteFiles,
  database: true,
  short: {
    ...value('separator', 'newline', 'nullvalue', 'vfs', 'maxsize', 'mmap', 'escape', 'heap', 'lookaside', 'pagecache'),
    cmd: 'text', init: 'script', A: deny('(archive mode) reads and writes files', false), archive: deny('(archive mode) reads and writes files', false),
  },
  long: {},
  words: true,
  operands: 'text',
};
const DC: Language = { judge: dcEscape, short: { e: 'text', f: 'script' }, long: { expression: 'text', file: 'script' }, operands: 'script' };
const M4: Language = {
  judge: m4Escape,
  short: { ...value('I', 'U', 'l', 'W', 'H', 'L', 'S', 'T', 'B'), D: 'text', d: 'attached', R: deny('loads a frozen state of macro definitions'),
    F: deny('writes a frozen state file'), o: deny('writes a debug file') },
  long: {
    ...value('include', 'undefine', 'arglength', 'nesting-limit', 'word-regexp', 'hashsize'), define: 'text', debug: 'attached',
    'reload-state': deny('loads a frozen state of macro definitions'), 'freeze-state': deny('writes a frozen state file'),
    debugfile: deny('writes a debug file'), 'error-output': deny('writes a debug file'),
  },
  operands: 'script',
};
const GNUPLOT: Language = { judge: gnuplotEscape, short: { e: 'text', c: 'script' }, long: {}, operands: 'script' };
const FTP: Language = {
  judge: ftpEscape,
  // tnftp's -o saves an auto-fetched file, or pipes it to `|cmd`; -N names a netrc, whose init macro runs ftp commands (`!cmd`).
  short: { ...value('P', 's', 'T', 'r', 'u'), o: 'output', N: deny('reads a netrc file, whose init macro runs commands') },
  long: { netrc: deny('reads a netrc file, whose init macro runs commands') },
  operands: 'name',
};
const LFTP: Language = {
  judge: lftpEscape,
  short: { ...value('p', 'u'), c: 'text', e: 'text', f: 'script' },
  long: { ...value('user', 'port', 'password'), rcfile: deny('runs commands from a file Warden cannot read') },
  operands: 'name',
};

/** The programs with a command language; a test keeps it in step with runners.ts ESCAPING, which deny rules use. */
export const LANGUAGES: ReadonlyMap<string, Language> = new Map([
  ['psql', PSQL], ['mysql', MYSQL], ['mariadb', MYSQL], ['sqlite3', SQLITE], ['dc', DC], ['m4', M4], ['gnuplot', GNUPLOT], ['ftp', FTP], ['lftp', LFTP],
]);

/** One option word's use: its kind, how it was spelled, and its value. */
interface Use {
  kind: OptionKind;
  spelled: string;
  value: string;
}

/** The options and operands of `args` under `lang`, generously: an unknown letter is a flag, and the walk goes on. */
function walk(lang: Language, args: readonly string[]): { uses: Use[]; operands: string[] } {
  const uses: Use[] = [];
  const operands: string[] = [];
  const takes = (k: OptionKind): boolean => k === 'text' || k === 'script' || k === 'output' || k === 'value' || (typeof k === 'object' && k.value);
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      operands.push(w);
      continue;
    }
    if (lang.words === true || w.startsWith('--')) {
      const body = w.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const table = lang.words === true ? lang.short : lang.long;
      // GNU getopt takes an unambiguous prefix; every option the prefix could be counts.
      const hits = Object.entries(table).filter(([n]) => (lang.words === true ? n === name || (n === 'A' && name.startsWith('A')) : name !== '' && n.startsWith(name)));
      const consumes = eq < 0 && hits.some(([, k]) => takes(k));
      const v = eq >= 0 ? body.slice(eq + 1) : consumes ? (args[i + 1] ?? '') : '';
      for (const [, kind] of hits) uses.push({ kind, spelled: w, value: v });
      if (consumes) i++;
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const kind = lang.short[w[k] as string];
      if (kind === undefined) continue;
      const rest = w.slice(k + 1);
      if (kind === 'attached') break;
      if (!takes(kind)) {
        uses.push({ kind, spelled: w, value: '' });
        continue;
      }
      uses.push({ kind, spelled: w, value: rest !== '' ? rest : (args[i + 1] ?? '') });
      if (rest === '') i++;
      break;
    }
  }
  return { uses, operands };
}

/** What a command's words and feed give its language: texts (operands apart), output option values, operands; or why they cannot be read. */
type Read = { why: string } | { texts: string[]; outputs: string[]; operands: string[] };

function read(base: string, lang: Language, cmd: ShellCommand, feed: ShellCommand | 'none' | 'unknown'): Read {
  const { uses, operands } = walk(lang, cmd.args);
  const texts: string[] = [];
  const outputs: string[] = [];
  for (const u of uses) {
    if (typeof u.kind === 'object') return { why: `${base} ${u.spelled} ${u.kind.deny}.` };
    if (u.kind === 'text') texts.push(u.value);
    // An empty script (`sqlite3 -init /dev/null`, what Warden's own rebuild adds) runs nothing.
    if (u.kind === 'script' && u.value !== '-' && u.value !== '/dev/null') return { why: `${base} ${u.spelled} runs a script file, whose commands Warden cannot read.` };
    if (u.kind === 'output' && u.value.trimStart().startsWith('|')) return { why: `${base} ${u.spelled} '${u.value}' sends output to a command.` };
    if (u.kind === 'output') outputs.push(u.value);
  }
  const script = lang.operands === 'script' ? operands.find((o) => o !== '-') : undefined;
  if (script !== undefined) return { why: `${base} runs the script file '${script}', whose commands Warden cannot read.` };
  if (feed === 'unknown') return { why: `${base} reads commands on standard input, fed from outside this command line.` };
  if (feed !== 'none') {
    const fed = fedTexts(feed);
    if (fed === null) return { why: `${base} reads commands on standard input, and what ${feed.program} writes there is not text Warden can read.` };
    texts.push(...fed);
  }
  return { texts, outputs, operands };
}

/**
 * Why `cmd`, a program with a command language, may run another program, or null (also for
 * any other program). `feed`: the command before it in the pipeline, 'unknown' when what feeds
 * it cannot be told (an ssh remote command fed by the line), 'none' when nothing feeds it.
 */
export function languageEscape(cmd: ShellCommand, feed: ShellCommand | 'none' | 'unknown'): string | null {
  const base = cmd.program;
  const lang = LANGUAGES.get(base);
  if (lang === undefined) return null;
  const r = read(base, lang, cmd, feed);
  if ('why' in r) return r.why;
  const texts = lang.operands === 'text' ? [...r.texts, ...r.operands] : r.texts;
  for (const t of texts) {
    const escape = lang.judge(t);
    if (escape !== null) return `${base}: ${escape}.`;
  }
  return null;
}

/**
 * The files `cmd` reads and writes through its language (psql `\o FILE`, `\copy ... FROM FILE`,
 * `-o FILE`, `-L FILE`, sqlite3's database, `.output FILE` and `.import FILE`, mysql `INTO
 * OUTFILE` and `LOAD DATA LOCAL INFILE`, ...), or why they cannot be read; null for a program
 * without them. condition.ts holds them to the grant's `paths:`.
 */
export function languageFiles(cmd: ShellCommand, feed: ShellCommand | 'none' | 'unknown'): FileAccess | null {
  const lang = LANGUAGES.get(cmd.program);
  if (lang?.files === undefined) return null;
  const r = read(cmd.program, lang, cmd, feed);
  if ('why' in r) return { unreadable: r.why };
  const reads: string[] = [];
  const writes = [...r.outputs];
  const db = lang.database === true ? r.operands[0] : undefined;
  if (db !== undefined && db !== '' && db !== ':memory:') writes.push(db);
  const texts = lang.operands === 'text' ? [...r.texts, ...r.operands.slice(lang.database === true ? 1 : 0)] : r.texts;
  for (const t of texts) {
    const a = lang.files(t);
    if ('unreadable' in a) return a;
    reads.push(...a.reads);
    writes.push(...a.writes);
  }
  return { reads, writes };
}

/**
 * The files that psql, mysql/mariadb and sqlite3 text writes (psql `\o FILE`, `\copy ... TO
 * 'FILE'`, mysql `INTO OUTFILE 'FILE'`, sqlite3 `.output FILE`, `ATTACH 'FILE'`, ...), read
 * from a text the line shows, so that a grant's `paths:` holds them like any written file
 * (condition.ts). Generous and fail-closed: a name spelled in a way not read here (escapes,
 * concatenation, an expression, a comment next to it) is `unreadable`, and the grant refuses.
 */

/** What a text writes: the files it names, or why a name cannot be read. */
export type Written = { files: string[] } | { unreadable: string };
/** A write judge over one text. */
export type WriteJudge = (text: string) => Written;

/**
 * A quoted SQL string (`'..'` with `''`, and `".."` where `double`) or, where `bare`, an unquoted
 * word at the start of `s` (after blanks), and what follows it; null when it is spelled another
 * way (escapes, E'', $$, a comment) or glued to more text (adjacent literals concatenate).
 */
function literal(s: string, bare: boolean, double = false): { value: string; rest: string } | null {
  const t = s.replace(/^\s+/, '');
  const q = double ? /^'((?:[^'\\]|'')*)'|^"((?:[^"\\]|"")*)"/ : /^'((?:[^'\\]|'')*)'/;
  const m = q.exec(t) ?? (bare ? /^[^\s'"`;\\()]+/.exec(t) : null);
  if (m === null) return null;
  const rest = t.slice(m[0].length);
  if (/^\s*['"]/.test(rest) || (rest !== '' && !/^[\s;)\\]/.test(rest))) return null;
  const value = m[1] !== undefined ? m[1].replace(/''/g, "'") : m[2] !== undefined ? m[2].replace(/""/g, '"') : m[0];
  return { value, rest };
}

/** The words of a psql meta-command's arguments (up to the next backslash), or null when one cannot be read. */
function metaWords(args: string): string[] | null {
  const words: string[] = [];
  let s = args;
  for (;;) {
    s = s.replace(/^[ \t\r]+/, '');
    if (s === '' || s.startsWith('\\')) return words;
    const w = literal(s, true);
    if (w === null) return null;
    words.push(w.value);
    s = w.rest;
  }
}

/** `COPY`/`\copy` targets: every word after a `TO` once `copy` appears (generously: `GRANT ... TO app` counts too). */
function copyTargets(text: string, files: string[]): string | null {
  const at = text.search(/\bcopy\b/i);
  if (at < 0) return null;
  for (const m of text.slice(at).matchAll(/\bto\b/gi)) {
    const after = text.slice(at + (m.index ?? 0) + m[0].length);
    if (/^\s*(stdout|pstdout|program)\b/i.test(after)) continue;
    const w = literal(after, true);
    if (w === null) return 'the file name after COPY ... TO cannot be read';
    files.push(w.value);
  }
  return null;
}

/** psql meta-commands that write a file, and which argument names it. */
const PSQL_WRITERS: Readonly<Record<string, number>> = { o: 0, out: 0, g: 0, gx: 0, w: 0, write: 0, s: 0, lo_export: 1 };

/** psql: `\o`, `\out`, `\g`, `\gx`, `\w`, `\write`, `\s`, `\lo_export`, and `\copy`/`COPY ... TO`. */
export const psqlWrites: WriteJudge = (text) => {
  const files: string[] = [];
  for (const m of text.matchAll(/\\([A-Za-z0-9_]+)(?=([^\n]*))/g)) {
    const name = (m[1] as string).toLowerCase();
    const at = PSQL_WRITERS[name];
    if (at === undefined) continue;
    let args = m[2] as string;
    if (name === 'g' || name === 'gx') args = args.replace(/^\s*\([^)]*\)/, ''); // \g (format=csv) FILE
    const words = metaWords(args);
    if (words === null) return { unreadable: `the file name of \\${name} cannot be read` };
    if (words[at] !== undefined) files.push(words[at] as string);
  }
  const why = copyTargets(text, files);
  return why === null ? { files } : { unreadable: why };
};

/** mysql/mariadb: `SELECT ... INTO OUTFILE 'f'` and `INTO DUMPFILE 'f'` (written by the server). */
export const mysqlWrites: WriteJudge = (text) => {
  const files: string[] = [];
  for (const m of text.matchAll(/(outfile|dumpfile)(?![\w$])/gi)) {
    const w = literal(text.slice((m.index ?? 0) + m[0].length), false, true);
    if (w === null) return { unreadable: `the file name after ${m[1] as string} cannot be read` };
    files.push(w.value);
  }
  return { files };
};

/** The words of a sqlite3 dot-command line, or null when one cannot be read. */
function dotWords(line: string): string[] | null {
  const words: string[] = [];
  let s = line;
  for (;;) {
    s = s.replace(/^\s+/, '');
    if (s === '') return words;
    const m = /^'([^']*)'|^"([^"\\]*)"|^[^\s'"]+/.exec(s);
    if (m === null) return null;
    s = s.slice(m[0].length);
    if (s !== '' && !/^\s/.test(s)) return null;
    words.push(m[1] ?? m[2] ?? m[0]);
  }
}

/** sqlite3 dot-commands (any prefix) that write the files their arguments name; names not files. */
const SQLITE_WRITERS = ['output', 'once', 'save', 'backup', 'clone', 'log', 'trace', 'iotrace', 'open'];
const SQLITE_NOT_FILES = new Set(['stdout', 'stderr', 'off', 'on']);
/** Dot-commands that write files whose names Warden does not read (an archive's members, a session's changeset). */
const SQLITE_UNREAD = ['archive', 'session'];

/** One sqlite3 dot-command line's written files, or why they cannot be read. */
function dotWrites(line: string, files: string[]): string | null {
  const words = dotWords(line);
  if (words === null) return `the arguments of '${line.trim().split(/\s/)[0] ?? ''}' cannot be read`;
  const name = (words[0] ?? '').slice(1).toLowerCase();
  if (name === '') return null;
  if (SQLITE_UNREAD.some((c) => c.startsWith(name))) return `.${name} writes files Warden cannot name`;
  if ('testcase'.startsWith(name)) files.push('testcase-out.txt');
  if (!SQLITE_WRITERS.some((c) => c.startsWith(name))) return null;
  const args = words.slice(1).filter((w) => !w.startsWith('-') && !SQLITE_NOT_FILES.has(w.toLowerCase()));
  // `.backup ?DB? FILE`: with two arguments, the first names a schema.
  files.push(...(args.length === 2 && ['save', 'backup'].some((c) => c.startsWith(name)) ? args.slice(1) : args));
  return null;
}

/** sqlite3: dot-commands that write (`.output`, `.once`, `.save`, `.backup`, `.log`, ...), `ATTACH 'f'`, `VACUUM INTO 'f'`, zipfile. */
export const sqliteWrites: WriteJudge = (text) => {
  const files: string[] = [];
  // A dot-command takes its line; an operand or -cmd that starts with '.' is one command whatever its newlines.
  const lines = text.split('\n').filter((l) => /^\s*\./.test(l));
  if (/^\s*\./.test(text) && text.includes('\n')) lines.push(text.replace(/\s+/g, ' '));
  for (const line of lines) {
    const why = dotWrites(line, files);
    if (why !== null) return { unreadable: why };
  }
  if (/\bzipfile\b/i.test(text)) return { unreadable: 'zipfile writes an archive Warden cannot name' };
  for (const m of text.matchAll(/\battach\b/gi)) {
    const after = text.slice((m.index ?? 0) + m[0].length).replace(/^\s*(database\b)?/i, '');
    const w = literal(after, false);
    if (w === null || !/^\s*as\b/i.test(w.rest)) return { unreadable: 'the file name after ATTACH cannot be read' };
    files.push(w.value);
  }
  for (const m of text.matchAll(/\bvacuum\b/gi)) {
    const stmt = (text.slice((m.index ?? 0) + m[0].length).split(';')[0] as string);
    if (!/into/i.test(stmt)) continue;
    const into = /^\s*(?:[A-Za-z_]\w*\s+)?into\b/i.exec(stmt);
    const w = into === null ? null : literal(stmt.slice(into[0].length), false);
    if (w === null || w.rest.trim() !== '') return { unreadable: 'the file name after VACUUM INTO cannot be read' };
    files.push(w.value);
  }
  return { files: files.filter((f) => f !== '' && f !== ':memory:') };
};

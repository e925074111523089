/**
 * The files that psql, mysql/mariadb and sqlite3 text reads and writes, read from a text the
 * line shows, so that a grant's `paths:` holds them like any file a program touches
 * (condition.ts). Writes: psql `\o FILE`, `\copy ... TO 'FILE'`, mysql `INTO OUTFILE 'FILE'`,
 * sqlite3 `.output FILE`, `ATTACH 'FILE'`, .... Reads: psql `\copy ... FROM FILE`,
 * `\lo_import FILE`, mysql `LOAD DATA [LOCAL] INFILE 'FILE'`, sqlite3 `.import FILE`, `.restore`,
 * `readfile('FILE')`, `fsdir('DIR')`. Generous and fail-closed: a name spelled in a way not read
 * here (escapes, concatenation, an expression, a comment next to it) is `unreadable`, and the
 * grant refuses. Script files (`\i`, `.read`, `source`) are not reads: language-escapes.ts
 * refuses them outright, since their commands are never read.
 */

/** What a text reads and writes: the files it names, or why a name cannot be read. */
export type FileAccess = { reads: string[]; writes: string[] } | { unreadable: string };
/** A file judge over one text. */
export type FileJudge = (text: string) => FileAccess;

/** The files found so far in one text. */
interface Found {
  reads: string[];
  writes: string[];
}
const found = (): Found => ({ reads: [], writes: [] });

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

/**
 * `COPY`/`\copy` files. Writes: every word after a `TO` once `copy` appears (generously: `GRANT
 * ... TO app` counts too). Reads: every word after a `FROM` that follows a `copy` of a table
 * (`COPY (query)` only writes), to the end of the text (generously: a later `SELECT ... FROM t`
 * counts too; statement ends are not trusted, since comments nest and strings hide `;`).
 */
function copyFiles(text: string, f: Found): string | null {
  const at = text.search(/\bcopy\b/i);
  if (at < 0) return null;
  for (const m of text.slice(at).matchAll(/\bto\b/gi)) {
    const after = text.slice(at + (m.index ?? 0) + m[0].length);
    if (/^\s*(stdout|pstdout|program)(?![^\s;])/i.test(after)) continue;
    const w = literal(after, true);
    if (w === null) return 'the file name after COPY ... TO cannot be read';
    f.writes.push(w.value);
  }
  for (const c of text.matchAll(/\bcopy\b(?!\s*\()/gi)) {
    const from = (c.index ?? 0) + c[0].length;
    for (const m of text.slice(from).matchAll(/\bfrom\b/gi)) {
      const after = text.slice(from + (m.index ?? 0) + m[0].length);
      if (/^\s*(stdin|pstdin|program)(?![^\s;])/i.test(after)) continue;
      const w = literal(after, true);
      if (w === null) return 'the file name after COPY ... FROM cannot be read';
      f.reads.push(w.value);
    }
  }
  return null;
}

/** psql meta-commands that read or write a file, and which argument names it. */
const PSQL_FILES: Readonly<Record<string, readonly ['reads' | 'writes', number]>> = {
  o: ['writes', 0], out: ['writes', 0], g: ['writes', 0], gx: ['writes', 0], w: ['writes', 0], write: ['writes', 0], s: ['writes', 0],
  lo_export: ['writes', 1], lo_import: ['reads', 0],
};

/** psql: `\o`, `\out`, `\g`, `\gx`, `\w`, `\write`, `\s`, `\lo_export`, `\lo_import`, and `\copy`/`COPY ... TO|FROM`. */
export const psqlFiles: FileJudge = (text) => {
  const f = found();
  for (const m of text.matchAll(/\\([A-Za-z0-9_]+)(?=([^\n]*))/g)) {
    const name = (m[1] as string).toLowerCase();
    const use = PSQL_FILES[name];
    if (use === undefined) continue;
    let args = m[2] as string;
    if (name === 'g' || name === 'gx') args = args.replace(/^\s*\([^)]*\)/, ''); // \g (format=csv) FILE
    const words = metaWords(args);
    if (words === null) return { unreadable: `the file name of \\${name} cannot be read` };
    const file = words[use[1]];
    if (file !== undefined) f[use[0]].push(file);
  }
  const why = copyFiles(text, f);
  return why === null ? f : { unreadable: why };
};

/** mysql/mariadb: `INTO OUTFILE`/`DUMPFILE 'f'` (the server writes), `LOAD DATA|XML [LOCAL] INFILE 'f'` (the client or the server reads). */
export const mysqlFiles: FileJudge = (text) => {
  const f = found();
  // No look-behind: a versioned comment glues the keyword to digits (`/*!50000OUTFILE*/`).
  for (const m of text.matchAll(/(outfile|dumpfile|infile)(?![\w$])/gi)) {
    const w = literal(text.slice((m.index ?? 0) + m[0].length), false, true);
    if (w === null) return { unreadable: `the file name after ${m[1] as string} cannot be read` };
    f[(m[1] as string).toLowerCase() === 'infile' ? 'reads' : 'writes'].push(w.value);
  }
  return f;
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
/** `.import`'s options that take a value (`--skip N`, `--schema S`; one dash or two). */
const IMPORT_VALUES = /^--?(skip|schema)$/;

/** The file `.import [OPTIONS] FILE TABLE` reads. */
function importFile(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (IMPORT_VALUES.test(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** One sqlite3 dot-command line's files, or why they cannot be read. */
function dotFiles(line: string, f: Found): string | null {
  const words = dotWords(line);
  if (words === null) return `the arguments of '${line.trim().split(/\s/)[0] ?? ''}' cannot be read`;
  const name = (words[0] ?? '').slice(1).toLowerCase();
  if (name === '') return null;
  const args = words.slice(1);
  if (SQLITE_UNREAD.some((c) => c.startsWith(name))) return `.${name} writes files Warden cannot name`;
  if ('testcase'.startsWith(name)) f.writes.push('testcase-out.txt');
  if ('import'.startsWith(name)) f.reads.push(importFile(args) ?? '');
  if ('restore'.startsWith(name)) f.reads.push(...args.slice(args.length === 2 ? 1 : 0));
  if (!SQLITE_WRITERS.some((c) => c.startsWith(name))) return null;
  const named = args.filter((w) => !w.startsWith('-') && !SQLITE_NOT_FILES.has(w.toLowerCase()));
  // `.backup ?DB? FILE`: with two arguments, the first names a schema.
  f.writes.push(...(named.length === 2 && ['save', 'backup'].some((c) => c.startsWith(name)) ? named.slice(1) : named));
  return null;
}

/** sqlite3 SQL functions that read the file their one argument names: readfile('f'), fsdir('dir') (a second argument is a base directory). */
function fileFunctions(text: string, f: Found): string | null {
  for (const m of text.matchAll(/(?<![\w$])(readfile|fsdir)(?![\w$])/gi)) {
    const after = text.slice((m.index ?? 0) + m[0].length);
    const open = /^\s*\(/.exec(after);
    const w = open === null ? null : literal(after.slice(open[0].length), false);
    if (w === null || !/^\s*\)/.test(w.rest)) return `the file name ${m[1] as string}() reads cannot be read`;
    f.reads.push(w.value);
  }
  return null;
}

/** sqlite3: dot-commands that read or write (`.import`, `.restore`, `.output`, `.save`, ...), `ATTACH 'f'`, `VACUUM INTO 'f'`, readfile(), fsdir(), zipfile. */
export const sqliteFiles: FileJudge = (text) => {
  const f = found();
  // A dot-command takes its line; an operand or -cmd that starts with '.' is one command whatever its newlines.
  const lines = text.split('\n').filter((l) => /^\s*\./.test(l));
  if (/^\s*\./.test(text) && text.includes('\n')) lines.push(text.replace(/\s+/g, ' '));
  for (const line of lines) {
    const why = dotFiles(line, f);
    if (why !== null) return { unreadable: why };
  }
  if (/\bzipfile\b/i.test(text)) return { unreadable: 'zipfile writes an archive Warden cannot name' };
  const why = fileFunctions(text, f);
  if (why !== null) return { unreadable: why };
  for (const m of text.matchAll(/\battach\b/gi)) {
    const after = text.slice((m.index ?? 0) + m[0].length).replace(/^\s*(database\b)?/i, '');
    const w = literal(after, false);
    if (w === null || !/^\s*as\b/i.test(w.rest)) return { unreadable: 'the file name after ATTACH cannot be read' };
    f.writes.push(w.value);
  }
  for (const m of text.matchAll(/\bvacuum\b/gi)) {
    const stmt = (text.slice((m.index ?? 0) + m[0].length).split(';')[0] as string);
    if (!/into/i.test(stmt)) continue;
    const into = /^\s*(?:[A-Za-z_]\w*\s+)?into\b/i.exec(stmt);
    const w = into === null ? null : literal(stmt.slice(into[0].length), false);
    if (w === null || w.rest.trim() !== '') return { unreadable: 'the file name after VACUUM INTO cannot be read' };
    f.writes.push(w.value);
  }
  const keep = (files: string[]): string[] => files.filter((x) => x !== '' && x !== ':memory:');
  return { reads: keep(f.reads), writes: keep(f.writes) };
};

/**
 * Judges of the command languages that psql, mysql, sqlite3, dc, m4, gnuplot, ftp and lftp read:
 * each finds, in a text the line shows, a shell escape, a pipe to a command, an editor, a script
 * file or code loading, generously (a string literal that merely looks like one counts too).
 * Each returns the escape as a phrase, or null.
 */

/** A text judge: the escape `text` uses, or null. */
export type TextJudge = (text: string) => string | null;

/** psql meta-commands that run an editor, read a script file, or set a variable a later command runs. */
const PSQL_EDITORS = /^(e|edit|ef|ev)$/;
const PSQL_INCLUDES = /^(i|ir|include|include_relative)$/;
/** psql meta-commands whose file argument may be `|command`. */
const PSQL_PIPES = /^(o|out|g|gx|w|write)$/;

/** SQL with its string literals, quoted names and comments emptied (where psql interpolates no variable). */
function sqlCode(text: string): string {
  return text
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, "''")
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""');
}

/**
 * psql: `\!`, `\o |cmd` and its kin, editors, `\i FILE`, `\setenv`, backquotes (run by the shell
 * in a meta-command's argument), `COPY ... PROGRAM`, and a `:name` interpolation (psql lexes the
 * value again, so `\!` may hide in a variable).
 */
export const psqlEscape: TextJudge = (text) => {
  if (text.includes('`')) return 'backquoted text in a psql meta-command runs a shell command';
  // The rest of the line is looked at, not consumed: a line may hold several meta-commands (`\dt \! id`).
  for (const m of text.matchAll(/\\([A-Za-z]+|!)(?=([^\n]*))/g)) {
    const name = m[1] as string;
    const rest = m[2] as string;
    if (name === '!') return '\\! runs a shell command';
    if (PSQL_EDITORS.test(name)) return `\\${name} runs an editor`;
    if (PSQL_INCLUDES.test(name)) return `\\${name} runs commands from a file Warden cannot read`;
    if (name === 'setenv') return '\\setenv sets a variable (PAGER, EDITOR, PSQL_PAGER) that a later command runs';
    if (PSQL_PIPES.test(name) && rest.includes('|')) return `\\${name} |... sends output to a command`;
  }
  if (/\bcopy\b[\s\S]*\bprogram\b/i.test(text)) return 'COPY ... PROGRAM (and \\copy ... program) runs a command';
  if (/(?<!:):(?:['"]?[A-Za-z_]|\{\?)/.test(sqlCode(text))) return 'a :variable interpolation puts in text (maybe a meta-command) Warden does not judge';
  return null;
};

/** mysql/mariadb client commands (short form anywhere, long form where a statement starts). */
const MYSQL_SHORT: Readonly<Record<string, string>> = { '!': 'system', '.': 'source', e: 'edit', P: 'pager', T: 'tee' };

/** mysql: `system`/`\!`, `pager`/`\P`, `edit`/`\e`, `source`/`\.` (a script file), `tee`/`\T` (writes a file). */
export const mysqlEscape: TextJudge = (text) => {
  const short = /\\([!.ePT])/.exec(text);
  if (short !== null) return `\\${short[1] as string} (${MYSQL_SHORT[short[1] as string] ?? ''}) runs a command, an editor or a script file, or writes a file`;
  // Blanks after the start without line breaks: each break is a start of its own (`\s*` rereading
  // them from every break was quadratic in blank lines).
  const long = /(?:^|[;\n])[^\S\n]*(system|source|edit|pager|tee)\b/im.exec(text);
  if (long !== null) return `the client command ${long[1] as string} runs a command, an editor or a script file, or writes a file`;
  return null;
};

/** sqlite3 dot-commands (any prefix of them, as the shell takes) that run a command, load code or read a script. */
const SQLITE_ALWAYS = ['shell', 'system', 'load', 'read', 'excel', 'www'];
const SQLITE_OPENERS = ['once', 'output'];

/** sqlite3: `.shell`, `.system`, `.load`, `.read`, `.excel`, `.once -x`, any `|` in a dot-command, and edit()/load_extension()/writefile(). */
export const sqliteEscape: TextJudge = (text) => {
  for (const line of text.split(/[\n;]/)) {
    const m = /^\s*\.(\S*)(.*)$/s.exec(line);
    if (m === null) continue;
    const name = (m[1] as string).toLowerCase();
    const rest = m[2] as string;
    if (name !== '' && SQLITE_ALWAYS.some((c) => c.startsWith(name))) return `.${name} runs a command, loads code or reads a script file`;
    if (rest.includes('|') || name.includes('|')) return `.${name} with '|' pipes to or from a command`;
    if (name !== '' && SQLITE_OPENERS.some((c) => c.startsWith(name)) && /(^|\s)--?[exw]/.test(rest)) return `.${name} -x/-e/-w opens a program`;
  }
  const fn = /\b(edit|load_extension|writefile)\s*\(/i.exec(text);
  if (fn !== null) return `${fn[1] as string}() runs an editor, loads code or writes a file`;
  return null;
};

/** dc: `!` runs the rest of the line as a shell command (`!<`, `!>`, `!=` are comparisons). */
export const dcEscape: TextJudge = (text) => (/!(?![<>=])/.test(text) ? '! runs a shell command' : null);

/**
 * m4: any macro call with arguments. syscmd and esyscmd run commands, and a macro can return
 * their name built from pieces (`ifelse(,,sys`'cmd)(id)`), so no `(` is let through at all.
 */
export const m4Escape: TextJudge = (text) => (text.includes('(') ? 'a macro call (syscmd, esyscmd, or one built from pieces) can run commands' : null);

/** gnuplot: system(), `!`, backquotes, pipes and `< cmd` data files, load/call/eval/macros (text built at run time), import (a library). */
export const gnuplotEscape: TextJudge = (text) => {
  const m = /system|shell|[!`|<@]|\b(load|call|eval\w*|import)\b/.exec(text);
  return m === null ? null : `'${m[0]}' can run a command or code Warden does not read`;
};

/** ftp: `!cmd`, `|cmd` as a local file, and `$macro`. */
export const ftpEscape: TextJudge = (text) => {
  const m = /[!|$]/.exec(text);
  return m === null ? null : `'${m[0]}' runs a local command or a macro`;
};

/** lftp: `!cmd`, pipes, backquotes, `>` (writes a file), and commands that run a script or set what later commands run. */
export const lftpEscape: TextJudge = (text) => {
  const m = /[!|`>]|on-change|(?:^|[;&\n])[^\S\n]*(source|shell|exec|set|alias|eval|at|queue|local|edit)\b/.exec(text);
  return m === null ? null : `'${m[0].trim()}' runs a local command or a script`;
};

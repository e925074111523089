/**
 * Query results printed as tables (psql, mysql, sqlite3 over ssh_run or kubectl_exec): the value
 * of a secret column stands under its name, not beside it, so the name forms of secret-text.ts
 * never read it (`psql -c 'select * from users'` showed every password). Here the header names
 * the columns, by the one rule of secret-names.ts (a `token_count` column's numbers stay), and
 * each form psql prints is read:
 * - aligned and wrapped tables (border 0, 1, 2; ASCII or Unicode lines): the rule under the
 *   header gives each column's span; a row whose separators are not where the rule puts them
 *   (wide characters, a `|` in a value) is split at its separators, and when that gives another
 *   count of cells the whole row is masked, fail closed;
 * - expanded records (`-x`, `\x auto`: `-[ RECORD 1 ]---` then `password | x`; border 0's
 *   `* Record 1`): a secret-named field's value and its continuation lines;
 * - unaligned and CSV output (`-A`, `-F` of `|`, `,`, `;` or a tab, `--csv` with its quoting):
 *   a header of names, one of them secret, masks that column in the rows below it, to a blank
 *   line, a `(N rows)` footer or the end; a row of another cell count is masked whole;
 * - unaligned expanded records (`-A -x`: `password|x`): a line whose first cell is a secret
 *   name has the rest masked, and so does each line after it up to the next `name|` line.
 * Not seen: a result without a header (`-t`) or with a harmless alias (`select password as x`):
 * the agent writes the query, so a policy granting psql to ssh_run trusts the agent with its rows.
 */
import { secretName, secretValue } from './secret-names.js';

const MASK = '***';
/** A rule under an aligned header (psql, mysql's `+---+`, sqlite's boxes, Markdown's `|---|`): dash runs joined by junctions (blanks for border 0). */
const RULE = /^[+|├┌└╔╠╚]?[-─═][-─═+|┼┬┴╪╬ ]*[-─═+|┤┐┘╗╣╝]$|^[-─═]$/;
/** Column separators of aligned rows. */
const SEPARATOR = /[|│║]/;
/** An expanded record's header, any border or line style. */
const RECORD = /^(?:[+┌├╔╠]?[-─═]\[ RECORD \d+ \].*|\* Record \d+[ \t]*)$/;
/** psql's footer under a table. */
const FOOTER = /^\(\d+ rows?\)$/;
/** A header cell of an unaligned table: a column name (CSV may quote it). */
const HEADER_CELL = /^(?:[A-Za-z_][\w$.-]{0,62}|"[^"\n]{1,63}")$/;
/** Separators of unaligned output (psql `-F`, `--csv`). */
const UNALIGNED_SEPARATORS = ['|', ',', ';', '\t'];
/**
 * A line starting with a column name and an unaligned separator (`-A -x`: `password|x`); after
 * `,` or `;` no blank (psql writes none): `X-Auth-Token, X-User` and `Token, please` are no field.
 * After a tab no `=` or `:`: `password<TAB>=<TAB>x` is an ini line, which the name forms read.
 */
const NAMED_LINE = /^([A-Za-z_][\w$.]{0,62})(\||[,;](?![ \t])|\t(?![ \t]*[=:]))/;

const unquote = (cell: string): string => {
  const t = cell.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
};

/**
 * The indices of the columns whose header names a secret. Why one reader: every form (aligned,
 * expanded, unaligned, CSV) judges a column by the same header rule.
 */
export function secretColumns(header: readonly string[]): number[] {
  const out: number[] = [];
  header.forEach((h, i) => {
    if (secretName(unquote(h))) out.push(i);
  });
  return out;
}

/** Is this cell of a secret column to be masked (not empty, not a count beside a count name)? */
const maskCell = (name: string, cell: string): boolean => {
  // psql's wrap and newline marks (`.`, `+`; `…`, `↵` in Unicode style) are not the value's.
  const v = cell.trim().replace(/^[.…]|[+.…↵]$/g, '').trim();
  return v !== '' && v !== MASK && secretValue(unquote(name), v);
};

/** The dash runs of a rule line, as [start, end) character spans. */
function spans(rule: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of rule.matchAll(/[-─═]+/g)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/** A row's cells by the rule's spans, or null when a separator is not where the rule puts it. */
function byPosition(row: string, rule: string, cols: [number, number][]): string[] | null {
  const border0 = / /.test(rule);
  for (let p = 0; p < rule.length; p++) {
    if (/[-─═]/.test(rule[p] as string) || p >= row.length) continue;
    const c = row[p] as string;
    if (border0 ? !/[ +.]/.test(c) : !SEPARATOR.test(c)) return null;
  }
  return cols.map(([s, e]) => row.slice(s, e));
}

/** A row's cells split at its separators (border 2's outer ones dropped), or null. */
function bySeparator(row: string, border2: boolean, n: number): string[] | null {
  if (!SEPARATOR.test(row)) return null;
  let cells = row.split(SEPARATOR);
  if (border2) cells = cells.slice(1, -1);
  return cells.length === n ? cells : null;
}

/** A cell replaced by the mask, its width kept where it can be. */
const masked = (cell: string): string => (cell.startsWith(' ') ? ' ' : '') + MASK.padEnd(Math.max(0, cell.length - (cell.startsWith(' ') ? 1 : 0)));

/** Mask an aligned table whose rule is line `r` (header at r-1); returns the index after it. */
function alignedTable(lines: string[], r: number, count: { n: number }): number {
  const rule = lines[r] as string;
  const cols = spans(rule);
  const header = lines[r - 1] as string;
  const border2 = /^[+|├┌╔╠]/.test(rule);
  const names = byPosition(header, rule, cols) ?? bySeparator(header, border2, cols.length);
  if (names === null) return r + 1;
  const secret = secretColumns(names);
  if (secret.length === 0 || (cols.length === 1 && !/^[ \t]*\S+[ \t]*$/.test(header.replace(SEPARATOR, ' ')))) return r + 1;
  let i = r + 1;
  for (; i < lines.length; i++) {
    const row = lines[i] as string;
    if (row.trim() === '' || FOOTER.test(row) || RULE.test(row)) break;
    const pos = byPosition(row, rule, cols);
    if (pos !== null) {
      let out = row;
      // From the last column back, so earlier spans keep their places.
      for (const c of [...secret].reverse()) {
        const [s, e] = cols[c] as [number, number];
        if (s >= out.length || !maskCell(names[c] as string, pos[c] as string)) continue;
        out = out.slice(0, s) + masked(out.slice(s, e)) + out.slice(Math.min(e, out.length));
        count.n++;
      }
      // The last column's blanks are psql's only where the row had them.
      lines[i] = /[ \t]$/.test(row) ? out : out.trimEnd();
      continue;
    }
    const cells = bySeparator(row, border2, cols.length);
    if (cells === null) {
      lines[i] = MASK;
      count.n++;
      continue;
    }
    for (const c of secret) {
      if (!maskCell(names[c] as string, cells[c] as string)) continue;
      cells[c] = masked(cells[c] as string);
      count.n++;
    }
    const seps = row.match(new RegExp(SEPARATOR.source, 'g')) ?? [];
    const all = border2 ? ['', ...cells, ''] : cells;
    lines[i] = all.map((cell, k) => cell + (k < seps.length ? seps[k] : '')).join('');
  }
  return i;
}

/** Mask an expanded record's fields from line `i` (after its header); returns the index after it. */
function expandedRecord(lines: string[], i: number, count: { n: number }): number {
  let secret = false;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '' || RECORD.test(line) || RULE.test(line) || FOOTER.test(line)) break;
    // `| name | value |` (border 2), `name | value` (border 1), `name value` (border 0).
    const m = /^([|│║] )?([^|│║]*?)([ \t]*[|│║] ?|[ \t]+)(.*)$/.exec(line);
    if (m === null) continue;
    const [, lead = '', name = '', sep = '', value = ''] = m;
    if (name.trim() !== '') secret = maskCell(name, value) || (secretName(name.trim()) && value.trim() === '');
    else if (!secret || value.trim() === '') continue;
    if (!secret || value.trim() === MASK) continue;
    lines[i] = `${lead}${name}${sep}${MASK}`;
    count.n++;
  }
  return i;
}

/** Split an unaligned row at `sep`, a quoted cell (CSV) read to its closing quote; null when a quote stays open. */
function unalignedCells(row: string, sep: string): string[] | null {
  const cells: string[] = [];
  let at = 0;
  while (true) {
    if (row[at] === '"') {
      const close = /^"(?:[^"]|"")*"/.exec(row.slice(at));
      if (close === null) return null;
      const end = at + close[0].length;
      if (end < row.length && !row.startsWith(sep, end)) return null;
      cells.push(row.slice(at, end));
      if (end >= row.length) return cells;
      at = end + sep.length;
      continue;
    }
    const next = row.indexOf(sep, at);
    if (next < 0) {
      cells.push(row.slice(at));
      return cells;
    }
    cells.push(row.slice(at, next));
    at = next + sep.length;
  }
}

/** The header cells and separator of an unaligned table starting at `line`, or null. */
function unalignedHeader(line: string): { sep: string; names: string[] } | null {
  for (const sep of UNALIGNED_SEPARATORS) {
    if (!line.includes(sep)) continue;
    const names = unalignedCells(line, sep);
    if (names !== null && names.length >= 2 && names.every((c) => HEADER_CELL.test(c)) && secretColumns(names).length > 0) return { sep, names };
  }
  return null;
}

/** Mask an unaligned or CSV table whose header is line `h`; returns the index after it. */
function unalignedTable(lines: string[], h: number, sep: string, names: string[], count: { n: number }, dropped: Set<number>): number {
  const secret = secretColumns(names);
  let i = h + 1;
  while (i < lines.length) {
    const first = lines[i] as string;
    if (first.trim() === '' || FOOTER.test(first)) break;
    // A quoted cell may hold line breaks: the row runs on until its quotes close (or the table ends).
    let j = i;
    let row = first;
    let cells = unalignedCells(row, sep);
    while (cells === null && j + 1 < lines.length && (lines[j + 1] as string).trim() !== '') {
      row += `\n${lines[++j] as string}`;
      cells = unalignedCells(row, sep);
    }
    if (cells === null || cells.length !== names.length) {
      for (let k = i; k <= j; k++) lines[k] = MASK;
      count.n++;
    } else {
      let hit = false;
      for (const c of secret) {
        if (!maskCell(names[c] as string, cells[c] as string)) continue;
        cells[c] = cells[c]!.startsWith('"') ? `"${MASK}"` : MASK;
        hit = true;
        count.n++;
      }
      if (hit) {
        // The row's lines become one (a masked cell held the line breaks); the others are dropped.
        lines[i] = cells.join(sep);
        for (let k = i + 1; k <= j; k++) dropped.add(k);
      }
    }
    i = j + 1;
  }
  return i;
}

/**
 * `-A -x` records: a line starting with a secret name and a separator has the rest masked, and so
 * has each line after it that holds no separator (a value's further lines) up to a blank line.
 */
function namedLines(lines: string[], count: { n: number }): void {
  let open = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const m = NAMED_LINE.exec(line);
    if (m !== null) {
      const rest = line.slice(m[0].length);
      const secret = secretName(m[1] as string) && (rest.trim() === '' || maskCell(m[1] as string, rest));
      open = secret ? (m[2] as string) : '';
      if (secret && rest.trim() !== '' && rest.trim() !== MASK) {
        lines[i] = m[0] + MASK;
        count.n++;
      }
      continue;
    }
    if (line.trim() === '' || FOOTER.test(line) || (open !== '' && line.includes(open))) open = '';
    else if (open !== '' && line.trim() !== MASK) lines[i] = MASK;
  }
}

/** Mask the secret columns of the tables in a command's output (see the module comment); `count.n` grows by each value masked. */
export function maskSecretColumns(text: string, count: { n: number } = { n: 0 }): string {
  if (!/[|│║,;\t-]/.test(text)) return text;
  const lines = text.split('\n');
  const cr = lines.map((l) => l.endsWith('\r'));
  const body = lines.map((l, k) => (cr[k] ? l.slice(0, -1) : l));
  const before = count.n;
  // The `-A -x` reading is made on the text as printed, and joined with the tables' below.
  const orig = body.slice();
  const named = body.slice();
  namedLines(named, count);
  const dropped = new Set<number>();
  for (let i = 0; i < body.length; ) {
    const line = body[i] as string;
    if (RECORD.test(line)) {
      i = expandedRecord(body, i + 1, count);
      continue;
    }
    if (i > 0 && RULE.test(line) && (body[i - 1] as string).trim() !== '') {
      i = alignedTable(body, i, count);
      continue;
    }
    const header = /^["A-Za-z_]/.test(line) && i + 1 < body.length && !RULE.test(body[i + 1] as string) ? unalignedHeader(line) : null;
    i = header === null ? i + 1 : unalignedTable(body, i, header.sep, header.names, count, dropped);
  }
  if (count.n === before) return text;
  const out: string[] = [];
  for (let k = 0; k < body.length; k++) {
    if (dropped.has(k)) continue;
    // A line both readings masked (a two-column header that was a record's first field) is masked whole.
    const [n, b, o] = [named[k] as string, body[k] as string, orig[k] as string];
    const line = n === o ? b : b === o ? n : MASK;
    out.push(cr[k] ? `${line}\r` : line);
  }
  return out.join('\n');
}

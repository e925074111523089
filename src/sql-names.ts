/**
 * SQL identifier rules for names written in policies, shared by the policy loader
 * (src/policy/sql-names.ts) and the postgres family (tools/postgres/analysis/names.ts, through
 * src/tool-api.ts): an unquoted part folds to lower case (ASCII only, as PostgreSQL and the
 * lexer do); a "quoted" part keeps its case, with "" standing for one quote. A part containing
 * '.' is refused: facts join parts with '.', so it could not be told apart from a qualified name.
 * Why a leaf module: src/policy may not import tools/, and tools/ import only src/tool-api.ts.
 */

const UNQUOTED_PART = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/;

/** Identifier parts of a dotted name, or why it is ill-formed. */
export function sqlNameParts(name: string): string[] | string {
  const text = name.trim();
  if (!text) return 'empty name';
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let part = '';
    if (text[i] === '"') {
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return 'unterminated quoted identifier';
        part += text.slice(j, q);
        if (text[q + 1] !== '"') {
          i = q + 1;
          break;
        }
        part += '"';
        j = q + 2;
      }
      if (!part) return 'zero-length quoted identifier';
      if (part.includes('.')) return `quoted identifier "${part}" contains ".", which cannot be told apart from a qualified name`;
    } else {
      const m = UNQUOTED_PART.exec(text.slice(i));
      if (!m) return `expected an identifier at ${i < text.length ? JSON.stringify(text.slice(i, i + 20)) : 'the end'}`;
      part = m[0].replace(/[A-Z]/g, (c) => c.toLowerCase());
      i += m[0].length;
    }
    if (Buffer.byteLength(part, 'utf8') > 63) return 'identifier longer than 63 bytes (PostgreSQL truncates identifiers)';
    parts.push(part);
    if (i === text.length) return parts;
    if (text[i] !== '.') return `unexpected ${JSON.stringify(text[i])} after identifier "${part}"`;
    i++;
  }
}

/**
 * The key a `functions:` entry and a statement's call are compared by: quotes dropped, lower
 * case, `pg_catalog.` taken off (a built-in is spelled without its schema). One spelling for the
 * postgres family (analysis/names.ts functionKey), policy lint and explain.
 */
export function functionKey(name: string): string {
  const bare = name.replace(/"/g, '').trim().toLowerCase();
  return bare.startsWith('pg_catalog.') ? bare.slice('pg_catalog.'.length) : bare;
}

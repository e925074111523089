/**
 * SQL names in policies (`masking.columns`, and the tables lint reads from `sql:` blocks) by SQL
 * identifier rules, the same rule the postgres family applies to `sql:` tables
 * (tools/postgres/analysis/names.ts, which src/policy may not import): an unquoted part folds
 * to lower case (ASCII, as PostgreSQL does), a "quoted" part keeps its case with "" as one
 * quote, an unqualified pg_* table is in pg_catalog and any other in public.
 */

const UNQUOTED_PART = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/;

/** Identifier parts of a dotted name, or why it is ill-formed. */
export function sqlNameParts(name: string): string[] | string {
  const text = name.trim();
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

function qualify(parts: string[]): string[] {
  if (parts.length > 1) return parts;
  return [parts[0]!.startsWith('pg_') ? 'pg_catalog' : 'public', ...parts];
}

/** Why a masked column name is not [schema.]table.column, or null. */
export function columnNameProblem(name: string): string | null {
  const parts = sqlNameParts(name);
  if (typeof parts === 'string') return `expected [schema.]table.column: ${parts}`;
  return parts.length === 2 || parts.length === 3 ? null : 'expected [schema.]table.column, each part an identifier or a "quoted identifier"';
}

/** `users.email` / `"Public".Users.email` -> `public.users.email` / `Public.users.email`. */
export function normaliseColumnName(name: string): string {
  const parts = sqlNameParts(name);
  if (typeof parts === 'string' || parts.length < 2) return name.trim(); // refused by the schema at load
  return [...qualify(parts.slice(0, -1)), parts.at(-1)!].join('.');
}

/** `users` -> `public.users`, `"Secrets"` -> `public.Secrets`; an ill-formed name as written. */
export function normaliseTableName(name: string): string {
  const parts = sqlNameParts(name);
  if (typeof parts === 'string') return name.trim(); // refused by the sql: schema at load
  return qualify(parts).join('.');
}

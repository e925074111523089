/**
 * Select-list items that an ORDER BY, GROUP BY or DISTINCT ON item names by output name or
 * position (PostgreSQL reads a bare integer as the output column at that position and a bare
 * name as an output column's name), so that predicates.ts walks the expression it stands for.
 * A set operation's ORDER BY (node-sql-parser hangs it on the last branch) names the first
 * branch's output columns, and the column at a position is that position in every branch
 * (setOutputItems).
 */
import { type Scope, identText } from './context.js';

type Node = Record<string, unknown>;

/** One branch of a set operation (UNION, INTERSECT, EXCEPT): its scope and its select list. */
export type SetBranch = { scope: Scope; columns: unknown };

const isStar = (c: Node): boolean => {
  const x = c?.expr as Node | undefined;
  return x?.type === 'column_ref' && (x.column === '*' || identText(x.column) === '*');
};

/** The expression an ORDER BY / GROUP BY / DISTINCT ON item holds (its `expr` unless it is a column itself). */
function itemExpr(item: unknown): Node | null {
  const o = item as Node | null;
  const e = (o && typeof o === 'object' && o.expr && o.type !== 'column_ref' ? o.expr : o) as Node | null;
  return e && typeof e === 'object' ? e : null;
}

/** The bare name an item is (a column reference without a table), else null. */
function bareName(e: Node): string | null {
  return e.type === 'column_ref' && !e.table ? identText(e.column) : null;
}

/** Whether a select-list item may be output under `name`: its alias, or its implied name when known (outputName). */
function mayBeNamed(c: Node, name: string): boolean {
  if (c.as) return identText(c.as) === name;
  const implied = outputName(c.expr as Node);
  return implied === null || implied === name;
}

/**
 * The select-list expressions an ORDER BY, GROUP BY or DISTINCT ON item may stand for (ORDER BY
 * and DISTINCT ON read a name as an output column before the input columns, GROUP BY after).
 * Without this, `SELECT abs(ascii(u.email) - g) AS k, g FROM users u, generate_series(1, 255) g
 * ORDER BY k LIMIT 1` (or `ORDER BY 1`, `GROUP BY k`) orders on a join of the masked column,
 * whose masked cell hides nothing when g returns the code. Fail closed: past a `*` positions
 * are unknown (every later item may be meant), and an unaliased item whose output name is not
 * known (outputName) may carry any name.
 */
export function outputItems(item: unknown, columns: unknown): unknown[] {
  if (!Array.isArray(columns)) return [];
  const e = itemExpr(item);
  if (!e) return [];
  const cols = columns as Node[];
  if (e.type === 'number') {
    const n = Number(e.value);
    if (!Number.isInteger(n) || n < 1) return [];
    const star = cols.findIndex(isStar);
    if (star >= 0 && star < n) return cols.slice(star).filter((c) => !isStar(c)).map((c) => c.expr);
    return cols[n - 1] ? [cols[n - 1]!.expr] : [];
  }
  const name = bareName(e);
  if (!name) return [];
  return cols.filter((c) => !isStar(c) && mayBeNamed(c, name)).map((c) => c.expr);
}

/**
 * What a set operation's ORDER BY item may stand for: the expressions, each with its branch's
 * scope, at the output position it names, in every branch. PostgreSQL takes output names from
 * the first branch; fail closed, a name counts at every position where any branch may carry it.
 * From the first `*` of any branch on, positions are unknown: every later item of every branch
 * is meant. Without this, `SELECT 1000 AS k, 0 AS g UNION ALL SELECT abs(ascii(u.email) - g) AS
 * x, g FROM users u, generate_series(1, 255) g ORDER BY k LIMIT 1` ordered the union on the
 * second branch's join of the masked column, matched only against the last branch's names.
 */
export function setOutputItems(item: unknown, branches: readonly SetBranch[]): { expr: unknown; scope: Scope }[] {
  const e = itemExpr(item);
  if (!e) return [];
  const lists = branches.map((b) => (Array.isArray(b.columns) ? (b.columns as Node[]) : []));
  const stars = lists.map((cols) => cols.findIndex(isStar)).filter((i) => i >= 0);
  const unknownFrom = stars.length ? Math.min(...stars) : Infinity;
  const width = Math.max(0, ...lists.map((cols) => cols.length));
  const at = new Set<number>();
  if (e.type === 'number') {
    const n = Number(e.value);
    if (!Number.isInteger(n) || n < 1) return [];
    if (n - 1 < unknownFrom) at.add(n - 1);
  } else {
    const name = bareName(e);
    if (!name) return [];
    for (let i = 0; i < Math.min(width, unknownFrom); i++) {
      if (lists.some((cols) => cols[i] && mayBeNamed(cols[i]!, name))) at.add(i);
    }
  }
  for (let i = unknownFrom; i < width; i++) at.add(i);
  const out: { expr: unknown; scope: Scope }[] = [];
  branches.forEach((b, k) => {
    for (const i of at) {
      const c = lists[k]![i];
      if (c && !isStar(c)) out.push({ expr: c.expr, scope: b.scope });
    }
  });
  return out;
}

/** The output name PostgreSQL gives an unaliased select-list expression, when it is sure to be known here (else null). */
function outputName(x: Node | null | undefined): string | null {
  if (!x || typeof x !== 'object') return null;
  switch (x.type) {
    case 'column_ref':
      return identText(x.column);
    case 'function': {
      const parts = (x.name as Node | undefined)?.name;
      const last = Array.isArray(parts) ? (parts[parts.length - 1] as Node | undefined) : undefined;
      return last ? identText(last) : null;
    }
    case 'aggr_func':
      return typeof x.name === 'string' ? x.name.toLowerCase() : null;
    case 'case':
      return 'case';
    case 'binary_expr':
      return '?column?';
    default:
      return null;
  }
}


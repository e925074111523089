/**
 * WITH lists: each query's body and column renames, WITH RECURSIVE self-references, and names
 * of later queries in a recursive list (refused in FROM, see context.ts laterCte). The SELECT
 * walker is passed in (`analyze`) so this module and select.ts do not import each other in a cycle.
 */
import { parseError } from '../../../src/tool-api.js';
import { type Ctx, type OutCol, type Scope, identText, renameRel, SELF_REFERENCE, uniqSources, wholeRow } from './context.js';
import type { SourceColumn } from './types.js';

type Node = Record<string, unknown>;

/** The SELECT walker (select.ts analyzeSelect), passed in because select.ts imports this module. */
export type AnalyzeSelect = (node: Node, parent: Scope | null, ctx: Ctx) => OutCol[];

/** Counter for the placeholder source of each recursive CTE's self-reference (see resolveSelf). */
let selfRefs = 0;

/**
 * A WITH list. Under RECURSIVE (which the parser marks on the first query only) every query of
 * the list may refer to itself, and PostgreSQL lets one name a query later in the list, which
 * it analyses first: `WITH RECURSIVE a AS (SELECT name FROM users), users AS (SELECT ssn AS
 * name FROM public.users)` reads the second `users`, not the table. Analysed in written order,
 * a later name is refused rather than taken for a table.
 */
export function addCtes(ctes: Node[], scope: Scope, ctx: Ctx, analyze: AnalyzeSelect): void {
  const recursive = ctes.some((c) => c.recursive);
  ctes.forEach((cte, i) => {
    scope.later = recursive ? new Set(ctes.slice(i + 1).map((c) => identText(c.name)).filter((n): n is string => !!n)) : undefined;
    addCte(cte, scope, ctx, recursive, analyze);
  });
  scope.later = undefined;
}

function addCte(cte: Node, scope: Scope, ctx: Ctx, recursive: boolean, analyze: AnalyzeSelect): void {
  const name = identText(cte.name);
  if (!name) throw parseError('CTE name not understood');
  ctx.accounted.add(name);
  const stmt = cte.stmt as Node | undefined;
  if (!stmt) throw parseError('CTE body not understood');
  const body = (stmt.ast as Node | undefined) ?? stmt;
  const renames = Array.isArray(cte.columns) ? (cte.columns as unknown[]).map((c) => identText(c)) : [];
  const self: SourceColumn | null = recursive ? { table: `${SELF_REFERENCE}${++selfRefs}`, column: '*' } : null;
  if (self) scope.ctes.set(name, { alias: name, kind: 'opaque', sources: [self], names: renames.length ? renames.filter((n): n is string => !!n) : firstTermNames(body) });
  if (body.type !== 'select') ctx.constructs.add('data_modifying_cte');
  const cols = analyze(body, scope, ctx);
  if (self) replaySelfUses(ctx, self, selfSources(cols, self));
  scope.ctes.set(name, renameRel({ alias: name, kind: 'derived', cols: self ? resolveSelf(cols, self) : cols }, renames));
}

/** Every source a recursive CTE's columns draw from, its self-reference aside: what the self-reference stands for. */
function selfSources(cols: OutCol[], self: SourceColumn): SourceColumn[] {
  return uniqSources(cols.flatMap((c) => (c.starRel ? wholeRow(c.starRel) : c.sources)).filter((s) => s.table !== self.table));
}

/**
 * The recursive term's predicates and function arguments on the self-reference (Ctx.selfUses)
 * are uses of what it stands for: `WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM users UNION
 * ALL SELECT n + 1, e FROM r WHERE n < ascii(e)) SELECT count(*) FROM r` counts to the first
 * character's code, a subquery's predicate on users.email (predicate-channels.ts refuses it
 * under masks). Any column of the self-reference stands for all of them, as in resolveSelf.
 */
function replaySelfUses(ctx: Ctx, self: SourceColumn, all: SourceColumn[]): void {
  const uses = ctx.selfUses.get(self.table) ?? [];
  ctx.selfUses.delete(self.table);
  for (const use of uses) use(all);
}

/**
 * A recursive CTE's rows re-enter it through its self-reference, and the recursive term may put
 * any column of an earlier row into any column: wherever the placeholder `self` reached, it
 * stands for every source the CTE's columns draw from (one step reaches the fixpoint).
 */
function resolveSelf(cols: OutCol[], self: SourceColumn): OutCol[] {
  const isSelf = (s: SourceColumn): boolean => s.table === self.table;
  const all = selfSources(cols, self);
  const swap = (list: SourceColumn[]): SourceColumn[] => uniqSources([...list.filter((s) => !isSelf(s)), ...all]);
  return cols.map((c) => {
    if (c.starRel?.kind === 'opaque' && c.starRel.sources.some(isSelf)) {
      const sources = swap(c.starRel.sources);
      return { ...c, sources, starRel: { ...c.starRel, sources } };
    }
    return c.sources.some(isSelf) ? { ...c, sources: swap(c.sources) } : c;
  });
}

/** Output names of a recursive CTE's first (non-recursive) term, to resolve `cte.col` in its body. */
function firstTermNames(body: Node): string[] {
  const cols = Array.isArray(body.columns) ? (body.columns as Node[]) : [];
  const names: string[] = [];
  for (const c of cols) {
    const as = identText(c.as);
    const expr = c.expr as Node | undefined;
    const name = as ?? (expr?.type === 'column_ref' ? identText(expr.column) : null);
    if (name && name !== '*') names.push(name);
  }
  return names;
}

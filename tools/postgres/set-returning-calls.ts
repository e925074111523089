/**
 * Set-returning functions outside pg_catalog fed a masked column. A function that returns a set
 * multiplies its query's rows by what it returns, so a masked value in its arguments is a count
 * computed from it (`SELECT count(*) FROM (SELECT public.explode(email) FROM users) x`), wherever
 * it is called. The built-in ones are listed (analysis/functions.ts SET_RETURNING_FUNCTIONS) and
 * refused as a predicate channel (predicate-channels.ts); a function of another schema (a public
 * function declared RETURNS SETOF or RETURNS TABLE, an extension's, information_schema's) is not,
 * and a grant with no `sql` block, or one listing it, lets an agent call it. Analysis records the
 * columns each such call is fed (SqlFacts.qualifiedFunctionArguments); here, while masks apply and
 * one of those is masked (through views too), the catalog says whether the function returns a
 * set (pg_proc.proretset, any overload of the name: which one runs is PostgreSQL's choice), and
 * the statement is refused if so, or if the catalog has no function of that name (fail closed:
 * PostgreSQL would refuse the call anyway). A lookup that fails refuses the statement too.
 * A view's own definition is judged the same way: the columns it feeds to such functions are
 * entries of its masking lineage (view-lineage.ts VIEW_CALL), resolved down to base tables, so
 * `SELECT count(*) FROM v` over `CREATE VIEW v AS SELECT public.explode(email) FROM users` is
 * refused though the statement names no masked column.
 * Functions called without a schema resolve to pg_catalog's (connector.ts refuses one that
 * public also has), so they are judged by the list alone.
 * Names found not to return a set are cached per name for the catalog's TTL; the others are
 * asked again. No masks, or no masked column fed to such a call: no round trip.
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import { lineageMasks } from './column-masking.js';
import { throughViews, VIEW_CALL, type ViewLineages } from './view-lineage.js';
import type { Caller } from './pool-shares.js';

/**
 * Of the names asked ($1, schema.name as facts spell them), those an overload of which returns a
 * set, and those found only not to. A name matches any split of schema and function at a '.'
 * (a schema or function name may hold one). Functions are schema-qualified: a public overload of
 * unnest(text[]) or bool_or must not answer for pg_catalog's.
 */
const SETS_SQL = `WITH found AS (
  SELECT f.name, pg_catalog.bool_or(p.proretset) AS sets
  FROM pg_catalog.unnest($1::text[]) AS f(name)
  JOIN pg_catalog.pg_proc p ON true
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname::text || '.' || p.proname::text = f.name
  GROUP BY f.name)
SELECT ARRAY(SELECT name FROM found WHERE sets) AS sets, ARRAY(SELECT name FROM found WHERE NOT sets) AS plain`;

/** One catalog query (the connector's read-only pool), on a session of its caller's share (connector.ts). */
export type CatalogQuery = (text: string, values: unknown[], caller?: Caller) => Promise<{ rows: unknown[] }>;

/** What the catalog says of functions outside pg_catalog, cached per connection (connector.ts). */
export class SetReturningCatalog {
  /** When each name was last found to have no set-returning overload. */
  private plain = new Map<string, number>();

  constructor(
    private readonly query: CatalogQuery,
    private readonly ttlMs: number,
  ) {}

  /** Of `names`, those that return a set and those the catalog has no function of; one query for the names not known plain, on `caller`'s share (connector.ts). */
  async judge(names: readonly string[], caller?: Caller): Promise<{ sets: string[]; unknown: string[] }> {
    const now = Date.now();
    const ask = [...new Set(names)].filter((n) => now - (this.plain.get(n) ?? -Infinity) > this.ttlMs);
    if (ask.length === 0) return { sets: [], unknown: [] };
    const r = await this.query(SETS_SQL, [ask], caller);
    const row = r.rows[0] as { sets?: unknown; plain?: unknown } | undefined;
    if (!row || !Array.isArray(row.sets) || !Array.isArray(row.plain)) throw new WardenError(ErrorCode.BACKEND, 'the catalog did not answer');
    const sets = new Set(row.sets.map(String));
    const plain = new Set(row.plain.map(String));
    for (const n of ask) if (plain.has(n)) this.plain.set(n, now);
    return { sets: ask.filter((n) => sets.has(n)), unknown: ask.filter((n) => !sets.has(n) && !plain.has(n)) };
  }
}

/**
 * Refuse (WARDEN_DENIED, rule masking.columns) a statement that feeds a masked column to a
 * function outside pg_catalog that returns a set, or that the catalog does not know. `views`
 * and `m` are the lineage and masks masking followed (view-masking.ts), as predicate-channels.ts
 * takes them.
 */
export async function checkSetReturningCalls(
  facts: Pick<SqlFacts, 'qualifiedFunctionArguments'>,
  views: ViewLineages,
  m: MaskingContext,
  catalog: SetReturningCatalog,
  caller?: Caller,
): Promise<void> {
  if (!m.columns.length) return;
  /** Each function fed a masked column, and the first such: the mask's column, the one named, and the view whose definition calls it. */
  const fed = new Map<string, { mask: string; named: string; view?: string }>();
  for (const call of facts.qualifiedFunctionArguments) {
    for (const s of call.sources) {
      const hit = lineageMasks(m.columns, throughViews({ sources: [s], derived: false }, views));
      if (!hit.length) continue;
      fed.set(call.function, { mask: hit[0]!.column, named: s.column === '*' ? `the whole row of ${s.table}` : `${s.table}.${s.column}` });
      break;
    }
  }
  // A view the statement reads (or a view it reads) may call one in its own definition (VIEW_CALL).
  for (const [view, columns] of views) {
    for (const [key, l] of columns) {
      if (!key.startsWith(VIEW_CALL) || fed.has(key.slice(VIEW_CALL.length))) continue;
      const hit = lineageMasks(m.columns, l);
      if (hit.length) fed.set(key.slice(VIEW_CALL.length), { mask: hit[0]!.column, named: hit[0]!.column, view });
    }
  }
  if (fed.size === 0) return;
  const { sets, unknown } = await catalog.judge([...fed.keys()], caller);
  const name = sets[0] ?? unknown[0];
  if (name === undefined) return;
  const { mask, named, view } = fed.get(name)!;
  const what = sets.includes(name)
    ? `${name}, a set-returning function (the catalog's pg_proc.proretset), whose rows are counted from them`
    : `${name}, and the catalog has no function of that name, so whether it is a set-returning function, whose rows are counted from them, cannot be told`;
  const where = view ? ` in view ${view}'s own definition` : '';
  const instead = view ? ' (ask an admin for a view that does not, or select from the base tables)' : '';
  throw new WardenError(
    ErrorCode.DENIED,
    `masked column ${mask} (${named}) is used${where} in the arguments of ${what}, so the statement returns a count computed from its value; ` +
      `under masks a set-returning function may not be fed a masked column or a value computed from one, wherever it is called${instead}`,
    { ruleIds: ['masking.columns'], reason: 'masked column fed to a set-returning function' },
  );
}

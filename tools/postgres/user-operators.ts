/**
 * Operators outside pg_catalog. An operator runs its function (pg_operator.oprcode), and
 * PostgreSQL chooses among the operators of a name on the search path by argument types: with
 * `CREATE OPERATOR public.= (leftarg = text, rightarg = int, function = public.f)`, `WHERE
 * status = 1` calls public.f, which no grant's `functions:` names and no deny rule sees (it may
 * write a denied table, or keep a masked value it is fed, even from a grant of one column).
 * Analysis has no types, so it lists every operator name a statement uses or implies
 * (SqlFacts.operators, analysis/operators.ts) and the statement is refused when an operator of
 * one of those names lies in public or a temporary schema (the search path is pinned to
 * pg_catalog, public, pg_temp: connector.ts) and is no extension's member. Extensions (citext,
 * hstore, PostGIS, often installed in public) are the administrator's code, as built-ins are.
 * `OPERATOR(schema.op)` is not understood by the parser, so no other schema is reachable.
 * A name found safe is cached for the catalog's TTL; a statement whose names are all known safe
 * costs no round trip. What a view's definition, a DEFAULT, CHECK or trigger runs is the
 * schema's own, not the statement's, and is not judged here.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { CatalogQuery } from './set-returning-calls.js';
import type { Caller } from './pool-shares.js';

/** Of the names asked ($1), those an operator outside pg_catalog and any extension carries, with its function. */
const USER_OPERATORS_SQL = `SELECT o.oprname::text AS name, n.nspname::text || '.' || o.oprname::text AS operator,
    pn.nspname::text || '.' || p.proname::text AS function
  FROM pg_catalog.pg_operator o
  JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
  JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode
  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
  WHERE o.oprname = ANY ($1::text[])
    AND (n.nspname = 'public' OR n.nspname LIKE 'pg\\_temp\\_%')
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass
      AND d.objid = o.oid AND d.deptype = 'e')
  ORDER BY 1, 2 LIMIT 1`;

/** What the catalog says of operator names, cached per connection (connector.ts). */
export class UserOperatorCatalog {
  /** When each name was last found carried by pg_catalog and extensions only. */
  private safe = new Map<string, number>();

  constructor(
    private readonly query: CatalogQuery,
    private readonly ttlMs: number,
  ) {}

  /** Refuse (WARDEN_PARSE) when an operator of one of `names` is a user's; one query for the names not known safe, on `caller`'s share (connector.ts). */
  async check(names: readonly string[], caller?: Caller): Promise<void> {
    if (names.length === 0) return;
    const now = Date.now();
    const ask = names.filter((n) => now - (this.safe.get(n) ?? -Infinity) > this.ttlMs);
    if (ask.length === 0) return;
    const r = await this.query(USER_OPERATORS_SQL, [ask], caller);
    const row = r.rows[0] as { name: string; operator: string; function: string } | undefined;
    if (row) {
      throw new WardenError(
        ErrorCode.PARSE,
        `operator ${row.operator} lies outside pg_catalog, so PostgreSQL may call its function ${row.function} for ${row.name} where the policy saw a built-in operator (no grant names it, no deny rule sees what it does); refused`,
        { reason: 'operator outside pg_catalog' },
      );
    }
    for (const n of ask) this.safe.set(n, now);
  }
}

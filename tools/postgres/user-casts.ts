/**
 * Casts whose function lies outside pg_catalog. A cast runs its function (pg_cast.castfunc):
 * with `CREATE CAST (public.mood AS text) WITH FUNCTION public.mood_text(public.mood)`,
 * `SELECT mood::text FROM items` calls public.mood_text, and AS IMPLICIT (or ASSIGNMENT) so do
 * `lower(mood)` and `INSERT ... VALUES (mood)`: a function no grant's `functions:` names and no
 * deny rule sees (it may read a denied table, or keep a value it is fed). The parser understands
 * built-in type names only, so a statement reaches a user type's values through the columns of
 * the relations it reads or writes (views included), or their whole rows (a table's row type,
 * `i::text`). A statement is refused when a cast with a function outside pg_catalog, not an
 * extension's member, converts from or to a type outside pg_catalog that one of those columns
 * has (through arrays and domains) or that is their row type, or converts between two built-in
 * types (it may run anywhere).
 * Extensions' casts (citext in public) are the administrator's code, as built-ins are.
 * A relation found safe is cached for the catalog's TTL, so a statement over known relations
 * costs no round trip; the cast list itself is read in the same query.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { CatalogQuery } from './set-returning-calls.js';

/**
 * Of the relations asked ($1 schemas, $2 names, by position), the first user cast that may run on
 * their values: its source and target type, its function, and the relation (null: a cast between
 * built-in types, which may run in any statement).
 */
const USER_CASTS_SQL = `WITH RECURSIVE rel AS (
    SELECT c.oid, c.reltype, n.nspname::text || '.' || c.relname::text AS name
    FROM unnest($1::text[], $2::text[]) AS r(nsp, rel)
    JOIN pg_catalog.pg_namespace n ON n.nspname = r.nsp
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.rel),
  used(name, type) AS (
    SELECT name, reltype FROM rel WHERE reltype <> 0
    UNION SELECT rel.name, a.atttypid FROM rel
      JOIN pg_catalog.pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
    UNION SELECT u.name, x.type FROM used u JOIN pg_catalog.pg_type t ON t.oid = u.type
      CROSS JOIN LATERAL (VALUES (t.typelem), (t.typbasetype)) AS x(type) WHERE x.type <> 0),
  casts AS (
    SELECT c.castsource, c.casttarget, pn.nspname::text || '.' || p.proname::text AS function
    FROM pg_catalog.pg_cast c
    JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc
    JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
    WHERE pn.nspname <> 'pg_catalog'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_cast'::pg_catalog.regclass
        AND d.objid = c.oid AND d.deptype = 'e'))
  SELECT c.castsource::pg_catalog.regtype::text AS source, c.casttarget::pg_catalog.regtype::text AS target,
    c.function, u.name AS relation
  FROM casts c LEFT JOIN used u ON u.type IN (c.castsource, c.casttarget) AND u.type NOT IN (SELECT t.oid FROM pg_catalog.pg_type t
    WHERE t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace)
  WHERE u.name IS NOT NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t
    WHERE t.oid IN (c.castsource, c.casttarget) AND t.typnamespace <> 'pg_catalog'::pg_catalog.regnamespace)
  ORDER BY u.name NULLS FIRST, 1, 2 LIMIT 1`;

/** Key of the check that does not depend on a relation (casts between built-in types). */
const ANY = '';

/** What the catalog says of casts over relations' types, cached per connection (connector.ts). */
export class UserCastCatalog {
  /** When each relation (and ANY) was last found free of user casts. */
  private safe = new Map<string, number>();

  constructor(
    private readonly query: CatalogQuery,
    private readonly ttlMs: number,
  ) {}

  /**
   * Refuse (WARDEN_PARSE) when a user cast may run on the values of `relations` (facts' reads
   * and writes, `schema.name`); one query for those not known safe.
   */
  async check(relations: readonly string[]): Promise<void> {
    const now = Date.now();
    const stale = (key: string): boolean => now - (this.safe.get(key) ?? -Infinity) > this.ttlMs;
    const ask = relations.filter(stale);
    if (ask.length === 0 && !stale(ANY)) return;
    const split = ask.map((r) => [r.slice(0, r.indexOf('.')), r.slice(r.indexOf('.') + 1)] as const);
    const r = await this.query(USER_CASTS_SQL, [split.map((s) => s[0]), split.map((s) => s[1])]);
    const row = r.rows[0] as { source: string; target: string; function: string; relation: string | null } | undefined;
    if (row) {
      const where = row.relation ? `on the values of ${row.relation}` : 'in any statement';
      throw new WardenError(
        ErrorCode.PARSE,
        `cast from ${row.source} to ${row.target} runs ${row.function}, a function outside pg_catalog that PostgreSQL may call ${where} where the policy saw no call (no grant names it, no deny rule sees what it does); refused`,
        { reason: 'cast function outside pg_catalog' },
      );
    }
    for (const key of [ANY, ...ask]) this.safe.set(key, now);
  }
}

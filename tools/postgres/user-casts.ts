/**
 * Casts whose function lies outside pg_catalog. A cast runs its function (pg_cast.castfunc):
 * with `CREATE CAST (public.mood AS text) WITH FUNCTION public.mood_text(public.mood)`,
 * `SELECT mood::text FROM items` calls public.mood_text, and AS IMPLICIT (or ASSIGNMENT) so do
 * `lower(mood)` and `INSERT ... VALUES (mood)`: a function no grant's `functions:` names and no
 * deny rule sees (it may read a denied table, or keep a value it is fed). The parser understands
 * built-in type names only, so a statement reaches a user type's values through the columns of
 * the relations it reads or writes (views included), or their whole rows (a table's row type,
 * `i::text`), and through the functions outside pg_catalog it calls (`public.f()::text`: their
 * return, SETOF, TABLE and OUT types; their argument types too, which an implicit cast may feed).
 * A statement is refused when a cast with a function outside pg_catalog, not an extension's
 * member, converts from or to a type outside pg_catalog that one of those has (through array
 * elements, domains, ranges and composite types' fields) or that is a row type, or converts
 * between two built-in types (it may run anywhere).
 * Extensions' casts (citext in public) are the administrator's code, as built-ins are; so is the
 * cast PostgreSQL makes from a range type to its multirange (an internal function).
 * A relation or function found safe is cached for the catalog's TTL (60 s, connector.ts), so a
 * statement over known ones costs no round trip; the cast list itself is read in the same query,
 * so a cast created later is seen at the next miss, or once the TTL has passed.
 * Facts join schema and name with '.', and a quoted part may hold one: each split is asked.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { CatalogQuery } from './set-returning-calls.js';
import type { Caller } from './pool-shares.js';

/**
 * Not the cast PostgreSQL makes from a range type to its multirange (pg_cast `c`, its function
 * `p`): its function lies in the range type's schema but is built-in code (language internal,
 * which only a superuser may create functions in).
 */
const NOT_MULTIRANGE = `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_range mr JOIN pg_catalog.pg_language ml ON ml.oid = p.prolang
        WHERE mr.rngtypid = c.castsource AND mr.rngmultitypid = c.casttarget AND ml.lanname = 'internal')`;

/**
 * Of the relations ($1 schemas, $2 names) and functions ($3 schemas, $4 names) asked, by
 * position, the first user cast that may run on their values: its source and target type, its
 * function, and the relation or function (`schema.name()`, whose return, argument and OUT types
 * count, of every overload) whose values it converts (null: a cast between built-in types, which
 * may run in any statement). Types are followed through array elements, domains' base types,
 * range and multirange subtypes, and composite types' attributes.
 */
const USER_CASTS_SQL = `WITH RECURSIVE rel AS (
    SELECT c.oid, c.reltype, n.nspname::text || '.' || c.relname::text AS name
    FROM unnest($1::text[], $2::text[]) AS r(nsp, rel)
    JOIN pg_catalog.pg_namespace n ON n.nspname = r.nsp
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.rel),
  fn AS (
    SELECT n.nspname::text || '.' || p.proname::text || '()' AS name,
      pg_catalog.array_prepend(p.prorettype, COALESCE(p.proallargtypes, p.proargtypes::pg_catalog.oid[])) AS types
    FROM unnest($3::text[], $4::text[]) AS f(nsp, fn)
    JOIN pg_catalog.pg_namespace n ON n.nspname = f.nsp
    JOIN pg_catalog.pg_proc p ON p.pronamespace = n.oid AND p.proname = f.fn),
  used(name, type) AS (
    SELECT name, reltype FROM rel WHERE reltype <> 0
    UNION SELECT rel.name, a.atttypid FROM rel
      JOIN pg_catalog.pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
    UNION SELECT fn.name, x.type FROM fn CROSS JOIN LATERAL pg_catalog.unnest(fn.types) AS x(type)
    UNION SELECT u.name, x.type FROM used u JOIN pg_catalog.pg_type t ON t.oid = u.type
      CROSS JOIN LATERAL (SELECT t.typelem UNION ALL SELECT t.typbasetype
        UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE t.oid IN (r.rngtypid, r.rngmultitypid)
        UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS x(type)
      WHERE x.type <> 0),
  casts AS (
    SELECT c.castsource, c.casttarget, pn.nspname::text || '.' || p.proname::text AS function
    FROM pg_catalog.pg_cast c
    JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc
    JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
    WHERE pn.nspname <> 'pg_catalog'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_cast'::pg_catalog.regclass
        AND d.objid = c.oid AND d.deptype = 'e') AND ${NOT_MULTIRANGE}),
  builtin AS (SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace),
  -- Equality joins only (two arms, not one join on an OR): the plan's estimated cost stays far
  -- below jit_above_cost, so PostgreSQL does not spend ~0.4 s compiling it on every check.
  hits AS (
    SELECT c.castsource, c.casttarget, c.function, u.name FROM casts c JOIN used u ON u.type = c.castsource
    WHERE u.type NOT IN (SELECT oid FROM builtin)
    UNION ALL SELECT c.castsource, c.casttarget, c.function, u.name FROM casts c JOIN used u ON u.type = c.casttarget
    WHERE u.type NOT IN (SELECT oid FROM builtin)
    UNION ALL SELECT c.castsource, c.casttarget, c.function, NULL FROM casts c
    WHERE c.castsource IN (SELECT oid FROM builtin) AND c.casttarget IN (SELECT oid FROM builtin))
  SELECT h.castsource::pg_catalog.regtype::text AS source, h.casttarget::pg_catalog.regtype::text AS target,
    h.function, h.name AS relation
  FROM hits h ORDER BY h.name NULLS FIRST, 1, 2 LIMIT 1`;

/** Whether any cast runs a function outside pg_catalog that no extension owns: nearly never, so checks usually end here. */
const ANY_USER_CAST_SQL = `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_cast c
    JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc
    JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
    WHERE pn.nspname <> 'pg_catalog'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_cast'::pg_catalog.regclass
        AND d.objid = c.oid AND d.deptype = 'e') AND ${NOT_MULTIRANGE}) AS any`;

/**
 * Every split of a facts name at a '.' into [schema, name]: facts join the parts with '.', and a
 * quoted part may hold one (`"odd.schema".f`), so each reading is asked (fail closed). A relation
 * name with no '.' cannot be split (facts qualify every relation): refused.
 */
export function nameSplits(name: string): [string, string][] {
  const out: [string, string][] = [];
  for (let i = name.indexOf('.'); i > 0 && i < name.length - 1; i = name.indexOf('.', i + 1)) out.push([name.slice(0, i), name.slice(i + 1)]);
  if (out.length === 0) throw new WardenError(ErrorCode.PARSE, `${name} cannot be split into a schema and a name for the cast check; refused`, { reason: 'unsplittable name' });
  return out;
}

/** The relation and function key spaces of the cache, and the check that depends on neither (casts between built-in types). */
const ANY = '';
const rel = (name: string) => `r:${name}`;
const fun = (name: string) => `f:${name}`;

/** What the catalog says of casts over the types of relations and functions, cached per connection (connector.ts). */
export class UserCastCatalog {
  /** When each relation (`r:`), function (`f:`) and ANY was last found free of user casts. */
  private safe = new Map<string, number>();
  /** When the catalog was last found to hold no user cast at all (every name is then safe for the TTL). */
  private noneAt = -Infinity;

  constructor(
    private readonly query: CatalogQuery,
    private readonly ttlMs: number,
    /** The clock the TTL is read on (a test passes its own). */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Refuse (WARDEN_PARSE) when a user cast may run on the values of `relations` (facts' reads
   * and writes, `schema.name`) or of `functions` (facts' functions: those with a schema, which
   * are not pg_catalog's, are asked); one query for those not known safe, on `caller`'s share
   * of the read pool (connector.ts).
   */
  check(relations: readonly string[], functions: readonly string[] = [], caller?: Caller): Promise<void> | undefined {
    // The usual call: everything was found safe within the TTL; answered without a promise.
    const now = this.now();
    // The catalog held no user cast at all within the TTL: nothing can be converted by one.
    if (now - this.noneAt <= this.ttlMs) return undefined;
    const fresh = (key: string): boolean => now - (this.safe.get(key) ?? -Infinity) <= this.ttlMs;
    if (fresh(ANY) && relations.every((r) => fresh(rel(r))) && functions.every((f) => !f.includes('.') || fresh(fun(f)))) return undefined;
    return this.ask(relations, functions, now, caller);
  }

  private async ask(relations: readonly string[], functions: readonly string[], now: number, caller?: Caller): Promise<void> {
    const stale = (key: string): boolean => now - (this.safe.get(key) ?? -Infinity) > this.ttlMs;
    const askRel = [...new Set(relations)].filter((r) => stale(rel(r)));
    const askFun = [...new Set(functions)].filter((f) => f.includes('.') && stale(fun(f)));
    if (askRel.length === 0 && askFun.length === 0 && !stale(ANY)) return;
    const rels = askRel.flatMap(nameSplits);
    const funs = askFun.flatMap(nameSplits);
    // No user cast at all (the usual catalog): everything asked is safe, one small query.
    const any = (await this.query(ANY_USER_CAST_SQL, [], caller)).rows[0] as { any: boolean } | undefined;
    if (any?.any === false) this.noneAt = now;
    const r = any?.any === false ? { rows: [] } : await this.query(USER_CASTS_SQL, [rels.map((s) => s[0]), rels.map((s) => s[1]), funs.map((s) => s[0]), funs.map((s) => s[1])], caller);
    const row = r.rows[0] as { source: string; target: string; function: string; relation: string | null } | undefined;
    if (row) {
      const where = !row.relation
        ? 'in any statement'
        : row.relation.endsWith('()')
          ? `on the values ${row.relation} takes or returns`
          : `on the values of ${row.relation}`;
      throw new WardenError(
        ErrorCode.PARSE,
        `cast from ${row.source} to ${row.target} runs ${row.function}, a function outside pg_catalog that PostgreSQL may call ${where} where the policy saw no call (no grant names it, no deny rule sees what it does); refused`,
        { reason: 'cast function outside pg_catalog' },
      );
    }
    for (const key of [ANY, ...askRel.map(rel), ...askFun.map(fun)]) this.safe.set(key, now);
  }
}

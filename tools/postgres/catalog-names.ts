/**
 * What the catalog says of the names in a statement, cached per name: `t.x` column checks, the
 * unqualified pg_* relations and functions PostgreSQL may read otherwise, and the relation and
 * column a result field comes from (its table OID and column number). Split from connector.ts
 * (the pools and the statement); each answer is trusted for the connection's catalog TTL.
 */
import type pg from 'pg';
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { Caller } from './pool-shares.js';

/** Field origins kept at most (a database with more columns than this is asked again). */
const MAX_FIELD_ORIGINS = 50_000;

/**
 * Of the unqualified names asked: pg_* relations pg_catalog lacks, and functions that some schema
 * other than pg_catalog has, as schema.name (public first). PostgreSQL never looks functions up in
 * pg_temp, so public is the only other candidate on the pinned path; temporary schemas are
 * counted anyway (fail closed: a false refusal costs a schema prefix, a missed one a hole).
 */
const PG_NAMES_SQL = `SELECT
  ARRAY(SELECT r.name FROM unnest($1::text[]) AS r(name) WHERE NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.relname = r.name)) AS missing,
  ARRAY(SELECT DISTINCT ON (f.name) n.nspname::text || '.' || f.name FROM unnest($2::text[]) AS f(name)
    JOIN pg_catalog.pg_proc p ON p.proname = f.name JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' OR n.nspname LIKE 'pg\\_temp\\_%'
    ORDER BY f.name, n.nspname <> 'public') AS shadowed`;

/** Where a result field comes from, by PostgreSQL's field metadata (table OID, column number). */
export interface FieldOrigin {
  /** schema.relation, as facts spell tables. */
  relation: string;
  column: string;
  /** pg_class.relkind: 'v' and 'm' are views, whose columns masking follows (view-lineage.ts). */
  relkind: string;
}

/**
 * The catalog's answers about names for one connection; `lookup` runs one catalog query on its
 * read-only pool, on a session of its caller's share (connector.ts). Every check takes the call's
 * Caller for that.
 */
export class CatalogNames {
  /** Field origins by table OID and column number, with when the catalog said so (see fieldOrigin). */
  private fieldOrigins = new Map<string, { at: number; origin: FieldOrigin | null }>();
  private tableColumns = new Map<string, { at: number; columns: Set<string> }>();
  /** When an unqualified name was last found safe: 'r:name' (pg_* relation), 'f:name' (function). */
  private pgNames = new Map<string, number>();

  constructor(
    private readonly lookup: (q: pg.QueryConfig, caller?: Caller) => Promise<pg.QueryResult>,
    private readonly ttlMs: number,
  ) {}

  /**
   * Refuse a statement that names `t.x` where base table t has no column x: PostgreSQL would
   * run it as the call x(t) (analysis/lineage.ts qualifiedColumn). Column lists come from the
   * catalog, cached per table for the catalog TTL (asked again on a miss, so an added column
   * counts at once); a table the catalog does not know is left to PostgreSQL, which refuses the
   * statement itself, and is never cached as unknown (it may be created the next moment).
   * Nothing qualified through a base table: no round trip.
   */
  async checkQualifiedColumns(refs: readonly { table: string; column: string }[], caller?: Caller): Promise<void> {
    if (refs.length === 0) return;
    const now = Date.now();
    for (const ref of refs) {
      let known = this.tableColumns.get(ref.table);
      if (!known || now - known.at > this.ttlMs || !known.columns.has(ref.column)) {
        const columns = await this.catalogColumns(ref.table, caller);
        if (!columns) continue;
        this.tableColumns.set(ref.table, (known = { at: now, columns }));
      }
      if (!known.columns.has(ref.column)) {
        throw new WardenError(
          ErrorCode.PARSE,
          `${ref.table} has no column "${ref.column}", and PostgreSQL would read the qualified name as the call ${ref.column}(...) on the whole row; refused`,
        );
      }
    }
  }

  /**
   * Refuse a statement whose unqualified names PostgreSQL may not read as facts did:
   * - a `pg_*` relation (SqlFacts.unqualifiedPgRelations) that pg_catalog does not have resolves
   *   to public.pg_* (or pg_temp), while facts, and so the policy, named pg_catalog's;
   * - a function called without a schema (SqlFacts.unqualifiedFunctions: `lower(x)`, `count(*)`,
   *   the column form `t.f`) that public also has: PostgreSQL weighs every candidate on the path
   *   and calls public's when it is the only one or matches the arguments better
   *   (public.lower(int) for lower(1)), while facts named the built-in the allowlist trusts.
   * Names found safe are cached per name for the catalog TTL; a refusal is asked again next time.
   * The names not known safe are asked in one query; a statement whose names are all known safe
   * (or that has none) costs no round trip.
   *
   * Unqualified relations other than pg_*: with search_path pg_catalog, public, pg_temp, a name
   * public lacks would resolve to pg_temp.<name> while facts say public.<name>. That needs a
   * temporary table in the session that runs the statement, and no call can leave one behind:
   * reads run in read-only transactions (CREATE TEMP TABLE is refused there) and a write's
   * session is reset by DISCARD ALL, or destroyed on an error, before it goes back to the pool
   * (test/tools/postgres/connector-temp-tables.test.ts proves both against a real server). So
   * they are not looked up here.
   */
  async checkUnqualifiedPgNames(relations: readonly string[], functions: readonly string[], caller?: Caller): Promise<void> {
    if (relations.length === 0 && functions.length === 0) return;
    const now = Date.now();
    const fresh = (key: string): boolean => now - (this.pgNames.get(key) ?? -Infinity) <= this.ttlMs;
    const rels = relations.filter((r) => !fresh(`r:${r}`));
    const fns = functions.filter((f) => !fresh(`f:${f}`));
    if (rels.length === 0 && fns.length === 0) return;
    const r = await this.lookup({ text: PG_NAMES_SQL, values: [rels, fns] }, caller);
    const row = r.rows[0] as { missing: string[]; shadowed: string[] } | undefined;
    if (!row || !Array.isArray(row.missing) || !Array.isArray(row.shadowed)) throw new WardenError(ErrorCode.BACKEND, 'the catalog did not answer');
    const missing = rels.find((n) => row.missing.includes(n));
    if (missing) {
      throw new WardenError(
        ErrorCode.PARSE,
        `${missing} is not a relation of pg_catalog, so PostgreSQL would read public.${missing} (or a temporary table) where the policy saw pg_catalog.${missing}; write the schema (public.${missing}); refused`,
        { reason: 'unqualified pg_ relation' },
      );
    }
    const shadowing = new Map(row.shadowed.map((q) => [q.slice(q.indexOf('.') + 1), q] as const));
    const shadowed = fns.find((n) => shadowing.has(n));
    if (shadowed) {
      const where = shadowing.get(shadowed)!;
      throw new WardenError(
        ErrorCode.PARSE,
        `${where} exists, so PostgreSQL may call it for ${shadowed}(...) where the policy saw the built-in; write the schema (pg_catalog.${shadowed} or public.${shadowed}); refused`,
        { reason: shadowed.startsWith('pg_') ? 'unqualified pg_ function' : 'unqualified function shadowed outside pg_catalog' },
      );
    }
    for (const n of rels) this.pgNames.set(`r:${n}`, now);
    for (const n of fns) this.pgNames.set(`f:${n}`, now);
  }

  private async catalogColumns(table: string, caller?: Caller): Promise<Set<string> | null> {
    const dot = table.indexOf('.');
    const r = await this.lookup({
      text: `SELECT r.oid IS NOT NULL AS found, ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
             FROM (SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2)) AS oid) r`,
      values: [table.slice(0, dot), table.slice(dot + 1)],
    }, caller);
    const row = r.rows[0] as { found: boolean; cols: string[] } | undefined;
    return row?.found ? new Set(row.cols) : null;
  }

  /**
   * The relation, column and relation kind of a result field's table OID and column number. The
   * answer names the OID as the catalog did then, and a rename (a migration's table swap, a column
   * renamed into a masked name) keeps the OID: so it is trusted for the catalog TTL, until a write
   * through Warden (forgetAfterWrite), and only while it names a relation the statement names
   * (`named`, facts' reads and writes: PostgreSQL's metadata names a relation the statement names),
   * else the catalog is asked again. A plain read of known relations costs no round trip.
   */
  async fieldOrigin(tableID: number, columnID: number, named?: ReadonlySet<string>, caller?: Caller): Promise<FieldOrigin | null> {
    if (!tableID || !columnID) return null;
    const key = `${tableID}:${columnID}`;
    const now = Date.now();
    const hit = this.fieldOrigins.get(key);
    if (hit && now - hit.at <= this.ttlMs && (!named || (hit.origin !== null && named.has(hit.origin.relation)))) return hit.origin;
    const r = await this.lookup({
      text: `SELECT n.nspname, c.relname, c.relkind::text AS relkind, a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE a.attrelid = $1 AND a.attnum = $2`,
      values: [tableID, columnID],
    }, caller);
    const row = r.rows[0] as { nspname: string; relname: string; relkind: string; attname: string } | undefined;
    const origin = row ? { relation: `${row.nspname}.${row.relname}`, column: row.attname, relkind: row.relkind } : null;
    if (this.fieldOrigins.size >= MAX_FIELD_ORIGINS) this.fieldOrigins.clear();
    this.fieldOrigins.set(key, { at: now, origin });
    return origin;
  }

  /** Forget every field origin (a write may have renamed a relation or column). */
  forgetOrigins(): void {
    this.fieldOrigins.clear();
  }
}

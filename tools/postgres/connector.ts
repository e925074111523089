/**
 * Pools per connection with the server-held credential. Reads run on a pool whose sessions are
 * read-only by default (`default_transaction_read_only=on`) with a statement_timeout, in one
 * extended-protocol round trip; writes run in an explicit transaction on a separate pool. Every
 * session is reset (DISCARD ALL) after every call, reads too, so no state leaks into the next.
 */
import pg from 'pg';
import { ErrorCode, WardenError, type SecretResolver } from '../../src/tool-api.js';
import { backendError } from './backend-error.js';
import { cappedQuery, wireBudget, wireCutError, type CappedResult } from './capped-query.js';
import type { PostgresConnection } from './config.js';
import { ViewCatalog } from './view-catalog.js';
import { pgViewReader } from './view-reader.js';
import { poolSession, resetThenRelease, withSession } from './pool-session.js';
import { cancelledError, unlessCancelled } from './statement-cancel.js';
import { SetReturningCatalog } from './set-returning-calls.js';
import { UserOperatorCatalog } from './user-operators.js';
import { UserCastCatalog } from './user-casts.js';
import { refuseSslInUrl, tlsPlan, type TlsPlan } from './tls.js';
import { postgresTarget } from './connection-target.js';
import { refuseSessionParamsInUrl } from './url-params.js';

// Dates and times stay in PostgreSQL's own text form: no Date objects to allocate, no time-zone
// reinterpretation, and the agent sees exactly what the database said.
const TEXT_OIDS = new Set([1082, 1083, 1114, 1184, 1186, 1266]);
const TEXT_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_OIDS.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Settings the analyser's reading of a statement depends on, pinned in the startup packet (which
 * outranks ALTER ROLE/DATABASE ... SET and postgresql.conf), so the server reads the same bytes
 * the same way (DESIGN.md principle 3):
 * - standard_conforming_strings=on: in '...' a backslash is an ordinary character, as the lexer
 *   assumes; with it off, 'a\'' would end the string where the lexer does not;
 * - search_path=pg_catalog,public,pg_temp: unqualified names resolve as the analyser qualifies
 *   them (pg_* in pg_catalog, everything else in public; analysis/names.ts), never to a
 *   "$user" schema or a temporary table that shadows a granted one.
 */
const PINNED_SETTINGS = '-c standard_conforming_strings=on -c search_path=pg_catalog,public,pg_temp';

/** How long a table's column list, a relation's kind and a view's lineage are trusted before the catalog is asked again. */
const CATALOG_TTL_MS = 60_000;

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

/** Options for one statement. */
export interface RunOptions {
  readOnly: boolean;
  maxRows: number;
  /**
   * The call's byte cap (max_bytes): the bytes the session may receive while the statement runs
   * are bounded by it (capped-query.ts wireBudget), past which the statement is stopped. Omitted
   * only for Warden's own catalog queries, whose rows are bounded.
   */
  maxBytes?: number;
  timeoutMs: number;
  /**
   * The statement touches a table with a masked column: PostgreSQL's message is withheld
   * unless its SQLSTATE is one whose message never quotes a value (see QUOTES_NO_VALUE in backend-error.ts).
   */
  masked?: boolean;
  /**
   * The call's signal: when its client cancels, the statement in flight is cancelled in
   * PostgreSQL and a write is rolled back unless its COMMIT was already sent (statement-cancel.ts).
   */
  signal?: AbortSignal;
}

/** Where a result field comes from, by PostgreSQL's field metadata (table OID, column number). */
export interface FieldOrigin {
  /** schema.relation, as facts spell tables. */
  relation: string;
  column: string;
  /** pg_class.relkind: 'v' and 'm' are views, whose columns masking follows (view-lineage.ts). */
  relkind: string;
}

/** One connection's pools and catalog cache. */
export class PgConnector {
  private pools = new Map<'ro' | 'rw', Promise<pg.Pool>>();
  private resolvedUrl: Promise<string> | null = null;
  /** The TLS both pools and every CancelRequest use (tls.ts), set with the first pool. */
  private tls: TlsPlan = { mode: 'disable', ssl: false };
  /** Field origins by table OID and column number, with when the catalog said so (see fieldOrigin). */
  private fieldOrigins = new Map<string, { at: number; origin: FieldOrigin | null }>();
  private tableColumns = new Map<string, { at: number; columns: Set<string> }>();
  /** When an unqualified name was last found safe: 'r:name' (pg_* relation), 'f:name' (function). */
  private pgNames = new Map<string, number>();
  /** Relation kinds and view lineage, for masking through views (cached for CATALOG_TTL_MS). */
  readonly views: ViewCatalog;
  /** Whether functions outside pg_catalog return sets, for masking (cached for CATALOG_TTL_MS). */
  readonly setReturning: SetReturningCatalog;
  /** Operators outside pg_catalog the statement's operator names may resolve to (cached for CATALOG_TTL_MS). */
  readonly operators: UserOperatorCatalog;
  /** Casts outside pg_catalog over the types of the relations a statement reads or writes (cached for CATALOG_TTL_MS). */
  readonly casts = new UserCastCatalog((text, values) => this.lookup({ text, values }), CATALOG_TTL_MS);

  constructor(
    readonly conn: PostgresConnection,
    private readonly secrets: SecretResolver,
  ) {
    this.views = new ViewCatalog(pgViewReader(() => poolSession(this.pool('ro'))), CATALOG_TTL_MS);
    this.setReturning = new SetReturningCatalog((text, values) => this.lookup({ text, values }), CATALOG_TTL_MS);
    this.operators = new UserOperatorCatalog((text, values) => this.lookup({ text, values }), CATALOG_TTL_MS);
  }

  /** The resolved URL, read once for both pools and the approval target (a failed read is retried). */
  private url(): Promise<string> {
    if (!this.resolvedUrl) {
      const u = this.secrets.resolve(this.conn.url);
      u.catch(() => (this.resolvedUrl = null));
      this.resolvedUrl = u;
    }
    return this.resolvedUrl;
  }

  /** Where this connection reaches, for an approval's binding (connection-target.ts); never the password. */
  async target(): Promise<string> {
    return postgresTarget(this.conn.name, await this.url());
  }

  private pool(kind: 'ro' | 'rw'): Promise<pg.Pool> {
    let p = this.pools.get(kind);
    if (!p) {
      p = Promise.all([this.url(), tlsPlan(this.conn, this.secrets)]).then(([url, tls]) => {
        refuseSslInUrl(url, this.conn);
        refuseSessionParamsInUrl(url, this.conn);
        this.tls = tls;
        const pool = new pg.Pool({
          connectionString: url,
          // Always set, so neither PGSSLMODE nor pg's defaults decide (ssl parameters in the URL are refused above).
          ssl: tls.ssl,
          types: TEXT_TYPES,
          max: this.conn.pool_size,
          idleTimeoutMillis: 30_000,
          connectionTimeoutMillis: 5_000,
          // Client-side guard for a server that silently stops answering (statement_timeout is server-side).
          query_timeout: this.conn.statement_timeout + 5_000,
          application_name: 'warden',
          options: `-c statement_timeout=${this.conn.statement_timeout} -c idle_in_transaction_session_timeout=${Math.max(this.conn.statement_timeout * 2, 10_000)}${kind === 'ro' ? ' -c default_transaction_read_only=on' : ''} ${PINNED_SETTINGS}`,
        });
        pool.on('error', () => undefined); // idle client errors are handled on next checkout
        // A checked-out session whose socket ends emits 'error' after failing its queries; unheard,
        // that ended the process. Its query already failed (and is coded where sessions are used).
        pool.on('connect', (client) => client.on('error', () => undefined));
        return pool;
      });
      p.catch(() => this.pools.delete(kind));
      this.pools.set(kind, p);
    }
    return p;
  }

  /** Run exactly one statement with a protocol-level row cap. */
  async run(sql: string, params: unknown[], o: RunOptions): Promise<CappedResult> {
    const pool = await this.pool(o.readOnly ? 'ro' : 'rw');
    if (o.signal?.aborted) throw cancelledError('before the statement was sent');
    const client = await poolSession(pool);
    let broken: unknown = undefined;
    let handedOff = false;
    try {
      const wire = o.maxBytes === undefined ? undefined : wireBudget(o.maxBytes);
      if (o.readOnly) {
        const q = cappedQuery(sql, params, o.maxRows + 1, wire);
        client.query(q.submittable as pg.QueryConfig);
        const r = await unlessCancelled(q.done, client, o.signal, 'while the statement ran; PostgreSQL was asked to cancel it and its result was dropped', this.tls);
        if (r.cut) {
          // Its socket is gone: the session is destroyed (the finally block), never reset and pooled.
          broken = new Error('answer past the wire budget');
          return trim(r, o.maxRows);
        }
        handedOff = true;
        resetThenRelease(client);
        return trim(r, o.maxRows);
      }
      await client.query('BEGIN READ WRITE');
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(o.timeoutMs)}`);
      if (o.signal?.aborted) throw cancelledError('before the statement was sent');
      const q = cappedQuery(sql, params, o.maxRows + 1, wire);
      client.query(q.submittable as pg.QueryConfig);
      const r = await unlessCancelled(q.done, client, o.signal, 'while the statement ran; PostgreSQL was asked to cancel it and nothing was committed (its transaction is rolled back)', this.tls);
      if (r.cut) throw wireCutError(wire ?? 0);
      // The last point of no return: a cancel that arrives once COMMIT is sent finds the write done.
      if (o.signal?.aborted) throw cancelledError('before COMMIT; nothing was committed (its transaction is rolled back)');
      await client.query('COMMIT');
      handedOff = true;
      resetThenRelease(client);
      return trim(r, o.maxRows);
    } catch (e) {
      broken = e;
      throw backendError(e, o.masked === true);
    } finally {
      // A client that saw an error (or a cancel) is destroyed, never reused: no half-open
      // transaction, state or pending cancel leaks; an uncommitted write rolls back with it.
      if (!handedOff) client.release(broken ? (broken instanceof Error ? broken : new Error('failed')) : undefined);
    }
  }

  /**
   * Refuse a statement that names `t.x` where base table t has no column x: PostgreSQL would
   * run it as the call x(t) (analysis/lineage.ts qualifiedColumn). Column lists come from the
   * catalog, cached per table for CATALOG_TTL_MS (asked again on a miss, so an added column
   * counts at once); a table the catalog does not know is left to PostgreSQL, which refuses the
   * statement itself, and is never cached as unknown (it may be created the next moment).
   * Nothing qualified through a base table: no round trip.
   */
  async checkQualifiedColumns(refs: readonly { table: string; column: string }[]): Promise<void> {
    if (refs.length === 0) return;
    const now = Date.now();
    for (const ref of refs) {
      let known = this.tableColumns.get(ref.table);
      if (!known || now - known.at > CATALOG_TTL_MS || !known.columns.has(ref.column)) {
        const columns = await this.catalogColumns(ref.table);
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
   * Names found safe are cached per name for CATALOG_TTL_MS; a refusal is asked again next time.
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
  async checkUnqualifiedPgNames(relations: readonly string[], functions: readonly string[]): Promise<void> {
    if (relations.length === 0 && functions.length === 0) return;
    const now = Date.now();
    const fresh = (key: string): boolean => now - (this.pgNames.get(key) ?? -Infinity) <= CATALOG_TTL_MS;
    const rels = relations.filter((r) => !fresh(`r:${r}`));
    const fns = functions.filter((f) => !fresh(`f:${f}`));
    if (rels.length === 0 && fns.length === 0) return;
    const r = await this.lookup({ text: PG_NAMES_SQL, values: [rels, fns] });
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

  private async catalogColumns(table: string): Promise<Set<string> | null> {
    const dot = table.indexOf('.');
    const r = await this.lookup({
      text: `SELECT r.oid IS NOT NULL AS found, ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
             FROM (SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2)) AS oid) r`,
      values: [table.slice(0, dot), table.slice(dot + 1)],
    });
    const row = r.rows[0] as { found: boolean; cols: string[] } | undefined;
    return row?.found ? new Set(row.cols) : null;
  }

  /**
   * The relation, column and relation kind of a result field's table OID and column number. The
   * answer names the OID as the catalog did then, and a rename (a migration's table swap, a column
   * renamed into a masked name) keeps the OID: so it is trusted for CATALOG_TTL_MS, until a write
   * through Warden (forgetAfterWrite), and only while it names a relation the statement names
   * (`named`, facts' reads and writes: PostgreSQL's metadata names a relation the statement names),
   * else the catalog is asked again. A plain read of known relations costs no round trip.
   */
  async fieldOrigin(tableID: number, columnID: number, named?: ReadonlySet<string>): Promise<FieldOrigin | null> {
    if (!tableID || !columnID) return null;
    const key = `${tableID}:${columnID}`;
    const now = Date.now();
    const hit = this.fieldOrigins.get(key);
    if (hit && now - hit.at <= CATALOG_TTL_MS && (!named || (hit.origin !== null && named.has(hit.origin.relation)))) return hit.origin;
    const r = await this.lookup({
      text: `SELECT n.nspname, c.relname, c.relkind::text AS relkind, a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE a.attrelid = $1 AND a.attnum = $2`,
      values: [tableID, columnID],
    });
    const row = r.rows[0] as { nspname: string; relname: string; relkind: string; attname: string } | undefined;
    const origin = row ? { relation: `${row.nspname}.${row.relname}`, column: row.attname, relkind: row.relkind } : null;
    if (this.fieldOrigins.size >= MAX_FIELD_ORIGINS) this.fieldOrigins.clear();
    this.fieldOrigins.set(key, { at: now, origin });
    return origin;
  }

  /** After a statement that may write (it may have renamed, dropped or redefined a relation or column). */
  forgetAfterWrite(): void {
    this.views.forget();
    this.fieldOrigins.clear();
  }

  /** One catalog query on the read-only pool, its session opened where run()'s is (pool-session.ts). */
  private lookup(q: pg.QueryConfig): Promise<pg.QueryResult> {
    return withSession(() => poolSession(this.pool('ro')), (c) => c.query(q));
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(async (p) => (await p.catch(() => null))?.end()));
  }
}

function trim(r: CappedResult, max: number): CappedResult {
  if (r.rows.length > max) return { ...r, rows: r.rows.slice(0, max), truncated: true };
  return r;
}

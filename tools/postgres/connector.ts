/**
 * Pools per connection with the server-held credential. Reads run on a pool whose sessions are
 * read-only by default (`default_transaction_read_only=on`) with a statement_timeout, in one
 * extended-protocol round trip; writes run in an explicit transaction on a separate pool. Every
 * session is reset (DISCARD ALL) after every call, reads too, so no state leaks into the next.
 */
import '../../src/pg-stream-probe.js'; // before pg: spares its probe loading Node's fetch
import pg from 'pg';
import { ErrorCode, WardenError, type ExecContext, type SecretResolver } from '../../src/tool-api.js';
import type { CappedResult, Trailer } from './capped-query.js';
import type { PostgresConnection } from './config.js';
import { ViewCatalog } from './view-catalog.js';
import { pgViewReader } from './view-reader.js';
import { poolSession, withSession } from './pool-session.js';
import { cancelledError, unsentCancel } from './statement-cancel.js';
import { runOnSession } from './statement-run.js';
import { SetReturningCatalog } from './set-returning-calls.js';
import { UserOperatorCatalog } from './user-operators.js';
import { UserCastCatalog } from './user-casts.js';
import { ConstraintCatalog } from './constraint-catalog.js';
import { refuseSslInUrl, tlsPlan, type TlsPlan } from './tls.js';
import { postgresTarget } from './connection-target.js';
import { refuseSessionParamsInUrl, urlPoolOptions } from './url-params.js';
import { PoolShares, type Caller } from './pool-shares.js';
import { reportRoleLimits } from './role-limits.js';
import { storeSafePool } from './store-reach.js';
import type { StoreCluster } from './outbound-reach.js';
import { CatalogNames, type FieldOrigin } from './catalog-names.js';
import type { CatalogLockMode, CatalogRecheck } from './catalog-lock.js';

export type { FieldOrigin } from './catalog-names.js';

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
  /**
   * Whose statement it is (principalKey): it runs on one of that principal's share of the pool
   * (max_per_principal, pool-shares.ts). Omitted: Warden's own, counted as one principal.
   */
  principal?: string;
  /** Of a write: how it holds the catalog lock (catalog-lock.ts); omitted, not at all. */
  catalogLock?: CatalogLockMode;
  /** Of a write: the catalog facts it was judged by, re-read in its transaction before its statement (catalog-lock.ts). */
  recheck?: CatalogRecheck | null;
  /**
   * Of a write: the relation and view prints it was judged by (relation-prints.ts), re-read as
   * its statement's trailer before COMMIT, or, `before`, on their own after `recheck` and before
   * the statement (a statement that changes the catalog, maybe those very relations); rows as
   * arrays; with the statement's result fields (a RETURNING list) when it came after it; a
   * difference refuses it with `changed(rows)`, nothing committed.
   */
  postcheck?: (Trailer & { same(rows: unknown[], fields?: CappedResult['fields']): boolean | Promise<boolean>; before: boolean; changed(rows: unknown[]): WardenError }) | null;
  /**
   * Of a read: a catalog query sent in its statement's round trip, after it (capped-query.ts
   * Trailer); its rows come back as the result's `trailer`.
   */
  trailer?: Trailer;
}

/** The share key of statements run without a principal. */
const NO_PRINCIPAL = '\0warden';

/** How long a call waits for a session (pg's pool, and a principal's own queue) unless the URL's connect_timeout says otherwise. */
const SESSION_WAIT_MS = 5_000;

/** One connection's pools and catalog cache. */
export class PgConnector {
  private pools = new Map<'ro' | 'rw', Promise<pg.Pool>>();
  private resolvedUrl: Promise<string> | null = null;
  private resolvedTls: Promise<TlsPlan> | null = null;
  /** The TLS both pools and every CancelRequest use (tls.ts), set with the first pool. */
  private tls: TlsPlan = { mode: 'disable', ssl: false };
  /** Each principal's sessions per pool, at most max_per_principal (pool-shares.ts). */
  private readonly shares: Record<'ro' | 'rw', PoolShares>;
  /** Whether the log heard that this connection reaches a transcript store (once; every call is refused). */
  private toldStoreReach = false;
  /** The pools' wait for a session (connect_timeout in the URL, set with the first pool). */
  private waitMs = SESSION_WAIT_MS;
  /** Qualified columns, unqualified pg_* names and functions, and result fields' origins, by the catalog (catalog-names.ts). */
  private readonly names = new CatalogNames((q, caller) => this.lookup(q, caller), CATALOG_TTL_MS);
  /** Relation kinds and view lineage, for masking through views (cached for CATALOG_TTL_MS). */
  readonly views: ViewCatalog;
  /** Whether functions outside pg_catalog return sets, for masking (cached for CATALOG_TTL_MS). */
  readonly setReturning: SetReturningCatalog;
  /** Operators outside pg_catalog the statement's operator names may resolve to (cached for CATALOG_TTL_MS). */
  readonly operators: UserOperatorCatalog;
  /** Casts outside pg_catalog over the types of the relations a statement reads or writes (cached for CATALOG_TTL_MS). */
  readonly casts = new UserCastCatalog((text, values, caller) => this.lookup({ text, values }, caller), CATALOG_TTL_MS);
  /** CHECK, foreign key and computed unique keys of relations an UPDATE or VALIDATE reaches, under masks (cached for CATALOG_TTL_MS). */
  readonly constraints = new ConstraintCatalog((text, values, caller) => this.lookup({ text, values }, caller), CATALOG_TTL_MS);

  constructor(
    readonly conn: PostgresConnection,
    private readonly secrets: SecretResolver,
    /** Where the read pool's temp_file_limit and work_mem are told when it opens (role-limits.ts). */
    private readonly log?: ExecContext['log'],
    /** The PostgreSQL transcript store's cluster (none: the store is SQLite), for outbound-reach.ts. */
    private readonly storeCluster?: StoreCluster,
  ) {
    const share = Math.min(conn.max_per_principal ?? conn.pool_size - 1, conn.pool_size);
    this.shares = {
      ro: new PoolShares(Math.max(1, share), `connection ${conn.name}'s read pool`),
      rw: new PoolShares(Math.max(1, share), `connection ${conn.name}'s write pool`),
    };
    this.views = new ViewCatalog(pgViewReader((fn, caller) => this.lookupSession(fn, caller)), CATALOG_TTL_MS);
    this.setReturning = new SetReturningCatalog((text, values, caller) => this.lookup({ text, values }, caller), CATALOG_TTL_MS);
    this.operators = new UserOperatorCatalog((text, values, caller) => this.lookup({ text, values }, caller), CATALOG_TTL_MS);
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

  /** The `tls:` block's resolved plan, read once for both pools and the approval target (a failed read is retried). */
  private tlsResolved(): Promise<TlsPlan> {
    if (!this.resolvedTls) {
      const t = tlsPlan(this.conn, this.secrets);
      t.catch(() => (this.resolvedTls = null));
      this.resolvedTls = t;
    }
    return this.resolvedTls;
  }

  /** Where this connection reaches and whom it trusts there, for an approval's binding (connection-target.ts); never the password or key. */
  async target(): Promise<string> {
    const [url, tls] = await Promise.all([this.url(), this.tlsResolved()]);
    return postgresTarget(this.conn.name, url, process.env, tls);
  }

  /** A store reach is logged once (every call is refused with it, store-reach.ts). */
  private tellStoreReach(e: WardenError): void {
    if (!this.toldStoreReach) this.log?.('error', e.message, { connection: this.conn.name });
    this.toldStoreReach = true;
  }

  private pool(kind: 'ro' | 'rw'): Promise<pg.Pool> {
    let p = this.pools.get(kind);
    if (!p) {
      p = Promise.all([this.url(), this.tlsResolved()]).then(async ([url, tls]) => {
        refuseSslInUrl(url, this.conn);
        refuseSessionParamsInUrl(url, this.conn);
        const fromUrl = urlPoolOptions(url, this.conn);
        this.tls = tls;
        this.waitMs = fromUrl.connectionTimeoutMillis ?? SESSION_WAIT_MS;
        const pool = new pg.Pool({
          connectionString: url,
          // Always set, so neither PGSSLMODE nor pg's defaults decide (ssl parameters in the URL are refused above).
          ssl: tls.ssl,
          types: TEXT_TYPES,
          max: this.conn.pool_size,
          idleTimeoutMillis: 30_000,
          connectionTimeoutMillis: this.waitMs,
          // Client-side guard for a server that silently stops answering (statement_timeout is server-side).
          query_timeout: this.conn.statement_timeout + 5_000,
          application_name: fromUrl.application_name ?? 'warden',
          options: `-c statement_timeout=${this.conn.statement_timeout} -c idle_in_transaction_session_timeout=${Math.max(this.conn.statement_timeout * 2, 10_000)}${kind === 'ro' ? ' -c default_transaction_read_only=on' : ''} ${PINNED_SETTINGS}`,
        });
        pool.on('error', () => undefined); // idle client errors are handled on next checkout
        // A checked-out session whose socket ends emits 'error' after failing its queries; unheard,
        // that ended the process. Its query already failed (and is coded where sessions are used).
        pool.on('connect', (client) => client.on('error', () => undefined));
        // Before its first statement or lookup: a pool whose role can read a transcript store is not kept (store-reach.ts).
        await storeSafePool(pool, this.conn.name, (e) => this.tellStoreReach(e), this.storeCluster, this.conn.trusted_foreign_servers);
        if (kind === 'ro' && this.log) void reportRoleLimits(pool, this.conn.name, this.log);
        return pool;
      });
      p.catch(() => this.pools.delete(kind));
      this.pools.set(kind, p);
    }
    return p;
  }

  /** Run exactly one statement with a protocol-level row cap. */
  async run(sql: string, params: unknown[], o: RunOptions): Promise<CappedResult> {
    const kind = o.readOnly ? 'ro' : 'rw';
    const pool = await this.pool(kind);
    if (o.signal?.aborted) throw cancelledError('before the statement was sent', true);
    // The principal's share first: past it, the call waits behind its own calls, not others'.
    const who = o.principal ?? NO_PRINCIPAL;
    const shareBack = this.shares[kind].tryAcquire(who) ?? (await this.shares[kind].acquire(who, this.waitMs, o.signal).catch((e: unknown): never => {
      throw unsentCancel(e);
    }));
    let client: pg.PoolClient;
    try {
      client = await poolSession(pool);
    } catch (e) {
      shareBack();
      throw e;
    }
    return runOnSession(client, sql, params, o, shareBack, this.tls, () => this.forgetAfterWrite());
  }

  /** catalog-names.ts checkQualifiedColumns: `t.x` where base table t has no column x is refused. */
  checkQualifiedColumns(refs: readonly { table: string; column: string }[], caller?: Caller): Promise<void> {
    return this.names.checkQualifiedColumns(refs, caller);
  }

  /** catalog-names.ts checkUnqualifiedPgNames: unqualified names PostgreSQL may read otherwise are refused. */
  checkUnqualifiedPgNames(relations: readonly string[], functions: readonly string[], caller?: Caller): Promise<void> {
    return this.names.checkUnqualifiedPgNames(relations, functions, caller);
  }

  /** catalog-names.ts fieldOrigin: a result field's relation, column and kind. */
  fieldOrigin(tableID: number, columnID: number, named?: ReadonlySet<string>, caller?: Caller): Promise<FieldOrigin | null> {
    return this.names.fieldOrigin(tableID, columnID, named, caller);
  }

  /** A trailer's query on its own (its answer did not come with the statement's: a cut), rows as text cells. */
  async trailerRows(trailer: Trailer, caller?: Caller): Promise<(string | null)[][]> {
    const r = await this.lookupSession((c) => c.query({ text: trailer.text, values: trailer.values, rowMode: 'array' }), caller);
    return r.rows as (string | null)[][];
  }

  /** After a statement that may write (it may have renamed, dropped or redefined a relation or column). */
  forgetAfterWrite(): void {
    this.views.forget();
    this.constraints.forget();
    this.names.forgetOrigins();
  }

  /** One catalog query on the read-only pool, on a session of its caller's share (lookupSession). */
  private lookup(q: pg.QueryConfig, caller?: Caller): Promise<pg.QueryResult> {
    return this.lookupSession((c) => c.query(q), caller);
  }

  /**
   * Run `fn` on a session of the read-only pool (opened where run()'s is: pool-session.ts) that
   * counts against its caller's share, as a statement's does: a call waiting in a catalog lookup
   * (a view's definition behind a lock) holds one of its principal's sessions, never one outside
   * the share. A slot per session, taken only while it is held: nothing a lookup waits for holds
   * a slot of the same share (no self-deadlock at max_per_principal 1). Only a cold call comes here.
   */
  private async lookupSession<T>(fn: (client: pg.PoolClient) => Promise<T>, caller?: Caller): Promise<T> {
    const pool = await this.pool('ro');
    const who = caller?.principal ?? NO_PRINCIPAL;
    // Cancelled waiting here before its statement ran (`ran` false), the call sent nothing.
    const shareBack = this.shares.ro.tryAcquire(who) ?? (await this.shares.ro.acquire(who, caller?.ran ? Infinity : this.waitMs, caller?.signal).catch((e: unknown): never => {
      throw caller?.ran === false ? unsentCancel(e) : e;
    }));
    try {
      return await withSession(() => poolSession(pool), fn);
    } finally {
      shareBack();
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(async (p) => (await p.catch(() => null))?.end()));
  }
}

/**
 * `describe_database`: the tables and columns this principal may read on a connection, with
 * masked columns marked, so that agents stop guessing. It is granted wherever query_database
 * is, and describes exactly the tables those grants name, as query_database treats them
 * (describe-tables.ts): masks and denies through views and inheritance.
 */
import { z } from 'zod';
import { principalKey, type GovernedTool, type ToolOutput } from '../../src/tool-api.js';
import { deniedFunctionKeys, normalizePolicyColumn, normalizePolicyTable } from './analysis/names.js';
import type { PostgresConnection } from './config.js';
import type { PgConnector } from './connector.js';
import { describeTables } from './describe-tables.js';
import { compileColumns } from './sql-write-columns.js';

const input = z
  .object({
    connection: z.string().min(1).max(128),
    schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'a schema name').max(63).optional(),
  })
  .strict();

type DescribeInput = z.infer<typeof input>;

const COLUMNS_SQL = `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','v','m','p','f') AND a.attnum > 0 AND NOT a.attisdropped
  AND ($1::text[] IS NULL OR (n.nspname || '.' || c.relname) = ANY($1::text[]))
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND ($2::text IS NULL OR n.nspname = $2::text)
  AND NOT ((n.nspname || '.' || c.relname) = ANY($3::text[]))
ORDER BY 1, 2, a.attnum`;

/**
 * Where the engine puts, on each grant, the condition blocks of the conditional deny rules that
 * apply to query_database on this connection (src/policy/discovery-grants.ts DISCOVERY_DENIES_KEY).
 */
const DENIES_KEY = '$denies';

/** What describe_database may show, after deny rules (deny wins in discovery too). */
export interface GrantedTables {
  /** Some grant has no `sql` block, so every table is readable (except `hidden`). */
  all: boolean;
  read: Set<string>;
  write: Set<string>;
  /** Tables a deny forbids touching at all: never described, even when `all`. */
  hidden: Set<string>;
  /** Tables a deny forbids writing: never listed with write access, nor their children (inheritance), nor views over them. */
  writeDenied: Set<string>;
  /** Functions a deny forbids calling (functionKey spelling): a view calling one is refused. */
  deniedFunctions: Set<string>;
  /** Some conditional deny applies to query_database here: it then refuses a view deny rules cannot follow. */
  conditional: boolean;
  /** Writable tables whose grants list only some columns (`write_columns:` allows): the columns, by table. */
  writeColumns: Map<string, Set<string>>;
  /** Columns a deny's `write_columns:` forbids writing, by table (their table's whole row too). */
  deniedColumns: Map<string, Set<string>>;
}

function addColumns(into: Map<string, Set<string>>, names: readonly string[] | undefined): void {
  for (const [table, columns] of compileColumns(names) ?? []) {
    let set = into.get(table);
    if (!set) into.set(table, (set = new Set()));
    for (const c of columns) set.add(c);
  }
}

/**
 * Tables named by the grants' `sql` blocks. A block without read/write grants no table (its
 * allow semantics require every table to be listed); a grant with no `sql` block at all grants
 * every table. Then the conditional denies that ride on the grants remove what they determine:
 * a deny `sql: {}` matches every statement, so nothing is left; `read: [t]` denies any statement
 * touching t, so t is hidden; `write: [t]` takes away write access to t; a grant whose statement
 * kinds a deny's `statements:` all names grants nothing; `functions: [f]` refuses the views that
 * call f. A deny with a block other than `sql` (its conditions narrow one another) cannot be
 * resolved to tables and leaves the description as it is (query_database still enforces it per
 * call); any conditional deny makes the views deny rules cannot follow refused (describe-reach.ts).
 */
export function grantedTables(grants: Record<string, unknown>[]): GrantedTables {
  const out: GrantedTables = {
    all: false, read: new Set(), write: new Set(), hidden: new Set(), writeDenied: new Set(), deniedFunctions: new Set(), conditional: false,
    writeColumns: new Map(), deniedColumns: new Map(),
  };
  // Tables some grant lets write whole, and the columns of those granted by column.
  const whole = new Set<string>();
  const limited = new Map<string, Set<string>>();
  const deniedStatements = new Set<string>();
  for (const d of (grants[0]?.[DENIES_KEY] as Record<string, unknown>[] | undefined) ?? []) {
    out.conditional = true;
    const keys = Object.keys(d);
    if (keys.length !== 1 || keys[0] !== 'sql') continue;
    const sql = d.sql as { statements?: string[]; read?: string[]; write?: string[]; write_columns?: string[]; functions?: string[] } | null | undefined;
    if (!sql?.statements && !sql?.read && !sql?.write && !sql?.write_columns && !sql?.functions) return out; // denies every statement
    // write_columns denies some columns of a table (and its whole row): its other columns stay writable (describe-write-columns.ts).
    addColumns(out.deniedColumns, sql.write_columns);
    for (const k of sql.statements ?? []) deniedStatements.add(k.trim().toLowerCase());
    for (const t of sql.read ?? []) out.hidden.add(normalizePolicyTable(t));
    for (const t of sql.write ?? []) out.writeDenied.add(normalizePolicyTable(t));
    for (const f of sql.functions ?? []) for (const k of deniedFunctionKeys(f)) out.deniedFunctions.add(k);
  }
  for (const g of grants) {
    const sql = g.sql as { statements?: string[]; read?: string[]; write?: string[]; write_columns?: string[] } | undefined;
    if (!sql) {
      out.all = true;
      continue;
    }
    const kinds = (sql.statements ?? ['select']).map((k) => k.trim().toLowerCase());
    if (kinds.every((k) => deniedStatements.has(k))) continue;
    for (const t of sql.read ?? []) out.read.add(normalizePolicyTable(t));
    // write_columns makes its tables writable (and readable); with write: too, only those in both (sql-write-columns.ts).
    const columnTables = (sql.write_columns ?? []).map((c) => normalizePolicyColumn(c).table);
    const write = sql.write?.map(normalizePolicyTable) ?? [];
    const both = sql.write_columns && sql.write;
    const writable = both ? write.filter((w) => columnTables.includes(w)) : [...write, ...columnTables];
    for (const t of writable) out.write.add(t);
    // With write: too, a listed column of a table not in write: is not writable under this grant.
    if (sql.write_columns) addColumns(limited, sql.write_columns.filter((c) => writable.includes(normalizePolicyColumn(c).table)));
    else for (const t of write) whole.add(t);
    for (const t of both ? [...write, ...columnTables].filter((x) => !out.write.has(x)) : []) out.read.add(t);
  }
  for (const t of out.hidden) {
    out.read.delete(t);
    out.write.delete(t);
  }
  // A write grant grants reading too (allow rules read `write` as readable): a denied write leaves the read.
  for (const t of out.writeDenied) if (out.write.delete(t)) out.read.add(t);
  for (const t of out.write) if (!whole.has(t) && limited.has(t)) out.writeColumns.set(t, limited.get(t)!);
  return out;
}

/** Build the tool over the family's connectors. */
export function describeDatabaseTool(connectorFor: (name: string) => PgConnector): GovernedTool<DescribeInput> {
  return {
    name: 'describe_database',
    title: 'Describe what you may query',
    description:
      'List the tables and columns you may read (and write) on a PostgreSQL connection, as query_database treats them: ' +
      '`masked` names how a column arrives masked (also through views and table inheritance), `refused` why selecting it is refused; ' +
      'a relation whose `access` lacks "read" is refused whole and `note` says why; `requires_only` lists the access that must name ' +
      'the table as ONLY schema.table (a child table or partition is denied); `write_columns` lists the only columns that may be written ' +
      '(`write_denied` those a deny rule forbids): whole-row writes (DELETE, INSERT without a column list, TRUNCATE, DDL) of that table are refused.',
    connectionTypes: ['postgres'],
    discoveryFor: 'query_database',
    // query_database's facts family: a rule whose blocks judge only other calls (`shell:`) grants no description.
    discoveryFamily: 'sql',
    // As query_database: an approval binds where the connection's `url:` secret points.
    connectionTarget(connection) {
      return connectorFor(connection.name).target();
    },
    input,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    parse(i) {
      return { family: 'sql-describe', summary: `describe ${i.schema ?? 'all schemas'}` };
    },
    isReadOnly: () => true,
    async execute(i, _facts, ctx): Promise<ToolOutput> {
      const conn = ctx.connection as unknown as PostgresConnection;
      const tables = grantedTables(ctx.grants ?? []);
      const names = tables.all ? null : [...new Set([...tables.read, ...tables.write])];
      if (names && names.length === 0) return { kind: 'json', data: { tables: [] }, truncated: false };
      const connector = connectorFor(conn.name);
      // Its statement and its catalog lookups count against the caller's share of the read pool.
      const caller = { principal: principalKey(ctx.principal), signal: ctx.signal };
      const r = await connector.run(COLUMNS_SQL, [names, i.schema ?? null, [...tables.hidden]], {
        readOnly: true,
        maxRows: 20_000,
        timeoutMs: conn.statement_timeout,
        principal: caller.principal,
      });
      // What query_database would do with each: masks and denies through views and inheritance.
      const described = await describeTables(r.rows as string[][], tables, ctx.masking, connector.views, ctx.grants ?? [], caller);
      return { kind: 'json', data: { tables: described }, truncated: r.truncated };
    },
  };
}

/**
 * `describe_database`: the tables and columns this principal may read on a connection, with
 * masked columns marked, so that agents stop guessing. It is granted wherever query_database
 * is, and describes exactly the tables those grants name.
 */
import { z } from 'zod';
import type { GovernedTool, ToolOutput } from '../../src/tool-api.js';
import { normalizePolicyTable } from './analysis/names.js';
import type { PostgresConnection } from './config.js';
import type { PgConnector } from './connector.js';

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
ORDER BY 1, 2, a.attnum`;

/**
 * Tables named by the grants' `sql` blocks. A block without read/write grants no table (its
 * allow semantics require every table to be listed); a grant with no `sql` block at all grants
 * every table, so the answer is null (all tables).
 */
export function grantedTables(grants: Record<string, unknown>[]): { read: Set<string>; write: Set<string> } | null {
  const read = new Set<string>();
  const write = new Set<string>();
  for (const g of grants) {
    const sql = g.sql as { read?: string[]; write?: string[] } | undefined;
    if (!sql) return null;
    for (const t of sql.read ?? []) read.add(normalizePolicyTable(t));
    for (const t of sql.write ?? []) write.add(normalizePolicyTable(t));
  }
  return { read, write };
}

/** Build the tool over the family's connectors. */
export function describeDatabaseTool(connectorFor: (name: string) => PgConnector): GovernedTool<DescribeInput> {
  return {
    name: 'describe_database',
    title: 'Describe what you may query',
    description: 'List the tables and columns you may read (and write) on a PostgreSQL connection; masked columns are marked.',
    connectionTypes: ['postgres'],
    discoveryFor: 'query_database',
    input,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    parse(i) {
      return { family: 'sql-describe', summary: `describe ${i.schema ?? 'all schemas'}` };
    },
    isReadOnly: () => true,
    async execute(i, _facts, ctx): Promise<ToolOutput> {
      const conn = ctx.connection as unknown as PostgresConnection;
      const tables = grantedTables(ctx.grants ?? []);
      const names = tables ? [...new Set([...tables.read, ...tables.write])] : null;
      if (names && names.length === 0) return { kind: 'json', data: { tables: [] }, truncated: false };
      const r = await connectorFor(conn.name).run(COLUMNS_SQL, [names, i.schema ?? null], { readOnly: true, maxRows: 20_000, timeoutMs: conn.statement_timeout });
      const masks = new Map(ctx.masking.columns.map((c) => [c.column, c.strategy]));
      const byTable = new Map<string, { table: string; access: string[]; columns: { name: string; type: string; masked?: string }[] }>();
      for (const [schema, table, column, type] of r.rows as string[][]) {
        const key = `${schema}.${table}`;
        let t = byTable.get(key);
        if (!t) {
          const access = tables ? [...(tables.read.has(key) || tables.write.has(key) ? ['read'] : []), ...(tables.write.has(key) ? ['write'] : [])] : ['read'];
          byTable.set(key, (t = { table: key, access, columns: [] }));
        }
        const masked = masks.get(`${key}.${column}`);
        t.columns.push({ name: column!, type: type!, ...(masked ? { masked } : {}) });
      }
      return { kind: 'json', data: { tables: [...byTable.values()] }, truncated: r.truncated };
    },
  };
}

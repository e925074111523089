/**
 * The PostgreSQL verify's schema check, the cheap counterpart of verify-schema.ts: the tables verify
 * and the readers query must be ordinary, permanent tables (not views, not foreign or partitioned
 * tables, not unlogged, no parent or child tables) in one schema, with no trigger but the
 * append-only guard as the store creates it and no rule on any store table (pg-verify-triggers.ts),
 * no row-level security (neither enabled nor forced, no policy), and exactly the columns (names,
 * types, nullability, defaults, collations), constraints and indexes the store creates (pg-schema-expected.ts, read by pg-schema-catalog.ts); and every table the
 * store creates owned by its role, with no write right granted to another, nor one through roles
 * or the schema (pg-verify-privileges.ts, pg-verify-roles.ts).
 * Why: whoever can alter the
 * database (not the key) could rename `approvals` away and put a filtering view in its place, add
 * a trigger or rule that drops or rewrites future rows, a policy that hides rows from the role
 * reading them, a default that fills what a write leaves out, or drop a NOT NULL, UNIQUE or CHECK
 * the readers rely on, and a reviewer would see what they chose while the chain still hashes; a dropped or plain unique
 * index no longer keeps sequence numbers unique.
 * Read from pg_catalog on the store's own connection and snapshot, resolving names as the store's
 * queries do (its search_path). An index is compared by its definition, not its entries
 * (PostgreSQL keeps them itself; `amcheck` verifies them). The expected texts are PostgreSQL's own deparsing
 * (format_type, pg_get_expr, pg_get_constraintdef): a server that prints one differently fails
 * verify (closed) with the line it printed, and the list is updated, never loosened by pattern.
 */
import type pg from 'pg';
import { readTableShapes, shapeDifference } from './pg-schema-catalog.js';
import { EXPECTED_SHAPES } from './pg-schema-expected.js';
import { pgPrivilegeMismatch } from './pg-verify-privileges.js';
import { pgTriggerMismatch } from './pg-verify-triggers.js';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** The tables verify reads, as the store names them. */
const VERIFIED = Object.keys(EXPECTED_SHAPES);

interface TableRow {
  name: string; oid: number | null; relkind: string | null; relnamespace: number | null;
  relpersistence: string | null; relrowsecurity: boolean | null; relforcerowsecurity: boolean | null;
}

const KINDS: Record<string, string> = { v: 'a view', m: 'a materialized view', f: 'a foreign table', p: 'a partitioned table' };

/**
 * Where the verified tables differ from what the store creates, or null. Run inside verify's
 * snapshot. `owner` and `trusted`: transcripts.owner and transcripts.trusted_roles.
 */
export async function pgSchemaMismatch(q: Q, owner?: string, trusted: readonly string[] = []): Promise<{ seq: number; reason: string } | null> {
  const differs = (what: string) => ({ seq: 0, reason: `the schema differs from what the store creates: ${what}` });
  const tables = (await q(
    `SELECT t.name, c.oid, c.relkind, c.relnamespace, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity FROM unnest($1::text[]) AS t(name)
     LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))`,
    [VERIFIED],
  )).rows as TableRow[];
  const records = tables.find((t) => t.name === 'records');
  for (const t of tables) {
    if (t.oid === null) return differs(`table ${t.name} is missing`);
    if (t.relkind !== 'r') return differs(`${t.name} is ${KINDS[t.relkind ?? ''] ?? `of kind ${t.relkind}`}, not a table`);
    if (t.relnamespace !== records?.relnamespace) return differs(`${t.name} resolves to another schema than records`);
    // An unlogged table is emptied by a crash; a temporary one is another session's.
    if (t.relpersistence !== 'p') return differs(`${t.name} is ${t.relpersistence === 'u' ? 'unlogged' : 'temporary'}`);
    if (t.relrowsecurity || t.relforcerowsecurity) return differs(`row-level security is ${t.relforcerowsecurity ? 'forced' : 'enabled'} on ${t.name}`);
  }
  const oids = tables.map((t) => Number(t.oid));
  // A policy hides rows from whom it names once security is enabled: none belongs on these tables.
  const policy = (await q(
    `SELECT p.polname AS name, c.relname AS rel FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
     WHERE p.polrelid = ANY($1::oid[]) ORDER BY c.relname, p.polname LIMIT 1`,
    [oids],
  )).rows[0] as { name: string; rel: string } | undefined;
  if (policy) return differs(`row-level security policy ${policy.name} on ${policy.rel} is not part of it`);
  // A child table's rows are read with its parent's (SELECT * FROM records reads them too).
  const family = (await q(
    `SELECT p.relname AS parent, c.relname AS child FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhrelid = ANY($1::oid[]) OR i.inhparent = ANY($1::oid[]) ORDER BY 1, 2 LIMIT 1`,
    [oids],
  )).rows[0] as { parent: string; child: string } | undefined;
  if (family) return differs(`${family.child} inherits from ${family.parent}`);
  const shapes = await readTableShapes(q, oids);
  for (const [name, expected] of Object.entries(EXPECTED_SHAPES)) {
    const why = shapeDifference(name, shapes.get(name) ?? [], expected);
    if (why) return differs(why);
  }
  // Triggers and rules on every table the store creates (pg-verify-triggers.ts).
  const trigger = await pgTriggerMismatch(q);
  if (trigger) return differs(trigger);
  const privileges = await pgPrivilegeMismatch(q, owner, trusted);
  return privileges ? { seq: 0, reason: privileges } : null;
}

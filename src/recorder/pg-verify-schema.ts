/**
 * The PostgreSQL verify's schema check, the cheap counterpart of verify-schema.ts: the tables verify
 * and the readers query must be ordinary tables (not views, not foreign or partitioned tables) in
 * one schema, with no trigger but the append-only guard and no rule. Why: whoever can alter the
 * database (not the key) could rename `approvals` away and put a filtering view in its place, or
 * add a trigger or rule that drops or rewrites future rows, and a reviewer would see what they
 * chose while the chain still hashes. Read from pg_catalog on the store's own connection and
 * snapshot, resolving names as the store's queries do (its search_path). Not checked: indexes
 * (PostgreSQL keeps them itself; `amcheck` verifies them) and row-level security policies.
 */
import type pg from 'pg';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** The tables verify reads, as the store names them. */
const VERIFIED = ['records', 'chain_head', 'sessions', 'calls', 'approvals', 'approval_decisions', 'signed_head', 'checkpoints'];
/** Triggers the store creates; the guard may be disabled or dropped (whoever can do that can do worse). */
const OWN_TRIGGERS = new Set(['records.records_append_only']);

const KINDS: Record<string, string> = { v: 'a view', m: 'a materialized view', f: 'a foreign table', p: 'a partitioned table' };

/** Where the verified tables differ from what the store creates, or null. Run inside verify's snapshot. */
export async function pgSchemaMismatch(q: Q): Promise<{ seq: number; reason: string } | null> {
  const differs = (what: string) => ({ seq: 0, reason: `the schema differs from what the store creates: ${what}` });
  const tables = (await q(
    `SELECT t.name, c.oid, c.relkind, c.relnamespace FROM unnest($1::text[]) AS t(name)
     LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))`,
    [VERIFIED],
  )).rows as Array<{ name: string; oid: number | null; relkind: string | null; relnamespace: number | null }>;
  const records = tables.find((t) => t.name === 'records');
  for (const t of tables) {
    if (t.oid === null) return differs(`table ${t.name} is missing`);
    if (t.relkind !== 'r') return differs(`${t.name} is ${KINDS[t.relkind ?? ''] ?? `of kind ${t.relkind}`}, not a table`);
    if (t.relnamespace !== records?.relnamespace) return differs(`${t.name} resolves to another schema than records`);
  }
  const oids = tables.map((t) => t.oid);
  const triggers = (await q(
    `SELECT t.tgname AS name, c.relname AS rel FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE t.tgrelid = ANY($1::oid[]) AND NOT t.tgisinternal ORDER BY c.relname, t.tgname`,
    [oids],
  )).rows as Array<{ name: string; rel: string }>;
  const extra = triggers.find((t) => !OWN_TRIGGERS.has(`${t.rel}.${t.name}`));
  if (extra) return differs(`trigger ${extra.name} on ${extra.rel} is not part of it`);
  // A table has no rules of its own (a view's is its _RETURN): any rule rewrites what is written or read.
  const rule = (await q(
    `SELECT r.rulename AS name, c.relname AS rel FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
     WHERE r.ev_class = ANY($1::oid[]) AND r.rulename <> '_RETURN' ORDER BY c.relname, r.rulename LIMIT 1`,
    [oids],
  )).rows[0] as { name: string; rel: string } | undefined;
  if (rule) return differs(`rule ${rule.name} on ${rule.rel} is not part of it`);
  return null;
}

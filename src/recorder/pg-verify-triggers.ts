/**
 * The PostgreSQL verify's trigger and rule check (called by pg-verify-schema.ts), on every table
 * the store creates (STORE_TABLES: the verified ones and settings, schema_version, the rate and
 * liveness tables): no rule, and no trigger but the append-only guard on records, which must be
 * the one the store creates: BEFORE UPDATE OR DELETE, FOR EACH ROW, no WHEN or column list or
 * arguments, calling warden_records_append_only() in the tables' schema, raising as the migration
 * wrote it. Why: a trigger fires as whoever writes, so one that keeps
 * the guard's name but fires BEFORE INSERT (or a guard function replaced by its owner, another
 * role) can rewrite each record as it is appended, hashes recomputed, and the chain verifies; a
 * trigger on settings can swap the masking key under the writer. The guard may be disabled
 * (purge does so for its deletes, inside its transaction): whoever can do that can do worse.
 */
import type pg from 'pg';
import { STORE_TABLES } from './pg-verify-privileges.js';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** tgtype of the guard: ROW (1) | BEFORE (2) | DELETE (8) | UPDATE (16). */
const GUARD_TYPE = 1 | 2 | 8 | 16;
/** The guard's body as pg-schema.ts's first migration writes it, whitespace collapsed. */
const GUARD_BODY = "BEGIN RAISE EXCEPTION 'transcript records are append-only'; END";

interface TriggerRow {
  name: string; rel: string; type: number; plain: boolean; fn: string; same_schema: boolean;
  lang: string; src: string; definer: boolean; config: boolean;
}

/** Why the guard `t` is not the one the store creates, or null. */
function guardDifference(t: TriggerRow): string | null {
  if (t.type !== GUARD_TYPE || !t.plain) return 'it does not fire exactly BEFORE UPDATE OR DELETE FOR EACH ROW';
  if (t.fn !== 'warden_records_append_only' || !t.same_schema) return `it calls ${t.fn}, not warden_records_append_only in the tables' schema`;
  if (t.lang !== 'plpgsql' || t.src.trim().replace(/\s+/g, ' ') !== GUARD_BODY || t.definer || t.config) return 'its function is not the one the store creates';
  return null;
}

/**
 * The first trigger or rule on a store table that the store does not create, said as a reason
 * (without the "schema differs" prefix); or null. The guard function's owner is checked with the
 * store's other functions (pg-verify-roles.ts).
 */
export async function pgTriggerMismatch(q: Q): Promise<string | null> {
  const triggers = (await q(
    `SELECT t.tgname AS name, c.relname AS rel, t.tgtype::int AS type,
       t.tgqual IS NULL AND t.tgnargs = 0 AND t.tgattr::text = '' AND t.tgconstraint = 0 AND t.tgoldtable IS NULL AND t.tgnewtable IS NULL AS plain,
       p.proname AS fn, p.pronamespace = c.relnamespace AS same_schema, l.lanname AS lang, p.prosrc AS src, p.prosecdef AS definer, p.proconfig IS NOT NULL AS config
     FROM unnest($1::text[]) AS s(name) JOIN pg_trigger t ON t.tgrelid = to_regclass(quote_ident(s.name))
     JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
     WHERE NOT t.tgisinternal ORDER BY c.relname, t.tgname`,
    [STORE_TABLES],
  )).rows as TriggerRow[];
  for (const t of triggers) {
    if (`${t.rel}.${t.name}` !== 'records.records_append_only') return `trigger ${t.name} on ${t.rel} is not part of it`;
    const why = guardDifference(t);
    if (why) return `trigger ${t.name} on ${t.rel} is not the store's append-only guard: ${why}`;
  }
  // A table has no rules of its own (a view's is its _RETURN): any rule rewrites what is written or read.
  const rule = (await q(
    `SELECT r.rulename AS name, c.relname AS rel FROM unnest($1::text[]) AS s(name) JOIN pg_rewrite r ON r.ev_class = to_regclass(quote_ident(s.name))
     JOIN pg_class c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN' ORDER BY c.relname, r.rulename LIMIT 1`,
    [STORE_TABLES],
  )).rows[0] as { name: string; rel: string } | undefined;
  return rule ? `rule ${rule.name} on ${rule.rel} is not part of it` : null;
}

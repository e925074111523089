/**
 * The PostgreSQL verify's column, constraint and row-level-security check (pg-verify-schema.ts,
 * pg-schema-catalog.ts, pg-schema-expected.ts) against the schema the store really creates: a
 * freshly migrated database must match the expected lines exactly, and every tamper derived from
 * that database's own catalog (each column's type, nullability, default and collation, each
 * constraint and index, row-level security and policies, child tables, an unlogged table, a write
 * right granted on any store table, a table given to another owner) must be reported.
 * The targets come from information_schema and pg_constraint here, not from a copied list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pgMigrate } from '../../src/recorder/pg-schema.js';
import { readTableShapes } from '../../src/recorder/pg-schema-catalog.js';
import { EXPECTED_SHAPES } from '../../src/recorder/pg-schema-expected.js';
import { pgSchemaMismatch } from '../../src/recorder/pg-verify-schema.js';
import { STORE_TABLES } from '../../src/recorder/pg-verify-privileges.js';
import { createTestDatabase } from '../support/pg-cluster.js';

const TABLES = Object.keys(EXPECTED_SHAPES);

/** A freshly migrated database and one connection to it; dropped afterwards. */
async function withMigrated(prefix: string, fn: (c: pg.Client) => Promise<void>): Promise<void> {
  const db = await createTestDatabase({ prefix });
  const c = new pg.Client({ connectionString: db.adminUrl });
  await c.connect();
  try {
    await pgMigrate(c);
    await fn(c);
  } finally {
    await c.end();
    await db.drop();
  }
}

const q = (c: pg.Client) => (sql: string, params?: unknown[]) => c.query(sql, params);

test('the expected lines are exactly what the store migrations create', async () => {
  await withMigrated('pgshapes', async (c) => {
    const oids = (await c.query(`SELECT to_regclass(n)::oid::int AS o FROM unnest($1::text[]) n`, [TABLES])).rows.map((r) => Number(r.o));
    const shapes = await readTableShapes(q(c), oids);
    const actual = Object.fromEntries([...shapes].sort(([a], [b]) => a.localeCompare(b)));
    const expected = Object.fromEntries(Object.entries(EXPECTED_SHAPES).map(([t, l]) => [t, [...l].sort()]).sort(([a], [b]) => String(a).localeCompare(String(b))));
    // On failure this prints the lines the migrations create: copy them into pg-schema-expected.ts.
    assert.deepEqual(actual, expected, JSON.stringify(actual, null, 2));
    assert.equal(await pgSchemaMismatch(q(c)), null);
  });
});

interface Tamper { what: string; sql: string; reason: RegExp }

function ident(s: string): string {
  return pg.escapeIdentifier(s);
}

/** Tampers derived from the migrated database's own catalog. */
async function tampers(c: pg.Client): Promise<Tamper[]> {
  const out: Tamper[] = [];
  const cols = (await c.query(
    `SELECT table_name AS t, column_name AS col, data_type AS type, is_nullable AS nullable, column_default AS def
     FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1) ORDER BY table_name, ordinal_position`,
    [TABLES],
  )).rows as Array<{ t: string; col: string; type: string; nullable: string; def: string | null }>;
  assert.ok(cols.length > 80, `columns found: ${cols.length}`);
  for (const { t, col, type, nullable, def } of cols) {
    const at = `ALTER TABLE ${ident(t)} ALTER COLUMN ${ident(col)}`;
    const named = new RegExp(`schema differs.*${t} column ${col}\\b`);
    out.push({ what: `${t}.${col} nullability`, sql: `${at} ${nullable === 'NO' ? 'DROP' : 'SET'} NOT NULL`, reason: named });
    out.push({ what: `${t}.${col} default`, sql: def !== null ? `${at} DROP DEFAULT` : `${at} SET DEFAULT ${type === 'text' ? `'x'` : '0'}`, reason: named });
    out.push({ what: `${t}.${col} type`, sql: `${at} TYPE ${type === 'text' ? 'varchar' : 'numeric'}`, reason: named });
    if (type === 'text') out.push({ what: `${t}.${col} collation`, sql: `${at} TYPE text COLLATE "POSIX"`, reason: named });
  }
  const cons = (await c.query(
    `SELECT c.relname AS t, k.conname AS name FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     WHERE c.relname = ANY($1) AND c.relnamespace = current_schema()::regnamespace AND k.contype <> 'n' ORDER BY 1, 2`,
    [TABLES],
  )).rows as Array<{ t: string; name: string }>;
  assert.ok(cons.length >= 15, `constraints found: ${cons.length}`);
  for (const { t, name } of cons) {
    out.push({ what: `${t} drops ${name}`, sql: `ALTER TABLE ${ident(t)} DROP CONSTRAINT ${ident(name)} CASCADE`, reason: new RegExp(`schema differs.*${t} constraint ${name} is missing`) });
  }
  for (const t of TABLES) {
    out.push({ what: `${t} gains a column`, sql: `ALTER TABLE ${ident(t)} ADD COLUMN extra text`, reason: new RegExp(`schema differs.*${t} has \`column extra text\``) });
    out.push({ what: `${t} gains a constraint`, sql: `ALTER TABLE ${ident(t)} ADD CONSTRAINT extra CHECK (true) NOT VALID`, reason: new RegExp(`schema differs.*${t} has \`constraint extra CHECK \\(true\\) NOT VALID\``) });
    out.push({ what: `${t} row security`, sql: `ALTER TABLE ${ident(t)} ENABLE ROW LEVEL SECURITY`, reason: new RegExp(`schema differs.*row-level security is enabled on ${t}`) });
    out.push({ what: `${t} forced row security`, sql: `ALTER TABLE ${ident(t)} FORCE ROW LEVEL SECURITY`, reason: new RegExp(`schema differs.*row-level security is forced on ${t}`) });
    out.push({ what: `${t} policy`, sql: `CREATE POLICY hide ON ${ident(t)} FOR SELECT USING (false)`, reason: new RegExp(`schema differs.*row-level security policy hide on ${t}`) });
    out.push({ what: `${t} child table`, sql: `CREATE TABLE ${ident(`${t}_more`)} () INHERITS (${ident(t)})`, reason: new RegExp(`schema differs.*${t}_more inherits from ${t}`) });
  }
  // Indexes: each dropped (those no constraint owns) or marked invalid must be named.
  const idx = (await c.query(
    `SELECT c.relname AS t, i.relname AS name, EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) AS owned
     FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
     WHERE c.relname = ANY($1) AND c.relnamespace = current_schema()::regnamespace ORDER BY 1, 2`,
    [TABLES],
  )).rows as Array<{ t: string; name: string; owned: boolean }>;
  assert.ok(idx.length >= 19, `indexes found: ${idx.length}`);
  for (const { t, name, owned } of idx) {
    if (!owned) out.push({ what: `${t} drops index ${name}`, sql: `DROP INDEX ${ident(name)}`, reason: new RegExp(`schema differs.*${t} index ${name} is missing`) });
    out.push({ what: `${t} index ${name} invalid`, sql: `UPDATE pg_index SET indisvalid = false WHERE indexrelid = ${pg.escapeLiteral(name)}::regclass`, reason: new RegExp(`schema differs.*${t} index ${name} is \`.* INVALID\``) });
  }
  // Every write right on every store table, to PUBLIC, and each table given away.
  for (const t of STORE_TABLES) {
    for (const right of ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) {
      out.push({ what: `${right} on ${t} to PUBLIC`, sql: `GRANT ${right} ON ${ident(t)} TO PUBLIC`, reason: new RegExp(`privileges differ.*PUBLIC holds ${right} on ${t} \\(only the owner postgres may\\)`) });
    }
    out.push({ what: `${t} given away`, sql: `ALTER TABLE ${ident(t)} OWNER TO pg_database_owner`, reason: new RegExp(`privileges differ.*${t} is owned by pg_database_owner, not postgres`) });
  }
  out.push({ what: 'checkpoints unlogged', sql: 'ALTER TABLE checkpoints SET UNLOGGED', reason: /schema differs.*checkpoints is unlogged/ });
  return out;
}

test('every column, constraint and row-security tamper derived from the created schema is reported', async () => {
  await withMigrated('pgshapetamper', async (c) => {
    const all = await tampers(c);
    const impossible: string[] = [];
    let checked = 0;
    await c.query('BEGIN');
    try {
      for (const t of all) {
        await c.query('SAVEPOINT tamper');
        try {
          await c.query(t.sql);
        } catch (e) {
          // PostgreSQL itself refuses some (a primary key column cannot drop NOT NULL): nothing to detect.
          impossible.push(`${t.what}: ${(e as Error).message}`);
          await c.query('ROLLBACK TO SAVEPOINT tamper');
          continue;
        }
        const found = await pgSchemaMismatch(q(c));
        assert.match(found?.reason ?? '(verify found nothing)', t.reason, t.what);
        checked++;
        await c.query('ROLLBACK TO SAVEPOINT tamper');
      }
    } finally {
      await c.query('ROLLBACK');
    }
    // Only primary key columns keep their NOT NULL; everything else was tried and reported.
    assert.ok(impossible.every((i) => /nullability: .*primary key/.test(i)), impossible.join('\n'));
    assert.ok(checked > 450, `tampers checked: ${checked}`);
  });
});

/**
 * DDL on the general path (node-sql-parser) that named no table passed any `write:` list: with
 * `statements: [alter]` and `write: [public.notes]`, `ALTER SCHEMA public RENAME TO x` (every
 * table of public moves), `ALTER TYPE ... RENAME` and `GRANT pg_read_server_files TO x` had
 * empty writes and were allowed. `GRANT ... ON ALL TABLES IN SCHEMA public` and `ON DATABASE d`
 * were reported as writes of tables named like the schema or database. And a rename moved
 * masked values out from under their mask (masks name schema.table.column): it is reported as
 * the values stored under the new name, so masking refuses it like a copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError, type MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { checkMaskedCopies } from '../../../tools/postgres/masked-copies.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';

const isParse = (e: unknown): boolean => (e as { code?: string }).code === 'WARDEN_PARSE';
const refused = (sql: string): void => {
  assert.throws(() => analyzeSql(sql), (e: unknown) => isParse(e), sql);
};

test('DDL that names no table, or a schema or database as one, is refused', () => {
  for (const sql of [
    'ALTER SCHEMA public RENAME TO x',
    'ALTER SCHEMA other RENAME TO public',
    'ALTER SCHEMA public OWNER TO x',
    'ALTER TYPE public.t RENAME TO u',
    'ALTER DOMAIN public.d RENAME TO u',
    'GRANT pg_read_server_files TO x',
    'REVOKE pg_read_server_files FROM x',
    'GRANT SELECT ON ALL TABLES IN SCHEMA public TO x',
    'GRANT ALL ON DATABASE d TO x',
    'ALTER SEQUENCE public.s RENAME TO notes',
  ]) {
    refused(sql);
  }
});

test('an allow of alter and grant on one table no longer covers them', () => {
  const allow = sqlCondition.compile({ statements: ['alter', 'grant', 'revoke'], write: ['public.notes'] }, { id: 'a', effect: 'allow' });
  const call = { tool: 'query_database', connection: 'db', args: {} };
  assert.equal(allow(analyzeSql('GRANT SELECT ON public.notes TO x'), call).matched, true);
  assert.equal(allow(analyzeSql('ALTER TABLE public.notes ADD COLUMN x int'), call).matched, true);
  assert.equal(allow(analyzeSql('GRANT SELECT ON public.notes, public.users TO x'), call).matched, false);
});

test('table and sequence privileges and ALTER SEQUENCE keep working; OWNER TO is a grant', () => {
  assert.deepEqual(analyzeSql('GRANT SELECT ON TABLE users TO x').writes, ['public.users']);
  assert.deepEqual(analyzeSql('REVOKE ALL ON users FROM x').writes, ['public.users']);
  assert.deepEqual(analyzeSql('GRANT USAGE ON SEQUENCE public.s TO x').writes, ['public.s']);
  assert.deepEqual(analyzeSql('ALTER SEQUENCE public.s RESTART WITH 1').statements, ['alter']);
  assert.deepEqual(analyzeSql('ALTER SEQUENCE public.s OWNER TO x').statements, ['alter', 'grant']);
});

const masking: MaskingContext = { columns: [{ column: 'public.users.email', strategy: 'partial' }], onDerived: 'mask', apply: (v) => v };

test('a rename that moves a masked column is refused like a copy; others run', () => {
  for (const sql of ['ALTER TABLE public.users RENAME COLUMN email TO contact', 'ALTER TABLE users RENAME email TO contact', 'ALTER TABLE public.users RENAME TO people']) {
    assert.throws(() => checkMaskedCopies(analyzeSql(sql), masking), (e: unknown) => e instanceof WardenError && /masked column public\.users\.email/.test(e.message), sql);
  }
  for (const sql of ['ALTER TABLE public.users RENAME COLUMN name TO full_name', 'ALTER TABLE public.users RENAME CONSTRAINT email TO c', 'ALTER TABLE public.notes RENAME TO memos']) {
    checkMaskedCopies(analyzeSql(sql), masking);
  }
});

/**
 * DDL analysed into facts (analysis/ddl.ts): CREATE TABLE with columns and constraints,
 * CREATE INDEX, CREATE VIEW, CREATE SCHEMA, ALTER TABLE, DROP INDEX, COMMENT ON. What each
 * writes and reads, the functions its expressions call (checked like a SELECT's), names of
 * created objects that must be schema-qualified, and shapes that are refused rather than
 * half-read (a call must never hide where the grammar expects a name or a type).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, type SqlFacts } from '../../../tools/postgres/analysis/index.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';

const isParse = (e: unknown): boolean => (e as { code?: string }).code === 'WARDEN_PARSE';
const refused = (sql: string, re: RegExp): void => {
  assert.throws(() => analyzeSql(sql), (e: unknown) => isParse(e) && re.test((e as Error).message), sql);
};
const pick = (f: SqlFacts) => ({ statements: f.statements, reads: f.reads, writes: f.writes, functions: f.functions, constructs: f.constructs });

test('the statements of the report parse into facts', () => {
  assert.deepEqual(pick(analyzeSql("CREATE TABLE public.t (a int primary key, b text not null default 'x')")), {
    statements: ['create'], reads: [], writes: ['public.t'], functions: [], constructs: ['create_table', 'ddl'],
  });
  assert.deepEqual(pick(analyzeSql('CREATE INDEX i ON public.t (a)')), {
    statements: ['create'], reads: [], writes: ['public.t'], functions: [], constructs: ['create_index', 'ddl'],
  });
  // Unqualified: refused with a hint, no longer as a mistaken function call.
  refused('CREATE TABLE t (a int)', /write the schema.*public\.t/);
});

test('CREATE TABLE: columns, types, constraints and references', () => {
  const f = analyzeSql(`CREATE TABLE IF NOT EXISTS public.items (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      owner int NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
      name varchar(80) COLLATE "C" UNIQUE,
      price numeric(10, 2) CHECK (price >= 0) DEFAULT 0,
      tags text[] DEFAULT '{}',
      created timestamp(3) with time zone DEFAULT now(),
      slug text GENERATED ALWAYS AS (lower(name)) STORED,
      ratio double precision,
      CONSTRAINT fk_other FOREIGN KEY (owner, name) REFERENCES orders (user_id, label) MATCH FULL ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,
      UNIQUE NULLS NOT DISTINCT (owner, name),
      CHECK (price < 1000000) NO INHERIT
    )`);
  assert.deepEqual(pick(f), {
    statements: ['create'], reads: ['public.orders', 'public.users'], writes: ['public.items'],
    functions: ['lower', 'now'], constructs: ['create_table', 'ddl'],
  });
  assert.equal(f.readOnly, false);
  assert.equal(f.topLevel, 'create');
  assert.deepEqual(analyzeSql('CREATE TEMP TABLE scratch (a int)').writes, ['pg_temp.scratch']);
  assert.deepEqual(analyzeSql('CREATE UNLOGGED TABLE "Sales".t ("A" int, b int[][], c interval day to second (3))').writes, ['Sales.t']);
});

test('CREATE TABLE AS and CREATE VIEW: the query is analysed, the created relation is written', () => {
  assert.deepEqual(pick(analyzeSql('CREATE TABLE public.t AS SELECT id, lower(name) FROM users WITH NO DATA')), {
    statements: ['create', 'select'], reads: ['public.users'], writes: ['public.t'], functions: ['lower'], constructs: ['create_table', 'ddl'],
  });
  assert.deepEqual(analyzeSql('CREATE TABLE public.t (a, b) AS SELECT 1, 2').writes, ['public.t']);
  assert.deepEqual(analyzeSql('CREATE TABLE public.t (a, b) AS SELECT 1, 2').functions, []);
  assert.deepEqual(pick(analyzeSql('CREATE OR REPLACE VIEW public.v (a) AS SELECT email FROM users WITH LOCAL CHECK OPTION')), {
    statements: ['create', 'select'], reads: ['public.users'], writes: ['public.v'], functions: [], constructs: ['create_view', 'ddl'],
  });
  assert.deepEqual(analyzeSql('CREATE TEMP VIEW v AS SELECT 1').writes, ['pg_temp.v']);
});

test('CREATE INDEX: unique, expressions, method, include, partial', () => {
  const f = analyzeSql('CREATE UNIQUE INDEX IF NOT EXISTS items_lower ON ONLY public.items USING btree (lower(name) text_pattern_ops DESC NULLS LAST, (price * 2), owner) INCLUDE (id) WHERE price > abs(-1)');
  assert.deepEqual(pick(f), { statements: ['create'], reads: [], writes: ['public.items'], functions: ['abs', 'lower'], constructs: ['create_index', 'ddl'] });
  // The index lands in its table's schema, so an unqualified table (public, by the pinned search_path) is fine.
  assert.deepEqual(analyzeSql('CREATE INDEX ON items (name)').writes, ['public.items']);
  refused('CREATE INDEX public.i ON items (name)', /index name cannot be schema-qualified/);
});

test('CREATE INDEX CONCURRENTLY is refused: it cannot run in the transaction every write runs in', () => {
  refused('CREATE INDEX CONCURRENTLY i ON public.t (a)', /CONCURRENTLY.*transaction block/);
  refused('DROP INDEX CONCURRENTLY public.i', /CONCURRENTLY.*transaction block/);
});

test('ALTER TABLE: columns, constraints, renames', () => {
  const f = analyzeSql(`ALTER TABLE IF EXISTS ONLY public.items
      ADD COLUMN IF NOT EXISTS note text DEFAULT 'n/a' NOT NULL,
      ADD CONSTRAINT owner_fk FOREIGN KEY (owner) REFERENCES public.users (id) NOT VALID,
      ADD CHECK (length(note) < 100),
      DROP COLUMN IF EXISTS old RESTRICT,
      DROP CONSTRAINT IF EXISTS c1,
      ALTER COLUMN price SET DATA TYPE numeric(12, 2) USING round(price, 2),
      ALTER name SET DEFAULT upper('x'),
      ALTER COLUMN name DROP DEFAULT,
      ALTER COLUMN name SET NOT NULL,
      ALTER COLUMN name DROP NOT NULL,
      VALIDATE CONSTRAINT owner_fk`);
  assert.deepEqual(pick(f), {
    statements: ['alter'], reads: ['public.users'], writes: ['public.items'], functions: ['length', 'round', 'upper'], constructs: ['checks_keys', 'ddl'],
  });
  // VALIDATE CONSTRAINT and ALTER COLUMN TYPE check existing rows' keys against tables the statement does not name.
  assert.deepEqual(analyzeSql('ALTER TABLE public.t VALIDATE CONSTRAINT c').constructs, ['checks_keys', 'ddl']);
  assert.deepEqual(analyzeSql('ALTER TABLE public.t ALTER COLUMN a TYPE bigint').constructs, ['checks_keys', 'ddl']);
  assert.deepEqual(analyzeSql('ALTER TABLE public.t ALTER COLUMN a SET NOT NULL, ADD COLUMN b int').constructs, ['ddl']);
  // A domain CHECK or cast a type outside the built-in names runs only the catalog holds: the
  // column is used at 'catalog' (masks refuse it). What VALIDATE checks is looked up by the
  // constraint's name under masks (validatedConstraints, constraint-oracles.ts).
  const catalogPlaces = (sql: string) => analyzeSql(sql).predicateColumns.filter((p) => (p.where as string) === 'catalog').map((p) => `${p.column.table}.${p.column.column}`);
  assert.deepEqual(catalogPlaces('ALTER TABLE public.t VALIDATE CONSTRAINT c'), []);
  assert.deepEqual(analyzeSql('ALTER TABLE public.t VALIDATE CONSTRAINT "C", VALIDATE CONSTRAINT d').validatedConstraints, [{ table: 'public.t', name: 'C' }, { table: 'public.t', name: 'd' }]);
  assert.equal(analyzeSql('ALTER TABLE public.t ADD COLUMN b int').validatedConstraints, undefined);
  for (const type of ['public.d', 'd', 'public.d[]', '"Text"', '"INTEGER"', 'pg_catalog.text', 'tinyint']) {
    assert.deepEqual(catalogPlaces(`ALTER TABLE public.t ALTER COLUMN "a" TYPE ${type}`), ['public.t.a'], type);
  }
  assert.deepEqual(catalogPlaces('ALTER TABLE public.t ALTER a SET DATA TYPE s.d USING a::text'), ['public.t.a']);
  for (const type of ['bigint', 'varchar(3)', 'text[]', '"text"', 'double precision', 'timestamp with time zone', 'numeric(10, 2)']) {
    assert.deepEqual(catalogPlaces(`ALTER TABLE public.t ALTER COLUMN a TYPE ${type}`), [], type);
  }
  assert.deepEqual(catalogPlaces('ALTER TABLE public.t ALTER COLUMN a SET NOT NULL, ADD UNIQUE (a), ADD COLUMN b public.d'), []);
  // An ALTER's CHECK and an index expression are evaluated over the table's rows: their columns are its columns.
  assert.deepEqual(analyzeSql("ALTER TABLE public.t ADD CHECK (length(repeat('x', a)) > 0)").predicateColumns, [{ column: { table: 'public.t', column: 'a' }, where: 'srf' }]);
  assert.deepEqual(analyzeSql("CREATE INDEX i ON public.t (id) WHERE length(repeat('x', a)) > 0").readColumns, [{ table: 'public.t', column: 'a' }]);
  assert.deepEqual(analyzeSql('ALTER TABLE t RENAME TO u').writes, ['public.t', 'public.u']);
  assert.deepEqual(analyzeSql('ALTER TABLE s.t RENAME TO u').writes, ['s.t', 's.u']);
  assert.deepEqual(analyzeSql('ALTER TABLE t RENAME COLUMN a TO b').writes, ['public.t']);
  assert.deepEqual(analyzeSql('ALTER TABLE t RENAME CONSTRAINT a TO b').writes, ['public.t']);
  assert.deepEqual(analyzeSql('ALTER TABLE t ADD x int').writes, ['public.t']);
  assert.deepEqual(analyzeSql('ALTER TABLE t OWNER TO bob').writes, ['public.t']);
  // A change of owner is a privilege statement too: an allow of alter alone does not cover it.
  assert.deepEqual([...analyzeSql('ALTER TABLE t OWNER TO bob').statements].sort(), ['alter', 'grant']);
  const alterOnly = sqlCondition.compile({ statements: ['alter'], write: ['public.t'] }, { id: 'a', effect: 'allow' });
  const call = { tool: 'query_database', connection: 'db', args: {} };
  assert.equal(alterOnly(analyzeSql('ALTER TABLE public.t OWNER TO postgres'), call).matched, false);
  assert.equal(alterOnly(analyzeSql('ALTER TABLE public.t ADD COLUMN b int'), call).matched, true);
  assert.equal(alterOnly(analyzeSql('ALTER TABLE public.t VALIDATE CONSTRAINT c'), call).matched, true);
});

test('DROP INDEX, COMMENT ON, CREATE SCHEMA', () => {
  assert.deepEqual(pick(analyzeSql('DROP INDEX IF EXISTS public.i, j RESTRICT')), {
    statements: ['drop'], reads: [], writes: ['public.i', 'public.j'], functions: [], constructs: ['ddl'],
  });
  assert.deepEqual(pick(analyzeSql("COMMENT ON TABLE public.t IS 'x'")), { statements: ['comment'], reads: [], writes: ['public.t'], functions: [], constructs: ['ddl'] });
  assert.deepEqual(analyzeSql('COMMENT ON COLUMN public.t.a IS NULL').writes, ['public.t']);
  assert.deepEqual(analyzeSql("COMMENT ON COLUMN t.a IS 'x'").writes, ['public.t']);
  assert.deepEqual(analyzeSql("COMMENT ON INDEX i IS 'x'").writes, ['public.i']);
  assert.deepEqual(analyzeSql("COMMENT ON MATERIALIZED VIEW s.mv IS 'x'").writes, ['s.mv']);
  assert.deepEqual(analyzeSql("COMMENT ON CONSTRAINT c ON public.t IS 'x'").writes, ['public.t']);
  for (const sql of ["COMMENT ON SCHEMA s IS 'x'", "COMMENT ON ROLE r IS 'x'", "COMMENT ON DATABASE d IS 'x'", "COMMENT ON FUNCTION f() IS 'x'"]) {
    refused(sql, /COMMENT ON .* is not supported/);
  }
  assert.deepEqual(pick(analyzeSql('CREATE SCHEMA IF NOT EXISTS s AUTHORIZATION bob')), { statements: ['create'], reads: [], writes: [], functions: [], constructs: ['create_schema', 'ddl'] });
  refused('CREATE SCHEMA s CREATE TABLE t (a int)', /CREATE SCHEMA/);
});

test('a function in a DDL expression is caught like one in a SELECT', () => {
  for (const sql of [
    'CREATE TABLE public.t (a int DEFAULT pg_sleep(1))',
    'CREATE TABLE public.t (a int CHECK (pg_sleep(1) IS NULL))',
    'CREATE TABLE public.t (a int, CONSTRAINT c CHECK (a > 0 AND pg_sleep(1) IS NULL))',
    'CREATE TABLE public.t (a int GENERATED ALWAYS AS (pg_sleep(1)) STORED)',
    'CREATE TABLE public.pg_sleep (a int DEFAULT pg_sleep(1))',
    'CREATE INDEX i ON public.t (pg_sleep(a))',
    'CREATE INDEX i ON public.t ((a + pg_sleep(1)))',
    'CREATE INDEX i ON public.t (a) WHERE pg_sleep(1) IS NULL',
    'ALTER TABLE t ADD COLUMN b int DEFAULT pg_sleep(1)',
    'ALTER TABLE t ALTER COLUMN a SET DEFAULT pg_sleep(1)',
    'ALTER TABLE t ALTER COLUMN a TYPE int USING pg_sleep(1)',
    'ALTER TABLE t ADD CONSTRAINT c CHECK (pg_sleep(1) IS NULL)',
    'CREATE TABLE public.t (a int DEFAULT CASE WHEN pg_sleep(1) IS NOT NULL THEN 1 END NOT NULL)',
  ]) {
    const f = analyzeSql(sql);
    assert.ok(f.functions.includes('pg_sleep'), `${sql}: ${f.functions.join(',')}`);
  }
  const grant = sqlCondition.compile({ statements: ['create', 'alter'], write: ['public.t', 'public.pg_sleep'] }, { id: 'ddl', effect: 'allow' });
  const deny = sqlCondition.compile({ functions: ['pg_sleep'] }, { id: 'no-sleep', effect: 'deny' });
  const call = { tool: 'query_database', connection: 'db', args: {} };
  const f = analyzeSql('CREATE TABLE public.t (a int DEFAULT pg_sleep(1))');
  assert.equal(grant(f, call).matched, false);
  assert.match(grant(f, call).why, /function pg_sleep/);
  assert.equal(deny(f, call).matched, true);
});

test('no call hides where the grammar expects a name, a type, a column list or an option', () => {
  for (const sql of [
    'CREATE TABLE public.t (pg_sleep(1) int)',
    'CREATE TABLE public.t (a varchar(pg_sleep(1)))',
    'CREATE TABLE public.t (a numeric(lower(1)))',
    'CREATE TABLE public.t (a int REFERENCES public.u (pg_sleep(1)))',
    'CREATE TABLE public.t (a int, UNIQUE (pg_sleep(1)))',
    'CREATE TABLE public.t (a int, PRIMARY KEY (a, lower(a)))',
    'CREATE TABLE public.t (a int) WITH (fillfactor = 70)',
    'CREATE TABLE public.t (a int) INHERITS (public.u)',
    'CREATE TABLE public.t (a int) PARTITION BY RANGE (pg_sleep(a))',
    'CREATE TABLE public.t (LIKE public.u INCLUDING ALL)',
    'CREATE TABLE public.t (a int, EXCLUDE USING gist (a WITH =))',
    'CREATE TABLE public.t (a int GENERATED ALWAYS AS IDENTITY (START WITH 1))',
    'CREATE INDEX i ON public.t USING pg_sleep (a)',
    'CREATE INDEX i ON public.t (a text_pattern_ops (siglen = 1))',
    'CREATE INDEX i ON public.t (a) WITH (fillfactor = 70)',
    'CREATE INDEX i ON public.t (a) INCLUDE (lower(a))',
    'CREATE TABLE public.t AS EXECUTE p',
    'CREATE TABLE public.t (a int) AS SELECT 1',
    'CREATE VIEW public.v WITH (security_barrier) AS SELECT 1',
    'ALTER TABLE t ALTER COLUMN a TYPE varchar(pg_sleep(1))',
    'ALTER TABLE t SET SCHEMA s',
    'ALTER TABLE t DROP COLUMN a CASCADE',
    'DROP INDEX public.i CASCADE',
    'CREATE TABLE public.t (a int DEFAULT 1 FROM secrets)',
    'CREATE TABLE public.t (a int CHECK (a > (SELECT count(*) FROM secrets)))',
    'CREATE INDEX i ON public.t ((SELECT 1 FROM secrets))',
    'CREATE TABLE public.t (a int',
    'CREATE TABLE public.t (a int) extra',
  ]) {
    assert.throws(() => analyzeSql(sql), isParse, sql);
  }
});

test('an unqualified name for a created relation is refused with a hint (it would land in pg_catalog)', () => {
  refused('CREATE TABLE t (a int)', /CREATE TABLE t: write the schema \(public\.t\)/);
  refused('CREATE TABLE IF NOT EXISTS t AS SELECT 1', /write the schema \(public\.t\)/);
  refused('CREATE UNLOGGED TABLE t (a int)', /public\.t/);
  refused('CREATE VIEW v AS SELECT 1', /CREATE VIEW v: write the schema \(public\.v\)/);
  refused('CREATE OR REPLACE VIEW v AS SELECT 1', /public\.v/);
  refused('CREATE SEQUENCE s', /CREATE SEQUENCE s: write the schema \(public\.s\)/);
  const e = (() => { try { analyzeSql('CREATE TABLE "T" (a int)'); } catch (err) { return err as { details?: { reason?: string } } } return null; })();
  assert.equal(e?.details?.reason, 'unqualified created name');
});

test('a DDL grant: create/alter/drop/comment on named tables, references counted as reads', () => {
  const grant = sqlCondition.compile(
    { statements: ['create', 'alter', 'drop', 'comment', 'select'], write: ['public.t', 'public.t_a_idx', 'public.v'], read: ['public.users'], functions: ['lower', 'now'] },
    { id: 'ddl', effect: 'allow' },
  );
  const call = { tool: 'query_database', connection: 'db', args: {} };
  for (const sql of [
    'CREATE TABLE public.t (a int REFERENCES public.users (id), b text DEFAULT now())',
    'CREATE INDEX t_a_idx ON public.t (lower(b))',
    'ALTER TABLE public.t ADD COLUMN c int',
    "COMMENT ON TABLE public.t IS 'x'",
    'DROP INDEX public.t_a_idx',
    'CREATE VIEW public.v AS SELECT a FROM public.t',
    'DROP TABLE public.t',
  ]) {
    const r = grant(analyzeSql(sql), call);
    assert.equal(r.matched, true, `${sql}: ${r.why}`);
  }
  for (const [sql, why] of [
    ['CREATE TABLE public.other (a int)', /public\.other may not be written/],
    ['CREATE TABLE public.t (a int REFERENCES public.secrets (id))', /public\.secrets is not in the allowed tables/],
    ['CREATE INDEX ON public.secrets (id)', /public\.secrets may not be written/],
    ['DROP INDEX public.other_idx', /public\.other_idx may not be written/],
    ['CREATE SCHEMA s', /construct create_schema/],
    ['CREATE TABLE public.t AS SELECT * FROM public.secrets', /public\.secrets/],
  ] as const) {
    const r = grant(analyzeSql(sql), call);
    assert.equal(r.matched, false, sql);
    assert.match(r.why, why, sql);
  }
});

test('unqualified pg_* relations and functions are listed for the executor to check', () => {
  const f = analyzeSql('SELECT pg_size_pretty(1), u.pg_sleep, pg_catalog.pg_typeof(1) FROM pg_secret s, pg_catalog.pg_class c, public.pg_x, users u');
  assert.deepEqual(f.unqualifiedPgRelations, ['pg_secret']);
  assert.deepEqual(f.unqualifiedPgFunctions, ['pg_size_pretty', 'pg_sleep']);
  assert.ok(f.reads.includes('pg_catalog.pg_secret'));
  const none = analyzeSql('SELECT count(*) FROM users');
  assert.deepEqual([none.unqualifiedPgRelations, none.unqualifiedPgFunctions], [[], []]);
  assert.deepEqual(analyzeSql('DROP TABLE pg_x').unqualifiedPgRelations, ['pg_x']);
  assert.deepEqual(analyzeSql('CREATE INDEX ON pg_x (a)').unqualifiedPgRelations, ['pg_x']);
  assert.deepEqual(analyzeSql('CREATE TABLE public.t (a int REFERENCES pg_x (a) DEFAULT pg_f())').unqualifiedPgRelations, ['pg_x']);
  assert.deepEqual(analyzeSql('CREATE TABLE public.t (a int REFERENCES pg_x (a) DEFAULT pg_f())').unqualifiedPgFunctions, ['pg_f']);
});

test('DROP and TRUNCATE: CASCADE is refused (it touches objects the statement does not name), so is DROP of a non-relation', () => {
  for (const sql of ['DROP TABLE public.t CASCADE', 'DROP VIEW public.v CASCADE', 'TRUNCATE public.t CASCADE', 'TRUNCATE TABLE public.t RESTART IDENTITY CASCADE', 'DROP TABLE IF EXISTS public.a, public.b CASCADE']) {
    assert.throws(() => analyzeSql(sql), /CASCADE drops or empties dependent objects/, sql);
  }
  for (const sql of ['DROP TYPE public.x', 'DROP FUNCTION public.f()', 'DROP SCHEMA s', 'DROP DATABASE d', 'DROP ROLE r', 'DROP EXTENSION e', 'DROP OWNED BY r']) {
    assert.throws(() => analyzeSql(sql), /WARDEN_PARSE|not supported|not understood/, sql);
  }
  // Without CASCADE, and a table that is merely named "cascade", they still analyse.
  assert.deepEqual(analyzeSql('DROP TABLE public.t').writes, ['public.t']);
  assert.deepEqual(analyzeSql('DROP TABLE public.t RESTRICT').writes, ['public.t']);
  assert.deepEqual(analyzeSql('TRUNCATE public.t').writes, ['public.t']);
  assert.deepEqual(analyzeSql('DROP TABLE public."cascade"').writes, ['public.cascade']);
  assert.deepEqual(analyzeSql('DROP VIEW public.v').writes, ['public.v']);
});

test('every function called without a schema is listed for the executor to check (a public overload can win)', () => {
  const f = analyzeSql("SELECT lower(1), count(*), row_number() OVER (), u.row_to_json, pg_catalog.upper('a'), public.f(1), pg_size_pretty(1) FROM users u");
  assert.deepEqual(f.unqualifiedFunctions, ['count', 'lower', 'pg_size_pretty', 'row_number', 'row_to_json']);
  assert.deepEqual(f.unqualifiedPgFunctions, ['pg_size_pretty']);
  assert.deepEqual(analyzeSql('SELECT pg_catalog.lower(name) FROM users').unqualifiedFunctions, []);
  assert.deepEqual(analyzeSql('SELECT * FROM generate_series(1, 3) g').unqualifiedFunctions, ['generate_series']);
  assert.deepEqual(analyzeSql('CREATE TABLE public.t (a text DEFAULT lower(\'X\'))').unqualifiedFunctions, ['lower']);
  assert.deepEqual(analyzeSql('CREATE INDEX ON public.t (upper(a))').unqualifiedFunctions, ['upper']);
});

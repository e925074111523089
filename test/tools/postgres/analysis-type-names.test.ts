import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';

const isParse = (e: unknown): boolean => (e as { code?: string }).code === 'WARDEN_PARSE';

test('a cast type PostgreSQL may resolve outside pg_catalog is refused', () => {
  for (const sql of [
    `SELECT 'x'::"Text"`, // quoted: exactly "Text", a type of one's own
    `SELECT 'x'::"TEXT"`,
    `SELECT 1::"integer"`, // integer is a keyword type unquoted only
    `SELECT 1::"int"`,
    `SELECT 1::tinyint`, // MySQL names the parser knows, no pg_catalog type
    `SELECT 'x'::longtext`,
    `SELECT 'x'::datetime`,
    `SELECT 1::double`, // without precision
    `SELECT 1::serial`,
    `SELECT 'x'::geometry`,
    `SELECT 'x'::int4range`, // the parser reads int4 AS range
    `SELECT CAST(x AS tinyint) FROM t`,
    `SELECT CAST(CAST(x AS text) AS "Text") FROM t`,
    `SELECT id FROM t WHERE x::"Text" IS NULL`,
    `SELECT id FROM t WHERE x IN (SELECT y::mediumint FROM u)`,
  ]) {
    assert.throws(() => analyzeSql(sql), isParse, sql);
  }
});

test('built-in cast types read as before', () => {
  for (const sql of [
    `SELECT 'x'::text`, `SELECT 'x'::"text"`, `SELECT 'x'::"char"`, `SELECT 1::"int4"`,
    `SELECT 1::integer`, `SELECT 1::double precision`, `SELECT 1::numeric(3,1)`, `SELECT 'x'::varchar(3)`,
    `SELECT '{}'::text[]`, `SELECT now()::timestamp with time zone`, `SELECT 'users'::regclass`,
    `SELECT CAST(x AS bigint) FROM t`, `SELECT CAST(CAST(x AS text) AS int) FROM t`, `SELECT cast FROM t`,
  ]) {
    assert.doesNotThrow(() => analyzeSql(sql), sql);
  }
});

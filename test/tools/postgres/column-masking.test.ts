import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { checkDerivedFlows, planColumnMasks } from '../../../tools/postgres/column-masking.js';

const masking = (onDerived: 'deny' | 'mask'): MaskingContext => ({
  columns: [
    { column: 'public.users.email', strategy: 'partial' },
    { column: 'public.users.ssn', strategy: 'redact' },
  ],
  onDerived,
  apply: (v) => v,
});
// PostgreSQL's field metadata for the columns of users and orders (what connector.columnName returns).
const USERS = ['public.users.id', 'public.users.name', 'public.users.email', 'public.users.ssn'];
const ORDERS = ['public.orders.id', 'public.orders.user_id', 'public.orders.total'];
const plan = (sql: string, fields: (string | null)[]) => planColumnMasks(analyzeSql(sql), fields, masking('mask'));
const refused = (sql: string) => assert.throws(() => checkDerivedFlows(analyzeSql(sql), masking('deny')), /flows through an expression/, sql);

test('a computed column beside a star is masked by its lineage (fields line up from both ends)', () => {
  assert.deepEqual(plan('SELECT u.*, upper(u.email) AS e FROM users u', [...USERS, null]), [null, null, 'partial', 'redact', 'redact']);
  assert.deepEqual(plan('SELECT upper(u.email) AS e, u.* FROM users u', [null, ...USERS]), ['redact', null, null, 'partial', 'redact']);
  assert.deepEqual(plan('SELECT u.*, 1 AS one FROM users u', [...USERS, null]), [null, null, 'partial', 'redact', null]);
  // Between two stars the position is open: a field without table metadata is masked when any
  // entry there may carry a masked column.
  assert.deepEqual(plan('SELECT o.*, lower(u.email) AS e, u.* FROM users u, orders o', [...ORDERS, null, ...USERS]), [null, null, null, 'redact', null, null, 'partial', 'redact']);
});

test('a star whose fields carry no table (UNION, a function source) is refused, or redacted under on_derived: mask', () => {
  const union = 'SELECT * FROM users UNION ALL SELECT * FROM users';
  const fn = 'SELECT u.*, t.* FROM users u, lower(CAST(u.* AS text)) t';
  refused(union);
  refused(fn);
  assert.deepEqual(plan(union, [null, null, null, null]), ['redact', 'redact', 'redact', 'redact']);
  assert.deepEqual(plan(fn, [...USERS, null]), [null, null, 'partial', 'redact', 'redact']);
  // A star over a base table runs: PostgreSQL names each field's table and column.
  for (const sql of ['SELECT * FROM users', 'SELECT u.* FROM users u', 'SELECT x.* FROM users x(a, b)', 'WITH c AS (SELECT * FROM users) SELECT * FROM c', 'SELECT t.* FROM users u, LATERAL (SELECT u.*) t']) {
    checkDerivedFlows(analyzeSql(sql), masking('deny'));
  }
});

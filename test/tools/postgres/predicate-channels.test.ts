/**
 * Where a statement's predicates use columns (SqlFacts.predicateColumns, analysis/predicates.ts)
 * and the refusal masking makes of a masked column used anywhere but the outermost query's own
 * row filters (predicate-channels.ts); the end-to-end proof of each leak is
 * test/e2e/sql-predicate-channels.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError, type MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { checkPredicateChannels } from '../../../tools/postgres/predicate-channels.js';
import { VIEW_SELF_JOINS, type ViewLineages } from '../../../tools/postgres/view-lineage.js';

const masking: MaskingContext = { columns: [{ column: 'public.users.email', strategy: 'redact' }], onDerived: 'deny', apply: () => '<m>' };
const NO_VIEWS: ViewLineages = new Map();

/** The places `sql` uses public.users.email at. */
function placesOfEmail(sql: string): string[] {
  return analyzeSql(sql).predicateColumns.filter((p) => p.column.table === 'public.users' && p.column.column === 'email').map((p) => p.where);
}

describe('predicateColumns: the place of each column a predicate uses', () => {
  const cases: [string, string[]][] = [
    ["SELECT id FROM users WHERE email = 'x' AND id > 2", ['top-where']],
    ['SELECT id FROM users ORDER BY email', ['top-order']],
    ['SELECT count(*) FROM users GROUP BY email', ['top-group']],
    ['SELECT DISTINCT ON (email) id FROM users', ['top-order']],
    ['SELECT id FROM users u WHERE u.email = u.name OR u.id = 1', ['top-where']],
    ["SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email LIKE 'a%'", ['top-where']],
    ['SELECT g FROM users u JOIN generate_series(1, 255) g ON g = ascii(u.email)', ['join']],
    ['SELECT g FROM users u, generate_series(1, 255) g WHERE u.id = 1 AND g = ascii(u.email)', ['join']],
    ['SELECT o.id FROM users u, orders o WHERE u.email = o.note', ['join']],
    ['SELECT id FROM users JOIN dictionary USING (email)', ['join']],
    ['SELECT g FROM users u, generate_series(1, 255) g ORDER BY abs(g - ascii(u.email))', ['join']],
    ['SELECT count(*) FROM users u, generate_series(1, 255) g GROUP BY g < ascii(u.email)', ['join']],
    ['SELECT s.g FROM (SELECT ascii(u.email) - g AS d, g FROM users u, generate_series(1, 255) g) s WHERE s.d = 0', ['join']],
    ['SELECT u.id, (SELECT count(*) FROM generate_series(1, 255) g WHERE g <= ascii(u.email)) FROM users u', ['subquery']],
    ['SELECT n.id FROM numbers n WHERE n.id = (SELECT ascii(email) FROM users WHERE id = 1)', ['subquery']],
    ['SELECT g FROM generate_series(1, 255) g WHERE EXISTS (SELECT 1 FROM users u WHERE ascii(u.email) = g)', ['subquery']],
    ["WITH c AS (SELECT id FROM users WHERE email LIKE 'a%') SELECT id FROM c", ['subquery']],
    ['SELECT x.g FROM users u, LATERAL (SELECT g FROM generate_series(1, 255) g WHERE g = ascii(u.email)) x', ['subquery']],
    ['SELECT count(*) FILTER (WHERE u.email > 0) FROM users u', ['filter']],
    ['SELECT rank() OVER (ORDER BY u.email) FROM users u', ['window']],
    ['SELECT count(*) FROM users u, generate_series(1, length(u.email)) g', ['srf']],
    ["DELETE FROM users WHERE email = 'x'", ['top-where']],
    // A bare name next to a function in FROM whose output columns are known for certain is the table's.
    ["SELECT id FROM users, generate_series(1, 3) g WHERE email = 'a@b.c'", ['top-where']],
    ["SELECT id FROM users, generate_series(1, 3) g(n) WHERE email = 'a@b.c' ORDER BY email", ['top-order', 'top-where']],
    ["SELECT id FROM users, pg_catalog.generate_series(1, 3) WHERE email = 'a@b.c'", ['top-where']],
    ["SELECT id FROM users u CROSS JOIN LATERAL unnest(ARRAY[1]) x WHERE email LIKE '%@x.com'", ['top-where']],
    ["SELECT id FROM users, unnest('{a,b}'::text[]) x(w) WHERE email = 'a'", ['top-where']],
    ["SELECT id FROM users, generate_subscripts(ARRAY[1, 2], 1) s WHERE email = 'a'", ['top-where']],
    ["SELECT id FROM users, jsonb_each('{}'::jsonb) j WHERE email = 'a'", ['top-where']],
    // Where the function may return a column of that name, the name may be the function's: a join.
    ["SELECT id FROM users, my_rows() f WHERE email = 'a'", ['join']],
    ["SELECT id FROM users, my_rows() f(n) WHERE email = 'a'", ['join']],
    ["SELECT id FROM users, public.generate_series(1, 3) g WHERE email = 'a'", ['join']],
    ["SELECT id FROM users, generate_series(1, 3) email WHERE email = 'a'", ['join']],
    ["SELECT id FROM users, generate_series(1, 3) g(email) WHERE email = 'a'", ['join']],
    ["SELECT id FROM users, jsonb_each('{}'::jsonb) j(email) WHERE email = 'a'", ['join']],
    ['SELECT id FROM users u, unnest(ARRAY[u]) x WHERE email = 1', ['join']],
    ["SELECT id FROM users, unnest(ARRAY[1], ARRAY[2]) x WHERE email = 'a'", ['join']],
    ["SELECT g FROM users, generate_series(1, 255) g WHERE g = ascii(email)", ['join']],
    ['UPDATE notes n SET body = 1 FROM users u WHERE n.id = ascii(u.email)', ['join']],
    // An ORDER BY, GROUP BY or DISTINCT ON item may name a select-list item by output name or position.
    ['SELECT abs(ascii(u.email) - g) AS k, g FROM users u, generate_series(1, 255) g ORDER BY k', ['join']],
    ['SELECT abs(ascii(u.email) - g) AS k, g FROM users u, generate_series(1, 255) g ORDER BY 1', ['join']],
    ['SELECT abs(ascii(u.email) - g), g FROM users u, generate_series(1, 255) g ORDER BY abs', ['join']],
    ['SELECT g <= ascii(u.email) AS k, count(*) FROM users u, generate_series(1, 255) g GROUP BY k', ['join']],
    ['SELECT DISTINCT ON (1) abs(ascii(u.email) - g) AS k, g FROM users u, generate_series(1, 255) g', ['join']],
    ['SELECT x.g FROM (SELECT abs(ascii(u.email) - g) AS k, g FROM users u, generate_series(1, 255) g ORDER BY k LIMIT 1) x', ['subquery']],
    ['SELECT email AS e, id FROM users ORDER BY e', ['top-order']],
    ['SELECT id, email FROM users ORDER BY 2', ['top-order']],
    ['SELECT * FROM users ORDER BY 3', []],
  ];
  for (const [sql, places] of cases) {
    test(sql, () => assert.deepEqual(placesOfEmail(sql), places));
  }
});

describe('checkPredicateChannels', () => {
  test('refuses a masked column outside the row filters, naming it and the place', () => {
    assert.throws(
      () => checkPredicateChannels(analyzeSql('SELECT g FROM users u JOIN generate_series(1, 255) g ON g = ascii(u.email)'), NO_VIEWS, masking),
      (e: unknown) => e instanceof WardenError && /masked column public\.users\.email .*join condition/.test(e.message),
    );
  });

  test('refuses DDL checking a masked column by a definition only the catalog holds; not on other tables or columns', () => {
    // VALIDATE CONSTRAINT is judged by the constraint the catalog names (constraint-oracles.ts).
    for (const sql of ['ALTER TABLE public.users ALTER COLUMN email TYPE public.d']) {
      assert.throws(
        () => checkPredicateChannels(analyzeSql(sql), NO_VIEWS, masking),
        (e: unknown) => e instanceof WardenError && /^masked column public\.users\.email .*definition the statement does not show/.test(e.message)
          && e.details?.reason === 'masked column checked by a definition the statement does not show',
        sql,
      );
    }
    for (const sql of ['ALTER TABLE public.orders VALIDATE CONSTRAINT c', 'ALTER TABLE public.users ALTER COLUMN id TYPE public.d', 'ALTER TABLE public.users ALTER COLUMN email TYPE varchar(200)']) {
      checkPredicateChannels(analyzeSql(sql), NO_VIEWS, masking);
    }
  });

  test('lets the outermost filters, orders and groups run, and columns no mask names anywhere', () => {
    for (const sql of [
      "SELECT id FROM users WHERE email LIKE '%@example.com' ORDER BY email",
      'SELECT email, count(*) FROM users GROUP BY email',
      'SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id',
      'SELECT id FROM users WHERE id IN (SELECT user_id FROM orders WHERE total > 5)',
    ]) {
      checkPredicateChannels(analyzeSql(sql), NO_VIEWS, masking);
    }
  });

  test('a bare name next to a function in FROM: the table\'s when the function\'s columns are known, else refused', () => {
    for (const sql of [
      "SELECT id FROM users, generate_series(1, 3) g WHERE email = 'a@b.c'",
      "SELECT id FROM users u CROSS JOIN LATERAL unnest(ARRAY[1]) x WHERE email LIKE '%@x.com'",
      "SELECT id, email FROM users, generate_series(1, 3) g(n) WHERE email LIKE 'a%' ORDER BY email",
    ]) {
      checkPredicateChannels(analyzeSql(sql), NO_VIEWS, masking);
    }
    for (const sql of [
      "SELECT id FROM users, my_rows() f WHERE email = 'a'",
      "SELECT id FROM users, my_rows() f(n) WHERE email = 'a'",
      "SELECT id FROM users, generate_series(1, 3) g(email) WHERE email = 'a'",
      'SELECT g FROM users, generate_series(1, 255) g WHERE g = ascii(substr(email, 1, 1))',
      'SELECT n FROM users, generate_series(1, 255) g(n) WHERE ascii(substr(email, 1, 1)) = n',
      'SELECT id FROM users, generate_series(1, length(email)) g',
    ]) {
      assert.throws(() => checkPredicateChannels(analyzeSql(sql), NO_VIEWS, masking), (e: unknown) => e instanceof WardenError && /masked column public\.users\.email/.test(e.message), sql);
    }
  });

  test('UNION branches that each select the same plain columns of the one table: what one query with OR reveals', () => {
    const bits = (op: string, select: (k: number) => string): string =>
      [0, 1, 2, 3, 4, 5, 6].map((k) => `SELECT ${select(k)} FROM users u WHERE u.id = 1 AND mod(ascii(substr(u.email, 1, 1)) / ${2 ** k}, 2) = 1`).join(` ${op} `);
    for (const sql of [
      "SELECT id FROM users WHERE email = 'a' UNION SELECT id FROM users WHERE email = 'b'",
      "SELECT id, email FROM users WHERE email LIKE 'a%' UNION SELECT u.id, u.email FROM public.users u WHERE u.email LIKE 'b%' ORDER BY id LIMIT 5",
      "SELECT * FROM users WHERE email = 'a' UNION DISTINCT SELECT * FROM users WHERE email = 'b'",
      bits('UNION', () => 'u.id'),
    ]) {
      checkPredicateChannels(analyzeSql(sql), NO_VIEWS, masking);
    }
    const refusedAsRows = (sql: string): void =>
      assert.throws(() => checkPredicateChannels(analyzeSql(sql), NO_VIEWS, masking), (e: unknown) => e instanceof WardenError && /more than one relation.*combine the conditions with OR in one query/.test(e.message), sql);
    // Each branch tells itself apart (a constant, another column, a count of duplicates): a bit per row each.
    refusedAsRows(bits('UNION', (k) => `${2 ** k} AS b`));
    refusedAsRows(bits('UNION ALL', (k) => `${2 ** k} AS b`));
    refusedAsRows(bits('UNION ALL', () => 'u.id'));
    refusedAsRows(bits('INTERSECT', () => 'u.id'));
    refusedAsRows(bits('EXCEPT', () => 'u.id'));
    refusedAsRows("SELECT id, 1 AS b FROM users WHERE email = 'a' UNION SELECT id, 2 AS b FROM users WHERE email = 'b'");
    refusedAsRows("SELECT id FROM users WHERE email = 'a' UNION SELECT name FROM users WHERE email = 'b'");
    refusedAsRows("SELECT id, nextval('s') FROM users WHERE email = 'a' UNION SELECT id, nextval('s') FROM users WHERE email = 'b'");
    refusedAsRows("SELECT id FROM users WHERE email = 'a' UNION SELECT id FROM users WHERE email = 'b' GROUP BY id");
    refusedAsRows("SELECT u.id FROM users u, orders o WHERE u.email = 'a' UNION SELECT id FROM users WHERE email = 'b'");
    refusedAsRows(`SELECT ${[0, 1, 2, 3, 4, 5, 6].map((k) => `u${k}.id`).join(', ')} FROM ${[0, 1, 2, 3, 4, 5, 6].map((k) => `users u${k}`).join(', ')} WHERE ${[0, 1, 2, 3, 4, 5, 6].map((k) => `mod(ascii(substr(u${k}.email, 1, 1)) / ${2 ** k}, 2) = 1`).join(' AND ')}`);
  });

  test('follows views: a view column carrying the masked column, and a computed one even in WHERE', () => {
    const views: ViewLineages = new Map([
      ['public.v', new Map([
        ['email', { sources: [{ table: 'public.users', column: 'email' }], derived: false }],
        ['d', { sources: [{ table: 'public.users', column: 'email' }], derived: true }],
      ])],
    ]);
    assert.throws(() => checkPredicateChannels(analyzeSql('SELECT g FROM v JOIN generate_series(1, 255) g ON g = ascii(v.email)'), views, masking), WardenError);
    assert.throws(() => checkPredicateChannels(analyzeSql('SELECT id FROM v WHERE v.d = 0'), views, masking), WardenError);
    checkPredicateChannels(analyzeSql("SELECT id FROM v WHERE v.email = 'x'"), views, masking);
  });

  test('through a view that joins, a column beside the masked one in the same filter must be of its own table', () => {
    const email = { sources: [{ table: 'public.users', column: 'email' }], derived: false };
    const views: ViewLineages = new Map([
      ['public.user_orders', new Map([
        ['email', email],
        ['id', { sources: [{ table: 'public.users', column: 'id' }], derived: false }],
        ['total', { sources: [{ table: 'public.orders', column: 'total' }], derived: false }],
        ['n', { sources: [], derived: true }],
        ['c', { sources: [], derived: false }],
      ])],
    ]);
    const facts = analyzeSql('SELECT total FROM user_orders WHERE ascii(email) = total AND id = 1');
    const alongside = facts.predicateColumns.find((p) => p.column.column === 'email')?.alongside;
    assert.deepEqual(alongside, [{ table: 'public.user_orders', column: 'total' }]);
    for (const sql of [
      'SELECT total FROM user_orders WHERE ascii(email) = total',
      'SELECT total FROM user_orders ORDER BY abs(ascii(email) - total) LIMIT 1',
      'SELECT count(*) FROM user_orders GROUP BY ascii(email) < total',
      'SELECT n FROM user_orders WHERE ascii(email) = n',
      'SELECT total FROM user_orders v WHERE ascii(v.email) = (SELECT v.total)',
      'SELECT c FROM user_orders WHERE ascii(email) = c',
    ]) {
      assert.throws(() => checkPredicateChannels(analyzeSql(sql), views, masking), /used in a join condition/, sql);
    }
    // the same filter on the base table, the view's columns of users, and separate conditions still run
    checkPredicateChannels(analyzeSql('SELECT id FROM users WHERE ascii(email) = id'), views, masking);
    checkPredicateChannels(analyzeSql("SELECT total FROM user_orders WHERE email LIKE 'a%' OR id = 2"), views, masking);
    checkPredicateChannels(analyzeSql("SELECT total FROM user_orders WHERE email LIKE 'a%' AND total = 5 ORDER BY email, total"), views, masking);
    checkPredicateChannels(analyzeSql('SELECT total FROM user_orders WHERE email IN (SELECT d.word FROM dictionary d)'), views, masking);
  });

  test('through a view that self-joins the table, a column beside the email, or a second email column, is another row', () => {
    assert.deepEqual(analyzeSql('SELECT a.id FROM users a, users b').selfJoined, ['public.users']);
    assert.deepEqual(analyzeSql('SELECT x.id FROM (SELECT id FROM users) x WHERE x.id IN (SELECT id FROM users)').selfJoined, ['public.users']);
    assert.equal(analyzeSql('SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id').selfJoined, undefined);
    const col = (column: string) => ({ sources: [{ table: 'public.users', column }], derived: false });
    const views: ViewLineages = new Map([
      ['public.pairs', new Map([
        ['email', col('email')], ['aid', col('id')], ['other_email', col('email')], ['bid', col('id')],
        [VIEW_SELF_JOINS, { sources: [{ table: 'public.users', column: '*' }], derived: true }],
      ])],
    ]);
    assert.throws(() => checkPredicateChannels(analyzeSql('SELECT bid FROM pairs WHERE ascii(email) = bid'), views, masking), /a join condition/);
    assert.throws(() => checkPredicateChannels(analyzeSql("SELECT bid FROM pairs WHERE email = 'a' AND other_email = 'b'"), views, masking), /more than one relation/);
    checkPredicateChannels(analyzeSql("SELECT bid FROM pairs WHERE email = 'a' OR email = 'b' ORDER BY email"), views, masking);
  });
});

/**
 * Deny rules judged on what a statement reaches through views and inheritance, at the level of
 * the query_database tool against a real PostgreSQL (widened-denies.ts): the catalog is not
 * asked at all when no conditional deny applies (ExecContext.judge.denies() is null), and a
 * statement costs no round trip beyond itself once its relations are cached. End to end:
 * test/e2e/sql-view-denies.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError, type CallJudge, type ExecContext, type Facts } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import type { SqlFacts } from '../../../tools/postgres/analysis/types.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { PgConnector } from '../../../tools/postgres/connector.js';
import { queryDatabaseTool } from '../../../tools/postgres/query-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { checkouts } from '../../support/pg-checkouts.js';

const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 3000, max_rows: 100, max_bytes: 1 << 20, pool_size: 3 });

let db: TestDatabase;
let connector: PgConnector;
const tool = queryDatabaseTool(() => connector);

/** A judge whose one conditional deny (`deny-secrets`) forbids touching public.secrets. */
const DENY_SECRETS: CallJudge = {
  call: () => ({ allowed: true, reason: '', ruleIds: [] }),
  denies: () => (facts: Facts) => {
    const f = facts as SqlFacts;
    const hit = [...f.reads, ...f.writes].includes('public.secrets');
    return hit ? { allowed: false, reason: 'denied by rule deny-secrets', ruleIds: ['deny-secrets'] } : { allowed: true, reason: '', ruleIds: [] };
  },
};
const NO_DENIES: CallJudge = { call: DENY_SECRETS.call, denies: () => null };

async function run(sql: string, judge: CallJudge | undefined): Promise<unknown[][]> {
  const ctx = {
    principal: { subject: 'agent', groups: [], claims: {}, authMethod: 'stdio' },
    connection: conn('env:DB'),
    limits: { timeoutMs: 3000, maxRows: 100, maxBytes: 1 << 20 },
    masking: { columns: [], onDerived: 'deny', apply: (v: unknown) => v },
    signal: new AbortController().signal,
    readOnly: true,
    log: () => undefined,
    ...(judge ? { judge } : {}),
  } as unknown as ExecContext;
  const out = await tool.execute({ connection: 'db', sql }, analyzeSql(sql), ctx);
  assert.equal(out.kind, 'table');
  return (out as unknown as { rows: unknown[][] }).rows;
}


before(async () => {
  db = await createTestDatabase({ prefix: 'widendeny' });
  await db.query(`
    CREATE TABLE secrets (id int, secret text);
    INSERT INTO secrets VALUES (1, 'SECRET-VALUE');
    CREATE TABLE info (id int, body text);
    INSERT INTO info VALUES (1, 'plain');
    CREATE VIEW v1 AS SELECT id, secret FROM secrets;
    CREATE VIEW v2 AS SELECT id FROM v1;
    CREATE VIEW info_view AS SELECT id, body FROM info;
    CREATE VIEW info_view2 AS SELECT v.id, v.body FROM info_view v JOIN info i ON i.id = v.id;
    CREATE TABLE parents (id int PRIMARY KEY, body text);
    CREATE TABLE kids (id int, parent_id int REFERENCES parents (id) ON DELETE CASCADE);
    CREATE TABLE grandkids (id int, kid_id int);
    CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER parents_touch BEFORE UPDATE ON parents FOR EACH ROW EXECUTE FUNCTION touch();
    INSERT INTO parents VALUES (1, 'p');
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${db.role};
  `);
  connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

describe('checkWidenedDenies through query_database', () => {
  test('a view of a view over the denied table is refused, naming the rule and the way', async () => {
    await assert.rejects(run('SELECT id FROM v2', DENY_SECRETS), (e: unknown) => {
      assert.ok(e instanceof WardenError);
      assert.equal(e.code, 'WARDEN_DENIED');
      assert.deepEqual(e.details.ruleIds, ['deny-secrets']);
      assert.match(e.message, /^denied by rule deny-secrets \(through views, inheritance, cascades, foreign key checks and triggers: public\.v2 reads public\.v1, which reads public\.secrets\)$/);
      return true;
    });
  });

  test('no judge offers no conditional deny: the view is read, the catalog never asked', async () => {
    const sql = 'SELECT id FROM v2';
    await run(sql, NO_DENIES); // warms the field origin
    assert.equal(await checkouts(() => run(sql, NO_DENIES)), 1);
    assert.equal(await checkouts(() => run(sql, undefined)), 1);
  });

  test('under a conditional deny: one query per level of views cold, no round trip beyond the statement warm', async () => {
    const sql = 'SELECT body FROM info_view2';
    await run(sql, NO_DENIES); // warms the field origin, not the views
    connector.views.forget();
    // kinds of info_view2 (1), its definition (1), kinds of info_view and info (1), info_view's definition (1), the statement (1)
    assert.equal(await checkouts(() => run(sql, DENY_SECRETS)), 5);
    assert.equal(await checkouts(() => run(sql, DENY_SECRETS)), 1);
    assert.deepEqual(await run(sql, DENY_SECRETS), [['plain']]);
  });

  test('a plain SELECT of a table with triggers and cascading foreign keys asks nothing beyond its own kinds', async () => {
    const sql = 'SELECT body FROM parents';
    await run(sql, NO_DENIES); // warms the field origin
    connector.views.forget();
    // kinds of parents (with its triggers, rules and cascades, in the same query), the statement: kids is not looked up
    assert.equal(await checkouts(() => run(sql, DENY_SECRETS)), 2);
    assert.equal(await checkouts(() => run(sql, DENY_SECRETS)), 1);
  });

  test('a write looks up, one query per level, what its cascades reach; then nothing beyond the statement', async () => {
    const facts = analyzeSql('DELETE FROM parents WHERE id = 0');
    connector.views.forget();
    const reach = () => connector.views.reach(['public.parents'], { writes: true });
    // kinds of parents, kinds of kids (reached by the cascade)
    assert.equal(await checkouts(reach), 2);
    assert.equal(await checkouts(reach), 0);
    const r = await reach();
    assert.deepEqual(r.families.get('public.parents')?.cascades, ['public.kids']);
    assert.deepEqual(r.families.get('public.parents')?.triggers, [{ name: 'parents_touch', on: 'public.parents', fn: 'public.touch', events: 16 }]);
    assert.ok(r.families.has('public.kids'));
    assert.deepEqual(facts.writes, ['public.parents']);
  });
});


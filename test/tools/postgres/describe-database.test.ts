/**
 * describe_database's parts: the read it judges each relation by has the analyser's facts
 * (describe-masking.ts builds them without parsing), deny rules judged on what it reaches
 * (describe-reach.ts), and, against a real PostgreSQL, the catalog asked in batches: one
 * query for every relation's family and one per level of view nesting, whatever the number of
 * relations, and none but the column list once cached. End to end, with query_database as the
 * cross-check: test/e2e/sql-describe-truth.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecContext, MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { PgConnector } from '../../../tools/postgres/connector.js';
import { describeDatabaseTool } from '../../../tools/postgres/describe-database.js';
import { relationAccess, type DeniedTables } from '../../../tools/postgres/describe-reach.js';
import { describedReadFacts } from '../../../tools/postgres/describe-masking.js';
import type { DescribedTable } from '../../../tools/postgres/describe-tables.js';
import type { RelationFamily } from '../../../tools/postgres/inheritance.js';
import type { ViewReach } from '../../../tools/postgres/view-lineage.js';
import type { CatalogReach } from '../../../tools/postgres/widened-relations.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { checkouts } from '../../support/pg-checkouts.js';

describe('describedReadFacts', () => {
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  for (const [relation, columns, only] of [
    ['public.users', ['id', 'email'], false],
    ['public.ledger', ['id'], true],
    ['Sales.Orders', ['Total', 'a b', 'select'], false],
    ['other.v', [], true],
  ] as const) {
    test(`equals the analyser's facts of SELECT ..., * FROM ${only ? 'ONLY ' : ''}${relation}`, () => {
      const [schema, table] = relation.split('.') as [string, string];
      const sql = `SELECT ${[...columns.map(ident), '*'].join(', ')} FROM ${only ? 'ONLY ' : ''}${ident(schema)}.${ident(table)}`;
      const { sql: _a, ...analysed } = analyzeSql(sql);
      const { sql: _b, ...built } = describedReadFacts(relation, columns, only);
      assert.deepEqual(built, analysed);
    });
  }
});

describe('relationAccess', () => {
  const family = (ancestors: string[], descendants: string[], foreignDescendants: string[] = []): RelationFamily => ({
    ancestors,
    descendants,
    descendantsAncestors: [],
    foreignDescendants,
    columns: ['id'],
  });
  const denied: DeniedTables = {
    hidden: new Set(['public.vault', 'public.top']),
    writeDenied: new Set(['public.frozen', 'public.locked']),
    deniedFunctions: new Set(['public.leak']),
    conditional: true,
  };
  const catalog = (relation: string, f: RelationFamily | undefined, views: [string, ViewReach | string][] = [], foreign: string[] = []): CatalogReach => ({
    families: new Map(f ? [[relation, f]] : []),
    views: new Map(views),
    systemViews: new Set(),
    system: [],
    foreign: new Set(foreign),
  });
  const view = (reads: string[], functions: string[] = []): ViewReach => ({ reads, only: [], functions });

  test('no family known, nothing denied in it, or no conditional deny: access as granted, nothing said', () => {
    assert.deepEqual(relationAccess('public.t', catalog('public.t', undefined), { write: true }, denied), { hidden: false, write: true, requiresOnly: [] });
    assert.deepEqual(relationAccess('public.t', catalog('public.t', family(['public.p'], ['public.c'])), { write: false }, denied), { hidden: false, write: false, requiresOnly: [] });
    assert.deepEqual(relationAccess('public.c', null, { write: true }, denied), { hidden: false, write: true, requiresOnly: [] });
  });

  test('a denied ancestor hides the relation; an ancestor whose writes are denied takes write away', () => {
    assert.equal(relationAccess('public.c', catalog('public.c', family(['public.mid', 'public.top'], [])), { write: true }, denied).hidden, true);
    assert.deepEqual(relationAccess('public.c', catalog('public.c', family(['public.locked'], [])), { write: true }, denied), { hidden: false, write: false, requiresOnly: [] });
  });

  test('a denied descendant: read (and write, when granted) need ONLY, and the note names it', () => {
    const a = relationAccess('public.p', catalog('public.p', family([], ['public.ok', 'public.vault'])), { write: true }, denied);
    assert.deepEqual(a.requiresOnly, ['read', 'write']);
    assert.match(a.note ?? '', /^read and write it as ONLY public\.p: .*public\.vault/);
    assert.ok(!a.note?.includes('public.ok'));
    assert.deepEqual(relationAccess('public.p', catalog('public.p', family([], ['public.vault'])), { write: false }, denied).requiresOnly, ['read']);
  });

  test('a descendant whose writes are denied: write needs ONLY, read does not', () => {
    const a = relationAccess('public.p', catalog('public.p', family([], ['public.frozen'])), { write: true }, denied);
    assert.deepEqual(a.requiresOnly, ['write']);
    assert.match(a.note ?? '', /^write it as ONLY public\.p: .*public\.frozen/);
    assert.deepEqual(relationAccess('public.p', catalog('public.p', family([], ['public.frozen'])), { write: false }, denied).requiresOnly, []);
  });

  test('many denied descendants are counted, not all listed', () => {
    const kids = Array.from({ length: 8 }, (_, i) => `public.k${i}`);
    const a = relationAccess('public.p', catalog('public.p', family([], kids)), { write: false }, { ...denied, hidden: new Set(kids) });
    assert.match(a.note ?? '', /public\.k4 and 3 more/);
  });

  test('a view over a denied table, or calling a denied function, is refused, saying how it reaches it', () => {
    const over = relationAccess('public.v', catalog('public.v', undefined, [['public.v', view(['public.vault'])]]), { write: true }, denied);
    assert.deepEqual([over.hidden, over.write], [false, false]);
    assert.match(over.refused ?? '', /public\.v reads public\.vault/);
    const calls = relationAccess('public.v', catalog('public.v', undefined, [['public.v', view(['public.t'], ['public.leak'])]]), { write: false }, denied);
    assert.match(calls.refused ?? '', /public\.v calls public\.leak/);
  });

  test('a view over a table whose writes are denied keeps read, loses write', () => {
    assert.deepEqual(relationAccess('public.v', catalog('public.v', undefined, [['public.v', view(['public.frozen'])]]), { write: true }, denied), { hidden: false, write: false, requiresOnly: [] });
  });

  test('a table whose writes run a foreign key check reading a denied table loses write; one checking a readable table keeps it', () => {
    const checks = (reads: string) => ({ ...family([], []), keyChecks: [{ reads, key: 'notes_k_fkey', events: 4 | 16, columns: ['k'] }] });
    const denyRead = relationAccess('public.notes', catalog('public.notes', checks('public.vault')), { write: true }, denied);
    assert.deepEqual(denyRead, { hidden: false, write: false, requiresOnly: [] });
    const readable = relationAccess('public.notes', catalog('public.notes', checks('public.users')), { write: true }, denied);
    assert.deepEqual(readable, { hidden: false, write: true, requiresOnly: [] });
  });

  test('a view deny rules cannot follow is refused while a conditional deny applies', () => {
    const c = catalog('public.v', undefined, [['public.v', 'it calls public.f, whose body deny rules cannot see']]);
    assert.match(relationAccess('public.v', c, { write: false }, denied).refused ?? '', /^deny rules cannot be followed through view public\.v: it calls public\.f/);
    assert.deepEqual(relationAccess('public.v', c, { write: false }, { ...denied, conditional: false }), { hidden: false, write: false, requiresOnly: [] });
  });

  test('a foreign table is refused while a conditional deny applies; a parent of one needs ONLY', () => {
    const ft = catalog('public.ft', family([], []), [], ['public.ft']);
    assert.match(relationAccess('public.ft', ft, { write: true }, denied).refused ?? '', /^deny rules cannot be followed through foreign table public\.ft: its rows come from a foreign server/);
    assert.deepEqual(relationAccess('public.ft', ft, { write: true }, { ...denied, conditional: false }), { hidden: false, write: true, requiresOnly: [] });
    const parent = relationAccess('public.p', catalog('public.p', family([], ['public.local', 'public.ft'], ['public.ft'])), { write: true }, denied);
    assert.deepEqual([parent.refused, parent.write, parent.requiresOnly], [undefined, true, ['read', 'write']]);
    assert.match(parent.note ?? '', /^read and write it as ONLY public\.p: without ONLY it reaches the rows of foreign table public\.ft, which deny rules cannot follow/);
  });
});

describe('catalog lookups, against a real PostgreSQL', () => {
  const VIEWS = 30;
  const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 3000, max_rows: 100, max_bytes: 1 << 20, pool_size: 3 });
  let db: TestDatabase;
  let connector: PgConnector;
  const tool = describeDatabaseTool(() => connector);
  const masking: MaskingContext = { columns: [{ column: 'public.users.email', strategy: 'partial' }], onDerived: 'deny', apply: (v) => v };

  before(async () => {
    db = await createTestDatabase({ prefix: 'describecat' });
    const views = Array.from({ length: VIEWS }, (_, i) => `CREATE VIEW v${i} AS SELECT id, email AS e${i} FROM users; CREATE VIEW w${i} AS SELECT e${i} FROM v${i};`);
    await db.query(`CREATE TABLE users (id int, email text); CREATE TABLE parent (id int); CREATE TABLE child () INHERITS (parent); ${views.join(' ')}`);
    connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
  });

  after(async () => {
    await connector?.close();
    await db?.drop();
  });

  async function describeAll(): Promise<DescribedTable[]> {
    const ctx = {
      principal: { subject: 'agent', groups: [], claims: {}, authMethod: 'stdio' },
      connection: conn('env:DB'),
      masking,
      grants: [{ sql: { read: ['parent', ...Array.from({ length: VIEWS }, (_, i) => `w${i}`)] }, $denies: [{ sql: { read: ['public.child'] } }] }],
      signal: new AbortController().signal,
      readOnly: true,
      log: () => undefined,
    } as unknown as ExecContext;
    const out = await tool.execute({ connection: 'db' }, { family: 'sql-describe', summary: '' }, ctx);
    assert.equal(out.kind, 'json');
    return (out as unknown as { data: { tables: DescribedTable[] } }).data.tables;
  }


  test('cold: the column list, one family query, then per level of views one definition query and one for the relations they read', async () => {
    let tables: DescribedTable[] = [];
    // the pool's opening check that its role reads no transcript store (1, store-reach.ts), columns (1), families of the
    // described (1), definitions of w* (1), kinds of v* (1), definitions of v* (1), kind of users (1)
    assert.equal(await checkouts(async () => (tables = await describeAll())), 7);
    assert.equal(tables.length, VIEWS + 1);
    for (let i = 0; i < VIEWS; i++) assert.equal(tables.find((t) => t.table === `public.w${i}`)?.columns[0]?.masked, 'partial', `w${i}`);
    assert.deepEqual(tables.find((t) => t.table === 'public.parent')?.requires_only, ['read']);
  });

  test('warm: the column list only', async () => {
    assert.equal(await checkouts(() => describeAll()), 1);
  });
});

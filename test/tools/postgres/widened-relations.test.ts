/**
 * What deny rules judge a statement by (widened-relations.ts): the relations it names, widened
 * along inheritance and views, pure. Against a real server: test/e2e/sql-view-denies.test.ts and
 * test/e2e/sql-inheritance.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import type { RelationFamily } from '../../../tools/postgres/inheritance.js';
import type { ViewReach } from '../../../tools/postgres/view-lineage.js';
import type { Trigger } from '../../../tools/postgres/view-reader.js';
import { describePath, reachRefusal } from '../../../tools/postgres/reach-paths.js';
import { widenRelations, type CatalogReach, type NamedRelations } from '../../../tools/postgres/widened-relations.js';

const family = (f: Partial<RelationFamily>): RelationFamily => ({ ancestors: [], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: [], ...f });
const view = (reads: string[], only: string[] = [], functions: string[] = []): ViewReach => ({ reads, only, functions });

const CATALOG: CatalogReach = {
  families: new Map([
    ['public.ledger', family({ descendants: ['public.ledger_mid', 'public.ledger_vault'] })],
    ['public.ledger_mid', family({ ancestors: ['public.ledger'], descendants: ['public.ledger_vault'] })],
    ['public.vaults_open', family({ ancestors: ['public.vaults'] })],
    // c INHERITS (p1, p2), p2 INHERITS (top)
    ['public.p1', family({ descendants: ['public.c'], descendantsAncestors: [{ relation: 'public.p2', via: 'public.c' }, { relation: 'public.top', via: 'public.c' }] })],
    // events: one partition local, one foreign
    ['public.events', family({ descendants: ['public.events_local', 'public.events_remote'], foreignDescendants: ['public.events_remote'] })],
    ['public.events_remote', family({ ancestors: ['public.events'] })],
  ]),
  views: new Map<string, ViewReach | string>([
    ['public.v1', view(['public.secrets'])],
    ['public.v2', view(['public.v1', 'public.info'], [], ['lower'])],
    ['public.ledger_view', view(['public.ledger'])],
    ['public.ledger_only', view(['public.ledger'], ['public.ledger'])],
    ['public.child_view', view(['public.vaults_open'])],
    ['public.loop_a', view(['public.loop_b'])],
    ['public.loop_b', view(['public.loop_a'])],
    ['public.fn_view', 'it calls public.f, whose body deny rules cannot see'],
    ['public.over_fn', view(['public.fn_view'])],
    ['public.sys_over', view(['pg_catalog.pg_roles'])],
    ['public.remote_view', view(['public.secrets_remote'])],
    ['public.events_view', view(['public.events'])],
  ]),
  systemViews: new Set(['pg_catalog.pg_roles']),
  system: ['pg_catalog.pg_authid', 'pg_catalog.pg_roles'],
  foreign: new Set(['public.secrets_remote', 'public.events_remote']),
};

const named = (f: Partial<NamedRelations>): NamedRelations => ({ statements: ['select'], reads: [], writes: [], onlyRelations: [], functions: [], ...f });

describe('widenRelations', () => {
  test('inheritance: descendants of what is named without ONLY, ancestors of everything', () => {
    assert.deepEqual(widenRelations(named({ reads: ['public.ledger'] }), CATALOG).reads, ['public.ledger', 'public.ledger_mid', 'public.ledger_vault']);
    assert.deepEqual(widenRelations(named({ reads: ['public.ledger'], onlyRelations: ['public.ledger'] }), CATALOG).reads, ['public.ledger']);
    assert.deepEqual(widenRelations(named({ reads: ['public.ledger_mid'], onlyRelations: ['public.ledger_mid'] }), CATALOG).reads, ['public.ledger', 'public.ledger_mid']);
    const w = widenRelations(named({ reads: ['public.other', 'public.unknown'] }), CATALOG);
    assert.deepEqual([w.reads, w.paths.size], [['public.other', 'public.unknown'], 0]);
  });

  test('a view reads what its definition reads, through views of views, and calls what it calls', () => {
    const w = widenRelations(named({ reads: ['public.v2'] }), CATALOG);
    assert.deepEqual(w.reads, ['public.info', 'public.secrets', 'public.v1', 'public.v2']);
    assert.deepEqual(w.functions, ['lower']);
    assert.equal(describePath(w.paths.get('public.secrets')!), 'public.v2 reads public.v1, which reads public.secrets');
  });

  test('inheritance inside a view: without ONLY its descendants, with ONLY its own rows, ancestors always', () => {
    assert.deepEqual(widenRelations(named({ reads: ['public.ledger_view'] }), CATALOG).reads, ['public.ledger', 'public.ledger_mid', 'public.ledger_vault', 'public.ledger_view']);
    assert.deepEqual(widenRelations(named({ reads: ['public.ledger_only'] }), CATALOG).reads, ['public.ledger', 'public.ledger_only']);
    const w = widenRelations(named({ reads: ['public.child_view'] }), CATALOG);
    assert.ok(w.reads.includes('public.vaults'));
    assert.equal(describePath(w.paths.get('public.vaults')!), 'public.child_view reads public.vaults_open, which holds rows of public.vaults');
  });

  test("ONLY on the view itself does not change its definition's reach", () => {
    const w = widenRelations(named({ reads: ['public.ledger_view'], onlyRelations: ['public.ledger_view'] }), CATALOG);
    assert.ok(w.reads.includes('public.ledger_vault'));
  });

  test('a write through a view writes what it reads; DDL on a view does not reach its rows', () => {
    const w = widenRelations(named({ statements: ['update'], writes: ['public.v1'] }), CATALOG);
    assert.deepEqual([w.reads, w.writes], [[], ['public.secrets', 'public.v1']]);
    const ddl = widenRelations(named({ statements: ['drop'], writes: ['public.v1'] }), CATALOG);
    assert.deepEqual([ddl.writes, ddl.paths.size], [['public.v1'], 0]);
    const parent = widenRelations(named({ statements: ['alter'], writes: ['public.ledger'] }), CATALOG);
    assert.ok(parent.writes.includes('public.ledger_vault'), 'DDL on a parent recurses');
  });

  test('a relation the statement reads, reached as written through a view, is an addition', () => {
    const w = widenRelations(named({ statements: ['update'], reads: ['public.secrets'], writes: ['public.v1'] }), CATALOG);
    assert.deepEqual(w.writes, ['public.secrets', 'public.v1']);
    assert.equal(describePath(w.paths.get('public.secrets')!), 'public.v1 reads public.secrets');
  });

  test('a view that cannot be followed is reported with how it is reached, also nested', () => {
    const w = widenRelations(named({ reads: ['public.over_fn'] }), CATALOG);
    assert.deepEqual([...w.unknown.keys()], ['public.fn_view']);
    assert.equal(describePath(w.unknown.get('public.fn_view')!.path), 'public.over_fn reads public.fn_view');
  });

  test('a system view reaches every system relation', () => {
    const w = widenRelations(named({ reads: ['public.sys_over'] }), CATALOG);
    assert.ok(w.reads.includes('pg_catalog.pg_authid'));
    assert.match(describePath(w.paths.get('pg_catalog.pg_authid')!), /^public\.sys_over reads pg_catalog\.pg_roles, which is a system view/);
  });

  test("multiple inheritance: a descendant's rows are its other ancestors' rows, read or written without ONLY", () => {
    const w = widenRelations(named({ reads: ['public.p1'] }), CATALOG);
    assert.deepEqual(w.reads, ['public.c', 'public.p1', 'public.p2', 'public.top']);
    assert.equal(describePath(w.paths.get('public.p2')!), 'public.p1 returns, named without ONLY, the rows of public.c, which holds rows of public.p2');
    assert.deepEqual(widenRelations(named({ statements: ['delete'], writes: ['public.p1'] }), CATALOG).writes, ['public.c', 'public.p1', 'public.p2', 'public.top']);
    assert.deepEqual(widenRelations(named({ reads: ['public.p1'], onlyRelations: ['public.p1'] }), CATALOG).reads, ['public.p1']);
  });

  test('a foreign table cannot be followed: named (ONLY or not), through a view, or as a descendant without ONLY', () => {
    const kinds = (w: ReturnType<typeof widenRelations>) => [...w.unknown].map(([r, u]) => [r, u.kind, describePath(u.path)]);
    for (const only of [[], ['public.secrets_remote']]) {
      assert.deepEqual(kinds(widenRelations(named({ reads: ['public.secrets_remote'], onlyRelations: only }), CATALOG)), [['public.secrets_remote', 'foreign table', 'public.secrets_remote']]);
    }
    assert.deepEqual(kinds(widenRelations(named({ reads: ['public.remote_view'] }), CATALOG)), [['public.secrets_remote', 'foreign table', 'public.remote_view reads public.secrets_remote']]);
    assert.deepEqual(kinds(widenRelations(named({ reads: ['public.events'] }), CATALOG)), [
      ['public.events_remote', 'foreign table', 'public.events returns, named without ONLY, the rows of public.events_remote'],
    ]);
    assert.deepEqual(kinds(widenRelations(named({ statements: ['delete'], writes: ['public.events'] }), CATALOG)).map((k) => k[0]), ['public.events_remote']);
    assert.deepEqual(kinds(widenRelations(named({ reads: ['public.events_view'] }), CATALOG)).map((k) => k[0]), ['public.events_remote']);
    assert.equal(widenRelations(named({ reads: ['public.events'], onlyRelations: ['public.events'] }), CATALOG).unknown.size, 0);
    assert.equal(widenRelations(named({ reads: ['public.ledger'] }), CATALOG).unknown.size, 0);
  });

  test('the refusals name what cannot be followed and why', () => {
    const foreign = widenRelations(named({ reads: ['public.remote_view'] }), CATALOG).unknown.get('public.secrets_remote')!;
    const e = reachRefusal('public.secrets_remote', foreign);
    assert.equal(e.code, 'WARDEN_DENIED');
    assert.match(e.message, /^deny rules cannot be followed through foreign table public\.secrets_remote \(public\.remote_view reads public\.secrets_remote\): its rows come from a foreign server/);
    const v = widenRelations(named({ reads: ['public.over_fn'] }), CATALOG).unknown.get('public.fn_view')!;
    assert.match(reachRefusal('public.fn_view', v).message, /^deny rules cannot be followed through view public\.fn_view/);
  });

  test('views that read each other end', () => {
    assert.deepEqual(widenRelations(named({ reads: ['public.loop_a'] }), CATALOG).reads, ['public.loop_a', 'public.loop_b']);
  });
});

describe('INSERT ... ON CONFLICT changes rows as an insert and an update do', () => {
  const reach: CatalogReach = {
    families: new Map([['public.users', { ...family({}), cascades: ['public.orders'], sideEffects: ['rule users_upd on public.users'] }]]),
    views: new Map(), systemViews: new Set(), system: [], foreign: new Set(),
  };
  test('a cascading foreign key (ON UPDATE CASCADE) is a write of the referencing table; a rule cannot be followed', () => {
    for (const sql of [
      'INSERT INTO users (id, name) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET id = excluded.id + 1',
      'INSERT INTO users (id) VALUES (1) ON CONFLICT DO NOTHING',
    ]) {
      const w = widenRelations(analyzeSql(sql), reach);
      assert.ok(w.writes.includes('public.orders'), sql);
      assert.equal(w.unknown.get('public.users')?.kind, 'write side effect', sql);
    }
  });
});

describe('what a change of rows runs (write-runs.ts)', () => {
  const runs = (triggers: readonly Trigger[], cascades: string[] = [], actions: string[] = []): CatalogReach => ({
    ...CATALOG,
    families: new Map([
      ['public.t', { ...family({}), triggers, cascades, cascadeActions: actions }],
      ['public.kid', { ...family({}), triggers: [{ name: 'kid_del', on: 'public.kid', fn: 'public.audit', events: 8 }, { name: "table public.kid's CHECK k", on: 'public.kid', fn: 'public.spy', events: 20, expression: true }] }],
    ]),
  });
  const fired = (sql: string, catalog: CatalogReach): string[] => {
    const facts = analyzeSql(sql);
    return [...widenRelations(facts, catalog).triggered.values()].map((t) => t.what).sort();
  };
  const expr = (name: string, events: number, column?: string) => ({ name, on: 'public.t', fn: 'public.spy', events, expression: true as const, ...(column ? { column } : {}) });
  const T = runs([
    expr("column public.t.c's DEFAULT", 20, 'c'),
    expr("table public.t's CHECK k", 20),
    { name: 'ins', on: 'public.t', fn: 'public.audit', events: 4 },
    { name: 'trunc', on: 'public.t', fn: 'public.audit', events: 32 },
  ]);

  test('a DELETE evaluates no expression and fires only its own triggers; an INSERT evaluates every expression', () => {
    assert.deepEqual(fired('DELETE FROM public.t', T), []);
    assert.deepEqual(fired("INSERT INTO public.t (id) VALUES (1)", T), ["column public.t.c's DEFAULT", "table public.t's CHECK k", 'trigger ins on public.t']);
  });

  test('an UPDATE evaluates a column-bound expression only when it sets the column; it fires INSERT and DELETE triggers too (row movement)', () => {
    assert.deepEqual(fired('UPDATE public.t SET id = 2', T), ["table public.t's CHECK k", 'trigger ins on public.t']);
    assert.deepEqual(fired('UPDATE public.t SET c = DEFAULT', T), ["column public.t.c's DEFAULT", "table public.t's CHECK k", 'trigger ins on public.t']);
  });

  test('a cascade changes the referencing table as its actions say; an action of an event that did not happen does nothing', () => {
    const C = (actions: string) => runs([], ['public.kid'], [actions]);
    assert.deepEqual(fired('DELETE FROM public.t', C('ON DELETE CASCADE')), ['trigger kid_del on public.kid']);
    // SET NULL updates: its DELETE trigger counts too (an update may move the row across partitions).
    assert.deepEqual(fired('DELETE FROM public.t', C('ON DELETE SET NULL')), ["table public.kid's CHECK k", 'trigger kid_del on public.kid']);
    assert.deepEqual(fired('DELETE FROM public.t', C('ON UPDATE CASCADE')), []);
    assert.deepEqual(fired('UPDATE public.t SET id = 2', C('ON UPDATE CASCADE')), ["table public.kid's CHECK k", 'trigger kid_del on public.kid']);
    // Words not understood: every event.
    assert.deepEqual(fired('DELETE FROM public.t', C('ON DELETE SOMETHING')), ["table public.kid's CHECK k", 'trigger kid_del on public.kid']);
  });

  test('an entry without events runs on every change (fail closed); one untrusted overload makes the entry untrusted', () => {
    assert.deepEqual(fired('DELETE FROM public.t', runs([{ name: 'old', on: 'public.t', fn: 'public.audit' }])), ['trigger old on public.t']);
    const both = runs([
      { ...expr("table public.t's CHECK k", 20), trusted: true },
      expr("table public.t's CHECK k", 20),
    ]);
    const t = [...widenRelations(analyzeSql("INSERT INTO public.t VALUES (1)"), both).triggered.values()];
    assert.deepEqual(t.map((x) => [x.what, x.trusted ?? false]), [["table public.t's CHECK k", false]]);
  });
});

describe('widenRelations: foreign key checks (key-checks.ts)', () => {
  const own = { reads: 'public.secrets', key: 'notes_k_fkey', events: 4 | 16, columns: ['k'] };
  const back = { reads: 'public.owed', key: 'owed_user_fkey', events: 8, columns: ['id'] };
  const at = (relation: string, f: Partial<RelationFamily>): CatalogReach => ({ ...CATALOG, families: new Map([[relation, { ...family(f), keyChecks: [own, back] }]]) });
  const reads = (statement: string, columns: string[], f: Partial<RelationFamily> = {}) =>
    widenRelations(named({ statements: [statement], writes: ['public.notes'], writtenColumns: columns.map((column) => ({ table: 'public.notes', column })) }), at('public.notes', f)).reads;

  test('an INSERT runs its own keys; a DELETE the NO ACTION keys referencing it', () => {
    assert.deepEqual(reads('insert', ['id']), ['public.secrets']);
    assert.deepEqual(reads('delete', ['*']), ['public.owed']);
  });

  test('an UPDATE runs the keys whose columns it sets, all of them when a row may move to another partition', () => {
    assert.deepEqual(reads('update', ['body']), []);
    assert.deepEqual(reads('update', ['k']), ['public.secrets']);
    assert.deepEqual(reads('update', ['body'], { descendants: ['public.notes_1'] }), ['public.owed', 'public.secrets']);
  });

  test('a read runs none, and an EXPLAIN of a write none', () => {
    const w = widenRelations(named({ reads: ['public.notes'] }), at('public.notes', {}));
    assert.deepEqual(w.reads, ['public.notes']);
    const explained = widenRelations(named({ statements: ['explain', 'insert'], writes: ['public.notes'] }), at('public.notes', {}));
    assert.deepEqual(explained.reads, []);
  });

  test('DDL checking existing rows\' keys (VALIDATE CONSTRAINT, ALTER COLUMN TYPE) runs every key, cascading ones too; other DDL none', () => {
    const base = at('public.notes', {});
    const catalog: CatalogReach = { ...base, families: new Map([['public.notes', { ...base.families.get('public.notes')!, cascades: ['public.copies'], cascadeActions: ['ON UPDATE CASCADE'] }]]) };
    const ddl = (sql: string) => widenRelations(analyzeSql(sql), catalog);
    for (const sql of ['ALTER TABLE public.notes VALIDATE CONSTRAINT notes_k_fkey', 'ALTER TABLE public.notes ALTER COLUMN id TYPE bigint']) {
      const w = ddl(sql);
      assert.deepEqual(w.reads, ['public.copies', 'public.owed', 'public.secrets'], sql);
      assert.equal(describePath(w.paths.get('public.secrets')!), 'public.notes checks foreign key notes_k_fkey: its foreign key check reads public.secrets');
    }
    assert.deepEqual(ddl('ALTER TABLE public.notes ADD COLUMN extra int').reads, []);
  });
});

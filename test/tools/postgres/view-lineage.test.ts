/**
 * View lineage without a database: definitions as pg_get_viewdef prints them (every join in
 * parentheses, tables schema-qualified) analysed into per-column lineage, views of views
 * resolved to base columns, and the output of a statement over views checked and planned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError, type MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { checkDerivedFlows, planColumnMasks } from '../../../tools/postgres/column-masking.js';
import { analyseView, resolveOutput, resolveViews, viewsToFollow, type ViewLineages } from '../../../tools/postgres/view-lineage.js';

const masking = (onDerived: 'deny' | 'mask'): MaskingContext => ({
  columns: [
    { column: 'public.users.email', strategy: 'partial' },
    { column: 'public.users.ssn', strategy: 'redact' },
  ],
  onDerived,
  apply: (v) => v,
});

const VIEWS = resolveViews(
  new Map([
    ['public.user_view', analyseView({ name: 'public.user_view', definition: ' SELECT users.id,\n    users.email\n   FROM public.users;', columns: ['id', 'email'] })],
    ['public.v2', analyseView({ name: 'public.v2', definition: ' SELECT user_view.id,\n    user_view.email AS contact\n   FROM public.user_view;', columns: ['id', 'contact'] })],
    ['public.lower_view', analyseView({ name: 'public.lower_view', definition: ' SELECT users.id AS a,\n    lower(users.email) AS b\n   FROM public.users\n  WHERE (users.ssn IS NOT NULL);', columns: ['a', 'b'] })],
    [
      'public.joined',
      analyseView({
        name: 'public.joined',
        definition: ' SELECT v.id,\n    v.email,\n    u.ssn,\n    o.total\n   FROM ((public.user_view v\n     JOIN public.users u ON ((u.id = v.id)))\n     LEFT JOIN public.orders o ON ((o.user_id = u.id)));',
        columns: ['id', 'email', 'ssn', 'total'],
      }),
    ],
  ]),
);

const resolved = (sql: string, views: ViewLineages = VIEWS) => ({ output: resolveOutput(analyzeSql(sql).output, views, masking('deny').columns) });

test('a view column carries its base columns, through views of views and parenthesised joins', () => {
  assert.deepEqual(VIEWS.get('public.v2')!.get('contact'), {
    sources: [{ table: 'public.user_view', column: 'email' }, { table: 'public.users', column: 'email' }],
    derived: false,
  });
  assert.deepEqual(VIEWS.get('public.lower_view')!.get('b')!.derived, true);
  const joined = VIEWS.get('public.joined')!;
  assert.deepEqual(joined.get('ssn'), { sources: [{ table: 'public.users', column: 'ssn' }], derived: false });
  assert.deepEqual(joined.get('email')!.sources.map((s) => `${s.table}.${s.column}`), ['public.user_view.email', 'public.users.email']);
  assert.deepEqual(joined.get('total'), { sources: [{ table: 'public.orders', column: 'total' }], derived: false });
});

test('planColumnMasks masks a view field by what its column carries', () => {
  const sql = 'SELECT id, contact FROM v2';
  const through = [VIEWS.get('public.v2')!.get('id'), VIEWS.get('public.v2')!.get('contact')];
  assert.deepEqual(planColumnMasks(resolved(sql), ['public.v2.id', 'public.v2.contact'], masking('deny'), through), [null, 'partial']);
  // Without the view's lineage the same fields pass unmasked: the hole this closes.
  assert.deepEqual(planColumnMasks(analyzeSql(sql), ['public.v2.id', 'public.v2.contact'], masking('deny')), [null, null]);
  const star = 'SELECT * FROM joined';
  const cols = ['id', 'email', 'ssn', 'total'];
  const fields = planColumnMasks(resolved(star), cols.map((c) => `public.joined.${c}`), masking('deny'), cols.map((c) => VIEWS.get('public.joined')!.get(c)));
  assert.deepEqual(fields, [null, 'partial', 'redact', null]);
});

test('on_derived sees what a view computes; a star over a plain view still runs', () => {
  for (const sql of ['SELECT b FROM lower_view', 'SELECT * FROM lower_view', 'SELECT upper(contact) AS c FROM v2', 'SELECT v FROM v2 v', 'SELECT x.* FROM lower_view x']) {
    assert.throws(() => checkDerivedFlows(resolved(sql), masking('deny')), /masked column public\.users\.email flows through an expression/, sql);
    assert.doesNotThrow(() => checkDerivedFlows(analyzeSql(sql), masking('deny')), `${sql} passes without the view lineage`);
  }
  for (const sql of ['SELECT * FROM v2', 'SELECT * FROM joined', 'SELECT a FROM lower_view', 'SELECT id, contact FROM v2']) checkDerivedFlows(resolved(sql), masking('deny'));
});

test('a definition the analyser does not fully understand is refused with a coded error', () => {
  const bad = [
    { name: 'public.row_view', definition: ' SELECT u.*::public.users AS whole\n   FROM public.users u;', columns: ['whole'] },
    { name: 'public.shifted', definition: ' SELECT users.id\n   FROM public.users;', columns: ['id', 'email'] },
    { name: 'public.renamed', definition: ' SELECT users.email\n   FROM public.users;', columns: ['contact'] },
    { name: 'public.dotted', definition: ' SELECT "a.b".x\n   FROM public."a.b";', columns: ['x'] },
  ];
  for (const view of bad) {
    assert.throws(() => analyseView(view), (e: unknown) => e instanceof WardenError && e.code === 'WARDEN_DENIED' && e.message.includes(`through view ${view.name}`), view.name);
  }
});

test('a view that reaches itself is refused', () => {
  const loop = new Map([
    ['public.a', new Map([['x', { sources: [{ table: 'public.b', column: 'x' }], derived: false }]])],
    ['public.b', new Map([['x', { sources: [{ table: 'public.a', column: 'x' }], derived: false }]])],
  ]);
  assert.throws(() => resolveViews(loop), /reaches itself \(public\.a -> public\.b -> public\.a\)/);
});

test('system views are followed only when a mask names a system column', () => {
  assert.equal(viewsToFollow(masking('deny').columns)('pg_catalog.pg_stats'), false);
  assert.equal(viewsToFollow(masking('deny').columns)('information_schema.columns'), false);
  assert.equal(viewsToFollow(masking('deny').columns)('public.pg_view'), true);
  assert.equal(viewsToFollow([{ column: 'pg_catalog.pg_authid.rolpassword', strategy: 'redact' }])('pg_catalog.pg_shadow'), true);
});

test('a parenthesised join (as pg_get_viewdef prints joins) reads every table in it; an aliased one is refused', () => {
  const f = analyzeSql('SELECT s.value FROM orders o JOIN (users u JOIN secrets s ON u.id = s.id) ON o.user_id = u.id');
  assert.deepEqual(f.reads, ['public.orders', 'public.secrets', 'public.users']);
  assert.deepEqual(f.output[0]!.sources, [{ table: 'public.secrets', column: 'value' }]);
  assert.deepEqual(analyzeSql('SELECT 1 FROM (users u JOIN secrets s ON pg_sleep(1) IS NULL)').functions, ['pg_sleep']);
  assert.throws(() => analyzeSql('SELECT 1 FROM (users u JOIN secrets s ON true) j'), /parenthesised join/);
});

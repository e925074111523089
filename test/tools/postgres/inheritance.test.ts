/**
 * The pure parts of masks and denies following inheritance: which relations a statement names
 * only with ONLY (analysis/only.ts) and the masks widened along a family (inheritance.ts); what
 * deny rules reach: widened-relations.test.ts. Against a real server: test/e2e/sql-inheritance.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { inheritedMasks, type RelationFamily } from '../../../tools/postgres/inheritance.js';

const only = (sql: string) => analyzeSql(sql).onlyRelations;

describe('onlyRelations', () => {
  test('a relation every reference of which follows ONLY', () => {
    assert.deepEqual(only('SELECT * FROM ONLY payments'), ['public.payments']);
    assert.deepEqual(only('SELECT * FROM ONLY public.payments p'), ['public.payments']);
    assert.deepEqual(only('SELECT * FROM ONLY "Payments"'), ['public.Payments']);
    assert.deepEqual(only('UPDATE ONLY ledger SET x = 1'), ['public.ledger']);
    assert.deepEqual(only('DELETE FROM ONLY ledger WHERE id = 1'), ['public.ledger']);
    assert.deepEqual(only('SELECT * FROM ONLY a.t, ONLY b.t'), ['a.t', 'b.t']);
  });

  test('a name that qualifies a column, a star or a relation is no reference of its own', () => {
    // As pg_get_viewdef prints a view over ONLY a table: every column qualified by the table's name.
    assert.deepEqual(only('SELECT payments.id, payments.card FROM ONLY public.payments'), ['public.payments']);
    assert.deepEqual(only('SELECT payments.* FROM ONLY payments'), ['public.payments']);
    assert.deepEqual(only('SELECT p.id FROM ONLY payments p JOIN payments.t x ON true'), ['public.payments']);
  });

  test('any other spelling of the name leaves the relation out (fail closed)', () => {
    assert.deepEqual(only('SELECT * FROM payments'), []);
    assert.deepEqual(only('SELECT * FROM ONLY payments p JOIN payments q ON p.id = q.id'), []);
    assert.deepEqual(only('UPDATE ONLY ledger SET x = 1 FROM ledger l2 WHERE l2.id = ledger.id'), []);
    assert.deepEqual(only('SELECT * FROM ONLY a.t, b.t'), []);
    assert.deepEqual(only('SELECT * FROM ONLY payments WHERE id IN (SELECT id FROM payments)'), []);
    assert.deepEqual(only('SELECT payments.id FROM ONLY payments, other.payments'), []);
    assert.deepEqual(only('SELECT payments.id FROM ONLY public.payments, public.t payments'), []);
  });

  test('a quoted "only" is a name, not the keyword', () => {
    assert.deepEqual(only('SELECT * FROM "only"'), []);
  });

  test('ONLY (table) is refused: the parser would read a call', () => {
    assert.throws(() => analyzeSql('SELECT * FROM ONLY (payments)'), /ONLY \(table\) is refused/);
  });
});

const family = (f: Partial<RelationFamily>): RelationFamily => ({ ancestors: [], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: [], ...f });

describe('inheritedMasks', () => {
  const masks = [
    { column: 'public.payments.card', strategy: 'partial' },
    { column: 'public.payments_2024.note', strategy: 'redact' },
  ];

  test("a parent's mask holds on the child's column of the same name, ONLY or not", () => {
    const families = new Map([['public.payments_2024', family({ ancestors: ['public.payments'], columns: ['id', 'card', 'note'] })]]);
    for (const inheriting of [true, false]) {
      const out = inheritedMasks(masks, families, () => inheriting);
      assert.ok(out.some((m) => m.column === 'public.payments_2024.card' && m.strategy === 'partial'), JSON.stringify(out));
    }
  });

  test("a descendant's mask holds on the parent only when the parent is named without ONLY", () => {
    const families = new Map([['public.payments', family({ descendants: ['public.payments_2024'], columns: ['id', 'card', 'note'] })]]);
    assert.ok(inheritedMasks(masks, families, () => true).some((m) => m.column === 'public.payments.note'));
    assert.equal(inheritedMasks(masks, families, () => false), masks);
  });

  test('a column the relation does not have is not masked there', () => {
    const families = new Map([['public.payments', family({ descendants: ['public.payments_2024'], columns: ['id', 'card'] })]]);
    assert.equal(inheritedMasks(masks, families, () => true), masks);
  });

  test('nothing inherited: the same list, no copy', () => {
    const families = new Map([['public.other', family({ columns: ['card'] })]]);
    assert.equal(inheritedMasks(masks, families, () => true), masks);
  });

  test("multiple inheritance: a descendant's other ancestors' masks hold on the parent named without ONLY", () => {
    // c INHERITS (p1, p2); p2 INHERITS (top). Reading p1 returns c's rows: p2's and top's rows too.
    const multi = [
      { column: 'public.p2.card', strategy: 'partial' },
      { column: 'public.top.memo', strategy: 'redact' },
    ];
    const p1 = family({
      descendants: ['public.c'],
      descendantsAncestors: [
        { relation: 'public.p2', via: 'public.c' },
        { relation: 'public.top', via: 'public.c' },
      ],
      columns: ['id', 'card', 'memo'],
    });
    const families = new Map([['public.p1', p1]]);
    assert.deepEqual(
      inheritedMasks(multi, families, () => true).filter((m) => m.column.startsWith('public.p1.')),
      [
        { column: 'public.p1.card', strategy: 'partial' },
        { column: 'public.p1.memo', strategy: 'redact' },
      ],
    );
    assert.equal(inheritedMasks(multi, families, () => false), multi, 'ONLY p1: its own rows');
  });

  test('a column masked twice with different strategies is redacted whole', () => {
    const twice = [...masks, { column: 'public.payments_2024.card', strategy: 'hash' }];
    const families = new Map([['public.payments_2024', family({ ancestors: ['public.payments'], columns: ['card'] })]]);
    const out = inheritedMasks(twice, families, () => true).filter((m) => m.column === 'public.payments_2024.card');
    assert.deepEqual(out, [{ column: 'public.payments_2024.card', strategy: 'redact' }]);
  });
});

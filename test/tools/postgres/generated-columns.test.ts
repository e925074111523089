/**
 * The pure part of masks following generated columns (generated-columns.ts): which generated
 * columns a mask list widens to, with which strategy, across an inheritance family. Against a
 * real server: test/e2e/sql-generated-masking.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generatedMasks, generatedReads } from '../../../tools/postgres/generated-columns.js';
import type { RelationFamily } from '../../../tools/postgres/inheritance.js';

const family = (f: Partial<RelationFamily>): RelationFamily => ({ ancestors: [], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: [], ...f });
const byColumn = (masks: readonly { column: string; strategy: string }[]) => Object.fromEntries(masks.map((m) => [m.column, m.strategy]));

describe('generatedMasks', () => {
  const users = family({
    columns: ['id', 'email', 'card', 'low', 'both', 'rev', 'twice', 'all'],
    generated: [
      { relation: 'public.users', column: 'low', reads: ['email'] },
      { relation: 'public.users', column: 'both', reads: ['email', 'card'] },
      { relation: 'public.users', column: 'rev', reads: ['card'] },
      { relation: 'public.users', column: 'twice', reads: ['id'] },
      { relation: 'public.users', column: 'all', reads: ['*'] },
    ],
  });
  const masks = [
    { column: 'public.users.email', strategy: 'hash' },
    { column: 'public.users.card', strategy: 'partial' },
  ];

  test('a generated column over a masked column takes its whole-value strategy; partial and mixed become redact', () => {
    const out = generatedMasks(masks, new Map([['public.users', users]]), () => true);
    assert.deepEqual(byColumn(out), {
      'public.users.email': 'hash',
      'public.users.card': 'partial',
      'public.users.low': 'hash',
      'public.users.both': 'redact',
      'public.users.rev': 'redact',
      'public.users.all': 'redact',
    });
  });

  test('the list itself when nothing is added (no generated column, or none over a masked column)', () => {
    const plain = family({ columns: ['id', 'twice'], generated: [{ relation: 'public.t', column: 'twice', reads: ['id'] }] });
    assert.equal(generatedMasks(masks, new Map([['public.t', plain]]), () => true), masks);
    assert.equal(generatedMasks(masks, new Map([['public.users', family({ columns: ['email'] })]]), () => true), masks);
  });

  test('a column masked by the policy with another strategy too is redacted whole', () => {
    const out = generatedMasks([...masks, { column: 'public.users.low', strategy: 'null' }], new Map([['public.users', users]]), () => true);
    assert.equal(byColumn(out)['public.users.low'], 'redact');
  });

  test('chains: a generated column over a masked generated column is masked too', () => {
    const t = family({
      columns: ['email', 'a', 'b'],
      generated: [
        { relation: 'public.t', column: 'b', reads: ['a'] },
        { relation: 'public.t', column: 'a', reads: ['email'] },
      ],
    });
    const out = generatedMasks([{ column: 'public.t.email', strategy: 'redact' }], new Map([['public.t', t]]), () => true);
    assert.deepEqual(byColumn(out), { 'public.t.email': 'redact', 'public.t.a': 'redact', 'public.t.b': 'redact' });
  });

  test("a descendant's generated column over its masked column masks the parent's column of that name, unless ONLY", () => {
    const parent = family({
      descendants: ['public.child'],
      columns: ['id', 'x'],
      generated: [{ relation: 'public.child', column: 'x', reads: ['email'] }],
    });
    const childMask = [{ column: 'public.child.email', strategy: 'redact' }];
    assert.deepEqual(byColumn(generatedMasks(childMask, new Map([['public.parent', parent]]), () => true)), {
      'public.child.email': 'redact',
      'public.parent.x': 'redact',
    });
    assert.equal(generatedMasks(childMask, new Map([['public.parent', parent]]), () => false), childMask);
  });

  test("a child's own generated column over a column its parent masks", () => {
    const child = family({
      ancestors: ['public.parent'],
      columns: ['id', 'email', 'low'],
      generated: [{ relation: 'public.child', column: 'low', reads: ['email'] }],
    });
    const out = generatedMasks([{ column: 'public.parent.email', strategy: 'redact' }], new Map([['public.child', child]]), () => false);
    assert.equal(byColumn(out)['public.child.low'], 'redact');
  });
});

describe('generatedReads', () => {
  test('groups the catalog rows by generated column', () => {
    const reads = generatedReads({ name: 'public.t', gen_relations: ['public.t', 'public.t', 'public.c'], gen_columns: ['a', 'a', 'a'], gen_reads: ['x', 'y', '*'] });
    assert.deepEqual(reads, [
      { relation: 'public.t', column: 'a', reads: ['x', 'y'] },
      { relation: 'public.c', column: 'a', reads: ['*'] },
    ]);
  });

  test('refuses rows that do not line up', () => {
    assert.throws(() => generatedReads({ name: 'public.t', gen_relations: ['public.t'], gen_columns: [], gen_reads: ['x'] }), /do not line up/);
  });
});

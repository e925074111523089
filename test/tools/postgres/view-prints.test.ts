/**
 * The bookkeeping of view prints (view-prints.ts): what a call keeps of the definitions it used,
 * and how the catalog's answer is compared with it. The catalog query itself runs against a
 * real PostgreSQL in test/e2e/sql-view-redefined.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANGED_PRINT, notePrint, viewPrintsCheck, viewsChanged } from '../../../tools/postgres/view-prints.js';
import { byParts } from '../../../tools/postgres/view-reader.js';

test('a view met twice with one print keeps it; with two, or none, it never matches', () => {
  const prints = new Map<string, string>();
  notePrint(prints, 'public.v', 'a');
  notePrint(prints, 'public.v', 'a');
  notePrint(prints, 'public.w', 'b');
  notePrint(prints, 'public.w', 'c');
  notePrint(prints, 'public.x', null);
  assert.deepEqual([...prints], [['public.v', 'a'], ['public.w', CHANGED_PRINT], ['public.x', CHANGED_PRINT]]);
  notePrint(undefined, 'public.v', 'a'); // a call that keeps none: nothing to do
});

test('the check matches only when every view is found with the print the call used', () => {
  const prints = new Map([['public.v', 'a'], ['s.w', 'b']]);
  const check = viewPrintsCheck(prints, byParts);
  assert.deepEqual(check.values, [['public.v', 's.w'], ['public', 's'], ['v', 'w']]);
  prints.set('public.v', 'later'); // kept as it was when the check was made
  assert.equal(check.same([{ name: 'public.v', print: 'a' }, { name: 's.w', print: 'b' }]), true);
  assert.equal(check.same([{ name: 'public.v', print: 'a2' }, { name: 's.w', print: 'b' }]), false);
  assert.equal(check.same([{ name: 'public.v', print: 'a' }, { name: 's.w', print: null }]), false);
  assert.equal(check.same([{ name: 'public.v', print: 'a' }]), false);
});

test('the refusal is coded, names the views and rule, and says to ask again', () => {
  const e = viewsChanged(new Map([['public.v', 'a']]), true);
  assert.equal(e.code, 'WARDEN_DENIED');
  assert.match(e.message, /public\.v.*redefined meanwhile.*nothing was committed.*ask again/);
});

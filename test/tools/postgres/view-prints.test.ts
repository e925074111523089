/**
 * The bookkeeping of view prints (view-prints.ts): what a call keeps of the definitions it used,
 * and the refusal. The comparison with the catalog's answer is relation-prints.ts's (its test); the
 * catalog query itself runs against a real PostgreSQL in test/e2e/sql-view-redefined.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANGED_PRINT, notePrint, viewsChanged } from '../../../tools/postgres/view-prints.js';

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

test('the refusal is coded, names the views and rule, and says to ask again', () => {
  const e = viewsChanged(new Map([['public.v', 'a']]), true);
  assert.equal(e.code, 'WARDEN_DENIED');
  assert.match(e.message, /public\.v.*redefined meanwhile.*nothing was committed.*ask again/);
});

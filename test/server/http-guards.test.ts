import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../src/server/http-guards.js';

test('JSON nesting is measured outside strings, before parsing', () => {
  assert.equal(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3), false);
  assert.equal(jsonDepthExceeds('{"a":[1,{"b":[2]}]}', 3), true);
  assert.equal(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[[[[[' }), 2), false, 'brackets inside strings do not count');
  assert.equal(jsonDepthExceeds(JSON.stringify({ s: 'x\\"[[[[' }), 2), false, 'escaped quotes do not end the string');
  assert.equal(jsonDepthExceeds('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
  assert.equal(jsonDepthExceeds('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
});

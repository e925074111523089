/**
 * `version:` in a policy file: only 1 exists. A file that says `version: 2` was written for
 * another format and must not load under this one's rules (it loaded, silently, as any integer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { families } from '../../tools/index.js';

const conditions = families.flatMap((f) => f.conditions);
const load = (text: string) => compilePolicy(['/virtual/p.yaml'], conditions, { '/virtual/p.yaml': text });

test('version: 1 (or none) loads; any other version is refused at its line', () => {
  assert.equal(load('version: 1\nrules: []\n').rules.length, 0);
  assert.equal(load('rules: []\n').rules.length, 0);
  for (const v of ['2', '0', '-1']) {
    assert.throws(() => load(`rules: []\nversion: ${v}\n`), (e: Error) => /\/virtual\/p\.yaml:2: version: .*only version 1/.test(e.message), v);
  }
});

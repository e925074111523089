/**
 * tools/connection-types.ts lists each family's connection type for the commands that read
 * warden.yaml without loading the tools: it must be the families' own, in the same order, or a
 * config the server accepts would be refused by `warden transcripts` (or the other way round).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { families } from '../../tools/index.js';
import { connectionTypes } from '../../tools/connection-types.js';

test('connection-types.ts holds each family\'s own type, name and schema, in the registry\'s order', () => {
  assert.equal(connectionTypes.length, families.length);
  families.forEach((f, i) => {
    const c = connectionTypes[i]!;
    assert.equal(c.name, f.name);
    assert.equal(c.connectionType, f.connectionType);
    assert.equal(c.connectionSchema, f.connectionSchema, `${f.name}: the same schema object`);
  });
});

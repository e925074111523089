import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresConnectionSchema } from '../../../tools/postgres/config.js';
import { connectionDuration } from '../../../tools/shared/duration.js';

test('connection durations need a unit and must be above zero', () => {
  assert.equal(connectionDuration.parse('500ms'), 500);
  assert.equal(connectionDuration.parse('5s'), 5000);
  assert.equal(connectionDuration.parse('2m'), 120_000);
  for (const bad of [5000, 0, '0s', '00ms', '5', '5h', '-1s', '1.5s']) {
    assert.equal(connectionDuration.safeParse(bad).success, false, JSON.stringify(bad));
  }
  const bare = connectionDuration.safeParse(5000);
  assert.match(bare.error?.issues[0]?.message ?? '', /needs a unit: 5000ms, 5000s or 5000m/);
});

test('a postgres statement_timeout of 0s or a bare number does not load (0 would turn the timeout off)', () => {
  const base = { url: 'env:X' };
  assert.equal(postgresConnectionSchema.parse({ ...base, statement_timeout: '3s' }).statement_timeout, 3000);
  assert.equal(postgresConnectionSchema.parse(base).statement_timeout, 5000, 'the default stays');
  assert.equal(postgresConnectionSchema.safeParse({ ...base, statement_timeout: '0s' }).success, false);
  assert.equal(postgresConnectionSchema.safeParse({ ...base, statement_timeout: 5000 }).success, false);
});

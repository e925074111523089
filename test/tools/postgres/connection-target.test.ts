/**
 * The target digest an approval binds for a postgres connection (connection-target.ts): where the
 * URL reaches, never its password; an unreadable URL is refused with a coded error naming no part of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresTarget } from '../../../tools/postgres/connection-target.js';

test('the target changes with host, port, database, user and the libpq fallbacks, not with the password', () => {
  const base = postgresTarget('db', 'postgres://app:s3cret@staging.internal:5432/shop', {});
  assert.equal(postgresTarget('db', 'postgres://app:rotated@staging.internal:5432/shop', {}), base, 'a rotated password is the same target');
  assert.equal(postgresTarget('db', 'postgres://app@staging.internal:5432/shop?password=a', {}), postgresTarget('db', 'postgres://app@staging.internal:5432/shop?password=b', {}), 'nor one in the query string');
  for (const other of [
    'postgres://app:s3cret@prod.internal:5432/shop',
    'postgres://app:s3cret@staging.internal:5433/shop',
    'postgres://app:s3cret@staging.internal:5432/shop2',
    'postgres://admin:s3cret@staging.internal:5432/shop',
  ]) assert.notEqual(postgresTarget('db', other, {}), base, other);
  const hostless = 'postgres:///shop';
  assert.notEqual(postgresTarget('db', hostless, { PGHOST: 'staging' }), postgresTarget('db', hostless, { PGHOST: 'prod' }), 'PGHOST decides a host-less URL');
  assert.match(base, /^sha256:[0-9a-f]{64}$/);
  assert.ok(!base.includes('s3cret'));
});

test('a URL that does not parse is refused, coded, without quoting it', () => {
  assert.throws(
    () => postgresTarget('db', 'host=x password=hunter2', {}),
    (e: Error & { code?: string }) => e.code === 'WARDEN_CONFIG' && !e.message.includes('hunter2') && /connection db/.test(e.message),
  );
});

test('connect_timeout and application_name change no target: a harmless URL edit keeps pending approvals valid', () => {
  const base = postgresTarget('db', 'postgres://app:s3cret@staging.internal:5432/shop', {});
  for (const same of [
    'postgres://app:s3cret@staging.internal:5432/shop?connect_timeout=10',
    'postgres://app:s3cret@staging.internal:5432/shop?application_name=warden-shop',
    'postgres://app:s3cret@staging.internal:5432/shop?application_name=w&connect_timeout=3&password=x',
  ]) assert.equal(postgresTarget('db', same, {}), base, same);
  // With them, an edit of where it reaches still changes the target.
  for (const other of [
    'postgres://app:s3cret@prod.internal:5432/shop?connect_timeout=10',
    'postgres://app:s3cret@staging.internal:5433/shop?application_name=warden-shop',
    'postgres://app:s3cret@staging.internal:5432/shop2?connect_timeout=10',
    'postgres://admin:s3cret@staging.internal:5432/shop?application_name=warden-shop',
  ]) assert.notEqual(postgresTarget('db', other, {}), base, other);
});

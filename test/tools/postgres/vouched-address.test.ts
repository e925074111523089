/**
 * The address half of trusted_foreign_servers (vouched-servers.ts): a vouched server whose options
 * name the transcript store's host and port is refused; the store's address is read from its URL
 * as pg reads it (pgUrlAddress). The e2e half is test/e2e/sql-store-foreign.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgUrlAddress } from '../../../src/pg-url-params.js';
import { namesStore } from '../../../tools/postgres/vouched-servers.js';

test("the store's address as pg reads its URL: ?host= and ?port= over the authority, a socket or no host is the local machine, 5432 by default", () => {
  assert.deepEqual(pgUrlAddress('postgres://w:pw@DB.example.com:6543/warden'), { host: 'DB.example.com', port: 6543 });
  assert.deepEqual(pgUrlAddress('postgresql://w@db.example.com/warden'), { host: 'db.example.com', port: 5432 });
  assert.deepEqual(pgUrlAddress('postgres://w@db.example.com:5433/warden?host=other.example.com&port=7000'), { host: 'other.example.com', port: 7000 });
  assert.deepEqual(pgUrlAddress('postgres://w@/warden?host=/var/run/postgresql'), { host: '', port: 5432 });
  assert.equal(pgUrlAddress('/var/run/postgresql warden').host, '');
  assert.deepEqual(pgUrlAddress('postgres://w@base/warden'), { host: 'base', port: 5432 }, 'a host named like readPgUrl\'s base is still a host');
});

test('a server names the store when one of its hosts and one of its ports are the store URL\'s; loopback names and sockets are one place', () => {
  const store = { host: 'db.example.com', port: 5432 };
  assert.equal(namesStore(['host=db.example.com', 'dbname=warden'], store), true, 'port unset: 5432');
  assert.equal(namesStore(['host=DB.Example.com', 'port=5432'], store), true, 'host names compare without case');
  assert.equal(namesStore(['host=replica.example.com,db.example.com', 'port=5432'], store), true, 'one of a host list');
  assert.equal(namesStore(['host=replica.example.com', 'hostaddr=10.0.0.9,10.0.0.8'], { host: '10.0.0.8', port: 5432 }), true, 'a host address');
  assert.equal(namesStore(['host=db.example.com', 'port=5433'], store), false, 'another port');
  assert.equal(namesStore(['host=reports.example.com'], store), false, 'another host');
  assert.equal(namesStore(['host=db.example.com', 'port=x'], store), true, 'a port that is no number counts as any');
  const local = { host: '127.0.0.1', port: 6000 };
  for (const host of ['localhost', '127.0.0.2', '::1', '[::1]', '/tmp', '@abstract']) assert.equal(namesStore([`host=${host}`, 'port=6000'], local), true, host);
  assert.equal(namesStore(['port=6000'], local), true, 'no host: the local socket');
  assert.equal(namesStore(['hostaddr=10.1.1.1', 'port=6000'], local), false, 'a host address alone is where it connects');
  assert.equal(namesStore(['port=6000'], { host: '', port: 6000 }), true, "a store on the local socket");
});

/**
 * The address half of trusted_foreign_servers (vouched-servers.ts): a vouched server whose options
 * lead to the transcript store's host and port (resolved addresses) is refused; the store's address is read from its URL
 * as pg reads it (pgUrlAddress). The e2e half is test/e2e/sql-store-foreign.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgUrlAddress } from '../../../src/pg-url-params.js';
import { hostname, networkInterfaces } from 'node:os';
import { namesStore, storeSite } from '../../../tools/postgres/vouched-servers.js';

test("the store's address as pg reads its URL: ?host= and ?port= over the authority, a socket or no host is the local machine, 5432 by default", () => {
  assert.deepEqual(pgUrlAddress('postgres://w:pw@DB.example.com:6543/warden'), { host: 'DB.example.com', port: 6543 });
  assert.deepEqual(pgUrlAddress('postgresql://w@db.example.com/warden'), { host: 'db.example.com', port: 5432 });
  assert.deepEqual(pgUrlAddress('postgres://w@db.example.com:5433/warden?host=other.example.com&port=7000'), { host: 'other.example.com', port: 7000 });
  assert.deepEqual(pgUrlAddress('postgres://w@/warden?host=/var/run/postgresql'), { host: '', port: 5432 });
  assert.equal(pgUrlAddress('/var/run/postgresql warden').host, '');
  assert.deepEqual(pgUrlAddress('postgres://w@base/warden'), { host: 'base', port: 5432 }, 'a host named like readPgUrl\'s base is still a host');
});

test('a server names the store when one of its hosts resolves to the store\'s address and one of its ports is the store URL\'s', async () => {
  const site = await storeSite({ host: '10.0.0.8', port: 5432 }, '10.0.0.9');
  assert.ok(site);
  assert.deepEqual(await namesStore(['host=10.0.0.8', 'dbname=warden'], site), { found: 'store', host: '10.0.0.8' }, 'port unset: 5432');
  assert.ok(await namesStore(['host=10.0.0.7,10.0.0.8', 'port=5432'], site), 'one of a host list');
  assert.ok(await namesStore(['host=reports.invalid,other.invalid', 'hostaddr=10.0.0.9,10.0.0.8'], site), 'a host address (the host name then is only for TLS)');
  assert.ok(await namesStore(['host=reports.invalid,10.0.0.8', 'hostaddr=10.0.0.9,'], site), "an empty hostaddr entry: its host's");
  assert.ok(await namesStore(['host=::ffff:10.0.0.8'], site), 'an IPv4-mapped IPv6 address');
  assert.equal(await namesStore(['host=10.0.0.8', 'port=5433'], site), null, 'another port');
  assert.equal(await namesStore(['host=10.1.1.1'], site), null, 'another host');
  assert.ok(await namesStore(['host=10.0.0.8', 'port=x'], site), 'a port that is no number counts as any');
  assert.equal(await namesStore(['host=localhost'], site), null, "the connection's server (10.0.0.9) is not the store's machine: its loopback is not the store");
  const sameMachine = await storeSite({ host: '10.0.0.8', port: 5432 }, '10.0.0.8');
  assert.ok(sameMachine && (await namesStore(['host=localhost'], sameMachine)), "the connection's server on the store's machine: its loopback is the store's");
  assert.ok(await namesStore(['host=localhost'], { ...site, cluster: null }), "the connection's server unknown: its loopback counts as the store's");
  assert.deepEqual(await namesStore(['service=reports'], site), { found: 'store', host: 'service reports' }, 'a service file: where it leads is unknown');
  assert.deepEqual(await namesStore(['host=nowhere.invalid'], site), { found: 'unresolvable', host: 'nowhere.invalid' }, 'a name that resolves to nothing');
  assert.equal(await storeSite({ host: 'nowhere.invalid', port: 5432 }, '10.0.0.9'), null, "the store's own name resolves to nothing");
});

test('loopback, its spellings, the machine\'s own name and addresses, and sockets are one place; the port unset is 5432', async () => {
  const local = await storeSite({ host: '127.0.0.1', port: 6000 }, '127.0.0.1');
  assert.ok(local);
  const own = Object.values(networkInterfaces()).flatMap((xs) => xs ?? []).map((x) => x.address);
  const forms = ['localhost', '127.0.0.2', '127.1', '2130706433', '0x7f000001', '::1', '[::1]', '::ffff:127.0.0.1', '0.0.0.0', hostname(), ...own, '/tmp', '@abstract'];
  for (const host of forms) assert.ok(await namesStore([`host=${host}`, 'port=6000'], local), host);
  for (const host of ['127.1', '0.0.0.0']) assert.ok(await namesStore([`hostaddr=${host}`, 'port=6000'], local), `hostaddr ${host}`);
  assert.ok(await namesStore(['port=6000'], local), 'no host: the local socket');
  assert.equal(await namesStore(['hostaddr=10.1.1.1', 'port=6000'], local), null, 'a host address alone is where it connects');
  const socket = await storeSite({ host: '', port: 5432 }, '/var/run/postgresql');
  assert.ok(socket && (await namesStore(['host=localhost'], socket)), 'a store on the local socket, the port unset: 5432');
  assert.equal(await namesStore(['host=localhost'], local), null, 'the port unset is 5432, not 6000');
});

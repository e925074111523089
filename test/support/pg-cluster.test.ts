// Proves the test database helper gives each test an isolated database and a real
// password-checked login role, and that drop() leaves nothing behind.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { existsSync } from 'node:fs';
import { createTestDatabase, startPgCluster, testServerUrl, type TestDatabase } from './pg-cluster.js';

async function connectAs(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectAs(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

function withDatabase(url: string, dbName: string): string {
  const u = new URL(url);
  u.pathname = `/${dbName}`;
  return u.toString();
}

// Our own cluster enforces scram for non-superusers; an external WARDEN_TEST_PG_URL server may not.
const externalServer = process.env['WARDEN_TEST_PG_MANAGED'] !== '1' && Boolean(process.env['WARDEN_TEST_PG_URL']);

describe('createTestDatabase', () => {
  const created: TestDatabase[] = [];
  after(async () => {
    for (const db of created) await db.drop();
  });

  it('lets the login role connect with its password, seeing only what was granted', async () => {
    const db = await createTestDatabase({ prefix: 'support-pg' });
    created.push(db);
    assert.match(db.dbName, /^support_pg_[0-9a-f]{10}$/);

    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text)');
    await db.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')");

    await withClient(db.url, async (c) => {
      const who = await c.query<{ user: string; db: string; su: string }>(
        "SELECT current_user AS user, current_database() AS db, current_setting('is_superuser') AS su",
      );
      assert.deepEqual(who.rows[0], { user: db.role, db: db.dbName, su: 'off' });
      await assert.rejects(c.query('SELECT * FROM items'), /permission denied/);
    });

    await db.query(`GRANT SELECT ON items TO ${pg.escapeIdentifier(db.role)}`);
    await withClient(db.url, async (c) => {
      const rows = await c.query('SELECT name FROM items ORDER BY id');
      assert.deepEqual(rows.rows, [{ name: 'one' }, { name: 'two' }]);
      await assert.rejects(c.query("INSERT INTO items VALUES (3, 'three')"), /permission denied/);
      await assert.rejects(c.query('CREATE TABLE mine (x int)'), /permission denied/);
    });
  });

  it('refuses a wrong password', async (t) => {
    const db = await createTestDatabase();
    created.push(db);
    const wrong = withPassword(db.url, `${db.password}x`);
    if (externalServer) {
      const accepted = await withClient(wrong, async () => true).catch(() => false);
      if (accepted) {
        t.skip('server at WARDEN_TEST_PG_URL does not check passwords (trust auth)');
        return;
      }
    }
    await assert.rejects(connectAs(wrong), /password authentication failed/);
  });

  it('keeps two databases isolated from each other', async () => {
    const a = await createTestDatabase({ prefix: 'iso_a' });
    const b = await createTestDatabase({ prefix: 'iso_b' });
    created.push(a, b);
    assert.notEqual(a.dbName, b.dbName);
    assert.notEqual(a.role, b.role);

    await a.query("CREATE TABLE secret (v text); INSERT INTO secret VALUES ('a-only')");
    const inB = await b.query("SELECT to_regclass('public.secret') AS t");
    assert.equal(inB.rows[0]?.['t'], null);

    // a's role may not even connect to b's database.
    await assert.rejects(connectAs(withDatabase(a.url, b.dbName)), /permission denied for database/);
    await assert.rejects(connectAs(withDatabase(b.url, a.dbName)), /permission denied for database/);
  });

  it('drop() terminates connections and removes the database and the role', async () => {
    const db = await createTestDatabase({ prefix: 'dropme' });
    const open = await connectAs(db.url);
    open.on('error', () => undefined); // the backend is terminated under it
    await db.query('SELECT 1');

    await db.drop();
    await db.drop(); // idempotent

    const left = await withClient(await testServerUrl(), (c) =>
      c.query<{ dbs: string; roles: string }>(
        'SELECT (SELECT count(*) FROM pg_database WHERE datname = $1) AS dbs, (SELECT count(*) FROM pg_roles WHERE rolname = $2) AS roles',
        [db.dbName, db.role],
      ),
    );
    assert.deepEqual(left.rows[0], { dbs: '0', roles: '0' });
    await assert.rejects(open.query('SELECT 1'));
    await open.end().catch(() => undefined);
    assert.throws(() => db.admin(), /was dropped/);
  });
});

describe('startPgCluster', () => {
  it('starts a loopback-only cluster quickly and stop() removes every file', async () => {
    const t0 = Date.now();
    const cluster = await startPgCluster();
    const elapsed = Date.now() - t0;
    try {
      assert.ok(elapsed < 30_000, `cluster took ${elapsed} ms to start`);
      assert.match(cluster.url, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      const settings = await withClient(cluster.url, (c) =>
        c.query<{ name: string; setting: string }>(
          "SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'fsync', 'port', 'password_encryption') ORDER BY name",
        ),
      );
      assert.deepEqual(settings.rows, [
        { name: 'fsync', setting: 'off' },
        { name: 'listen_addresses', setting: '127.0.0.1' },
        { name: 'password_encryption', setting: 'scram-sha-256' },
        { name: 'port', setting: String(cluster.port) },
      ]);
      assert.ok(existsSync(cluster.dir));
    } finally {
      await cluster.stop();
    }
    assert.equal(existsSync(cluster.dir), false);
    await assert.rejects(connectAs(cluster.url));
  });
});

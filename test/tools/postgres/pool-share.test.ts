/**
 * One principal may not hold a whole pool: without a share per principal, slow reads from one
 * principal took every session of a connection's read pool and every other principal's call
 * waited for a session (and failed when the pool's wait ran out). Against a real PostgreSQL:
 * principal A's reads block on a lock the test holds; A fills its share (pool_size - 1 by
 * default) and more; principal B's read is answered while A's still wait on the lock, and A's
 * extra call waits in A's own queue and runs once A's first ones end. Ordered by events: the
 * lock is released only after B has its answer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnector, type RunOptions } from '../../../tools/postgres/connector.js';
import { postgresConnectionSchema, type PostgresConnection } from '../../../tools/postgres/config.js';
import { PoolShares } from '../../../tools/postgres/pool-shares.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { lockWaiters } from '../../support/http-warden.js';

const conn = (url: string, extra: Partial<PostgresConnection> = {}): PostgresConnection => ({
  name: 'db',
  type: 'postgres',
  url,
  statement_timeout: 30_000,
  max_rows: 10,
  max_bytes: 65536,
  pool_size: 3,
  ...extra,
});

let db: TestDatabase;
const connectors: PgConnector[] = [];

before(async () => {
  db = await createTestDatabase({ prefix: 'poolshare' });
  await db.query('CREATE TABLE locked (v int); INSERT INTO locked VALUES (1)');
  await db.query('CREATE TABLE free (v int); INSERT INTO free VALUES (2)');
  await db.query('CREATE VIEW locked_view AS SELECT v FROM locked');
  await db.query(`GRANT SELECT ON locked, free, locked_view TO ${db.role}`);
});

after(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await db?.drop();
});

const read = (principal: string): RunOptions => ({ readOnly: true, maxRows: 10, timeoutMs: 30_000, principal });

/** Until `n` sessions of the test role wait on a lock (A's reads behind the test's lock); fails if a call in `calls` settles first. */
async function untilLockWaiters(n: number, calls: Promise<unknown>[]): Promise<void> {
  let settled: unknown = null;
  for (const c of calls) c.then((v) => (settled ??= v), (e: unknown) => (settled ??= e));
  for (;;) {
    if (settled !== null) assert.fail(`a read behind the lock ended before ${n} waited: ${String((settled as Error).message ?? settled)}`);
    if ((await lockWaiters(db)) >= n) return;
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const client = await db.admin().connect();
  try {
    await client.query('BEGIN');
    await client.query('LOCK TABLE locked IN ACCESS EXCLUSIVE MODE');
    try {
      return await fn();
    } finally {
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

test('principal B is answered while principal A holds its share of the pool with slow reads; A\'s extra call waits its turn', async () => {
  const connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
  connectors.push(connector);
  const events: string[] = [];
  const aCalls: Promise<unknown>[] = [];
  await withLock(async () => {
    for (let i = 1; i <= 3; i++) {
      aCalls.push(
        connector.run('SELECT v FROM public.locked', [], read('oidc:alice')).then(
          (r) => events.push(`A${i} ${r.rows.length}`),
          (e: Error) => events.push(`A${i} failed ${e.message}`),
        ),
      );
    }
    // Two of A's reads (its share of 3) wait on the lock in PostgreSQL.
    await untilLockWaiters(2, aCalls);
    const b = await connector.run('SELECT v FROM public.free', [], read('oidc:bob')).then(
      (r) => r,
      (e: Error & { code?: string }) => assert.fail(`B was not served while A held the pool: ${e.code} ${e.message}`),
    );
    assert.deepEqual(b.rows, [[2]]);
    events.push('B answered');
  });
  await Promise.all(aCalls);
  assert.equal(events[0], 'B answered', events.join('; '));
  assert.deepEqual(events.slice(1).sort(), ['A1 1', 'A2 1', 'A3 1'], 'A\'s calls all ran, the third after one of its first two');
});

test('max_per_principal is a connection setting, never above pool_size', () => {
  const parse = (o: Record<string, unknown>) => postgresConnectionSchema.safeParse({ url: 'env:DB', ...o });
  const ok = (o: Record<string, unknown>) => {
    const r = parse(o);
    assert.ok(r.success, JSON.stringify(r.error?.issues));
    return (r.data as { max_per_principal?: number }).max_per_principal;
  };
  assert.equal(ok({}), undefined, 'absent: the connector takes pool_size - 1');
  assert.equal(ok({ pool_size: 10, max_per_principal: 3 }), 3);
  const over = parse({ pool_size: 2, max_per_principal: 3 });
  assert.equal(over.success, false);
  assert.match(JSON.stringify(over.error?.issues), /max_per_principal/);
});

test('past its share and the pool wait, a principal\'s call is refused (WARDEN_RATE_LIMITED), and others still run', async () => {
  // connect_timeout=1 in the URL: the pool's wait is 1 s.
  const connector = new PgConnector(conn('env:DB', { pool_size: 2, max_per_principal: 1 }), { resolve: async () => `${db.url}?connect_timeout=1` });
  connectors.push(connector);
  let first!: ReturnType<PgConnector['run']>;
  await withLock(async () => {
    first = connector.run('SELECT v FROM public.locked', [], read('oidc:alice'));
    first.catch(() => undefined);
    await untilLockWaiters(1, [first]);
    await assert.rejects(connector.run('SELECT v FROM public.free', [], read('oidc:alice')), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_RATE_LIMITED', e.message);
      assert.match(e.message, /max_per_principal: 1/);
      assert.ok(!e.message.includes(db.password), e.message);
      return true;
    });
    assert.deepEqual((await connector.run('SELECT v FROM public.free', [], read('oidc:bob'))).rows, [[2]]);
  });
  assert.deepEqual((await first).rows, [[1]], 'A\'s first read ran once the lock was released');
});

test('a call waiting in its principal\'s queue leaves it at once when cancelled; a release hands the slot on; no state outlives its use', async () => {
  const shares = new PoolShares(1, "connection db's read pool");
  const first = await shares.acquire('oidc:alice', 60_000);
  const ac = new AbortController();
  const cancelled = shares.acquire('oidc:alice', 60_000, ac.signal);
  const next = shares.acquire('oidc:alice', 60_000);
  const other = await shares.acquire('oidc:bob', 60_000); // another principal passes the queue
  ac.abort();
  await assert.rejects(cancelled, (e: Error & { code?: string }) => e.code === 'WARDEN_CANCELLED');
  first();
  first(); // a second release is a no-op
  const handed = await next;
  handed();
  other();
  assert.equal(shares.principals(), 0);
});

test('a catalog lookup takes a session of its caller\'s share; a cancelled waiting lookup frees nothing it did not take', async () => {
  // connect_timeout=1 in the URL: the pool's wait is 1 s. pool_size 2, max_per_principal 1.
  const connector = new PgConnector(conn('env:DB', { pool_size: 2, max_per_principal: 1 }), { resolve: async () => `${db.url}?connect_timeout=1` });
  connectors.push(connector);
  const alice = { principal: 'oidc:alice' };
  let first!: ReturnType<PgConnector['views']['reached']>;
  await withLock(async () => {
    // The view's definition (pg_get_viewdef) waits on the lock: alice's one slot is held by the lookup.
    first = connector.views.reached(['public.locked_view'], alice);
    first.catch(() => undefined);
    await untilLockWaiters(1, [first]);
    const ac = new AbortController();
    const cancelled = connector.views.reached(['public.free'], { ...alice, signal: ac.signal });
    await new Promise((r) => setImmediate(r)); // it waits in alice's queue (the pool is open: no other wait)
    ac.abort();
    await assert.rejects(cancelled, (e: Error & { code?: string }) => e.code === 'WARDEN_CANCELLED' && /while it waited for a session/.test(e.message));
    // The cancel gave back nothing: alice's statement still finds her share held by the lookup.
    await assert.rejects(connector.run('SELECT v FROM public.free', [], read('oidc:alice')), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_RATE_LIMITED', e.message);
      assert.match(e.message, /max_per_principal: 1/);
      return true;
    });
    // Another principal's lookup and statement run beside it.
    assert.ok((await connector.views.reached(['public.free'], { principal: 'oidc:bob' })).relations.has('public.free'));
    assert.deepEqual((await connector.run('SELECT v FROM public.free', [], read('oidc:bob'))).rows, [[2]]);
  });
  assert.deepEqual([...(await first).views], ['public.locked_view'], 'alice\'s lookup ran once the lock was released');
  // Then her statement runs on her share again (the lookup gave its slot back), and no share state is left.
  assert.deepEqual((await connector.run('SELECT v FROM public.locked_view', [], read('oidc:alice'))).rows, [[1]]);
  const shares = (connector as unknown as { shares: { ro: PoolShares } }).shares.ro;
  while (shares.principals() > 0) await new Promise((r) => setTimeout(r, 10)); // a statement's slot is back once its session is reset
});

test('a lookup after its call\'s statement ran (Caller.ran) waits for its share as long as it takes, never refused', async () => {
  const connector = new PgConnector(conn('env:DB', { pool_size: 2, max_per_principal: 1 }), { resolve: async () => `${db.url}?connect_timeout=1` });
  connectors.push(connector);
  const oid = Number((await db.query<{ oid: string }>(`SELECT 'public.free'::regclass::oid AS oid`)).rows[0]!.oid);
  let held!: Promise<unknown>;
  let after!: ReturnType<PgConnector['fieldOrigin']>;
  let settled = false;
  await withLock(async () => {
    // Alice's share is held by her statement waiting on the lock.
    held = connector.run('SELECT v FROM public.locked', [], read('oidc:alice'));
    held.catch(() => undefined);
    await untilLockWaiters(1, [held]);
    // The origin of a result field, asked after another call's statement ran: it waits in her queue...
    after = connector.fieldOrigin(oid, 1, undefined, { principal: 'oidc:alice', ran: true });
    after.then(() => (settled = true), () => (settled = true));
    // ...past the pool's wait (1 s): a lookup queued behind it is refused at that wait, it is not.
    await assert.rejects(connector.checkQualifiedColumns([{ table: 'public.free', column: 'v' }], { principal: 'oidc:alice' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_RATE_LIMITED', e.message);
      return true;
    });
    assert.equal(settled, false, 'the lookup after the statement was not refused at the pool\'s wait');
  });
  assert.deepEqual((await held as { rows: unknown[] }).rows, [[1]]);
  assert.deepEqual(await after, { relation: 'public.free', column: 'v', relkind: 'r' }, 'answered once her statement ended');
});
